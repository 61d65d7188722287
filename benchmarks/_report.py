"""Statistics and tables for ``bench_train.py`` results (standard library only).

A configuration's result is the JSON-able dict that ``bench_train.ConfigRun.run`` returns; its
``"frameworks"`` maps a framework id to what its worker measured: ``status`` (``"ok"``, ``"not
run"`` or ``"failed"``), ``reason``, ``version``, ``train_ms`` / ``infer_ms`` (one entry per round,
``None`` where the worker had already failed), ``first_train_ms`` / ``first_infer_ms``,
``rss_setup_mb`` / ``rss_peak_mb`` and ``probe``. :func:`compute_stats` derives the reported
numbers from those; the tables render them.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from _names import ANN, PEERS

__all__ = [
    "compute_stats",
    "config_heading",
    "config_table",
    "summary_tables",
    "text_table",
]


Rounds = Sequence[float | None]


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _ann_limit(fws: dict[str, Any], kind: str) -> list[float | None]:
    """Per round: the faster of ``ann`` and ``ann_steps`` (whichever ran)."""
    series = [fws[a][f"{kind}_ms"] for a in ANN if fws.get(a, {}).get("status") == "ok"]
    if not series:
        return []
    limit: list[float | None] = []
    for values in zip(*series, strict=True):
        present = [v for v in values if v is not None]
        limit.append(min(present) if present else None)
    return limit


def _ratio_median(values: Rounds, reference: Rounds) -> float | None:
    """Median over rounds of ``values[r] / reference[r]`` (rounds where both exist)."""
    ratios = [
        v / r for v, r in zip(values, reference, strict=False) if v is not None and r is not None
    ]
    return _median(ratios)


def _spread(values: Rounds) -> dict[str, float | None]:
    present = [v for v in values if v is not None]
    return {
        "median": _median(present),
        "min": min(present) if present else None,
        "max": max(present) if present else None,
    }


def _check(probe: dict[str, Any] | None, reference: dict[str, Any] | None) -> dict[str, Any]:
    """Compare a probe with the reference's: % of samples with identical output counts."""
    if not probe or not probe.get("layer_spikes"):
        return {"status": "n/a"}
    out = {
        "output_spikes": sum(map(sum, probe["counts"])),
        "layer_spikes": probe["layer_spikes"],
    }
    if reference is None:
        return {"status": "no reference", **out}
    rows, ref_rows = probe["counts"], reference["counts"]
    same = sum(a == b for a, b in zip(rows, ref_rows, strict=True))
    diff = max(
        abs(a - b)
        for ra, rb in zip(rows, ref_rows, strict=True)
        for a, b in zip(ra, rb, strict=True)
    )
    return {
        "status": "ok",
        "identical_pct": 100.0 * same / len(rows),
        "max_abs_diff": diff,
        "layers_equal": probe["layer_spikes"] == reference["layer_spikes"],
        **out,
    }


def compute_stats(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per framework: medians, spreads, ratios to the ANN limit and fastest peer, the check."""
    fws: dict[str, Any] = result["frameworks"]
    ok = [name for name, fw in fws.items() if fw["status"] == "ok"]
    limits = {kind: _ann_limit(fws, kind) for kind in ("train", "infer")}
    anns = {kind: fws["ann"][f"{kind}_ms"] if "ann" in ok else [] for kind in ("train", "infer")}
    peers: dict[str, str | None] = {}
    for kind in ("train", "infer"):
        medians = {
            n: _median([v for v in fws[n][f"{kind}_ms"] if v is not None]) for n in ok if n in PEERS
        }
        ranked = sorted((m, n) for n, m in medians.items() if m is not None)
        peers[kind] = ranked[0][1] if ranked else None
    reference_name = result.get("reference")
    reference = fws[reference_name].get("probe") if reference_name in ok else None

    stats: dict[str, dict[str, Any]] = {}
    for name, fw in fws.items():
        if fw["status"] != "ok":
            stats[name] = {"status": fw["status"], "reason": fw.get("reason", "")}
            continue
        entry: dict[str, Any] = {"status": "ok"}
        for kind in ("train", "infer"):
            values = fw[f"{kind}_ms"]
            peer = peers[kind]
            entry[kind] = {
                **_spread(values),
                "x_ann_limit": _ratio_median(values, limits[kind]) if limits[kind] else None,
                "x_ann": _ratio_median(values, anns[kind]) if anns[kind] else None,
                "x_fastest_peer": _ratio_median(values, fws[peer][f"{kind}_ms"]) if peer else None,
                "fastest_peer": peer,
            }
        entry["check"] = _check(fw.get("probe"), reference)
        stats[name] = entry
    return stats


# -- formatting ---------------------------------------------------------------------------------
def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _ms(spread: dict[str, float | None]) -> str:
    digits = 1 if (spread["median"] or 0) < 100 else 0
    return (
        f"{_num(spread['median'], digits)} "
        f"({_num(spread['min'], digits)}-{_num(spread['max'], digits)})"
    )


def _check_text(check: dict[str, Any], name: str, reference: str | None) -> str:
    if check["status"] == "n/a":
        return "n/a (no spikes)"
    if check["status"] == "no reference":
        return f"no reference; {check['output_spikes']} output spikes"
    if name == reference:
        return "reference: " + " / ".join(map(str, check["layer_spikes"]))
    layers = "layers equal" if check["layers_equal"] else "layers differ"
    if check["identical_pct"] == 100.0:
        return f"100% identical, {layers}"
    return f"{check['identical_pct']:.1f}% identical (max diff {check['max_abs_diff']}), {layers}"


def config_heading(result: dict[str, Any]) -> str:
    """Markdown heading and one line of run facts for one configuration."""
    work = result["workload"]
    stats = result["stats"]
    peer = next((s["train"]["fastest_peer"] for s in stats.values() if s["status"] == "ok"), None)
    facts = [
        f"{result['rounds']} interleaved rounds (train, then no-grad)",
        f"warm-up: {result['warmup']} steps per phase",
        f"torch threads per worker: {result['threads']}",
        f"device: {work.get('device', 'cpu')}",
        f"started {result['started']}, took {result['elapsed_s']:.0f} s",
    ]
    notes = [
        "ANN limit = per-round min(ann, ann_steps)",
        f"fastest peer (train) = {peer or '-'}",
        f"forward check vs {result.get('reference') or '-'}",
    ]
    return (
        f"### Net {work['net']}, T={work['steps']}, batch={work['batch']}, "
        f"neuron={work['neuron']} (reset=zero)\n\n"
        + ", ".join(facts)
        + ". "
        + "; ".join(notes)
        + "."
    )


def config_table(result: dict[str, Any]) -> str:
    """The markdown table of one configuration (one row per framework)."""
    header = (
        "| framework | version | train ms median (min-max) | **train x ANN limit** "
        "| train x fastest peer | no-grad ms median (min-max) | no-grad x ANN limit "
        "| first train / no-grad ms | peak RSS MB (after setup) | peak RSS MB, training alone "
        "| forward check |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [header]
    for name, fw in result["frameworks"].items():
        stat = result["stats"][name]
        if stat["status"] != "ok":
            lines.append(f"| {name} | {stat['status']}: {stat['reason']} |" + " |" * 9)
            continue
        train, infer = stat["train"], stat["infer"]
        lines.append(
            f"| {name} | {fw['version']} | {_ms(train)} | **{_num(train['x_ann_limit'])}** "
            f"| {_num(train['x_fastest_peer'])} | {_ms(infer)} | {_num(infer['x_ann_limit'])} "
            f"| {_num(fw['first_train_ms'], 0)} / {_num(fw['first_infer_ms'], 0)} "
            f"| {_num(fw['rss_peak_mb'], 0)} ({_num(fw['rss_setup_mb'], 0)}) "
            f"| {_num(fw.get('rss_train_mb'), 0)} "
            f"| {_check_text(stat['check'], name, result.get('reference'))} |"
        )
    return "\n".join(lines)


#: (caption, "train" | "infer", statistic, decimals) of each summary table.
_SUMMARIES = (
    (
        "train step, x ANN limit (median of per-round ratios to min(ann, ann_steps))",
        "train",
        "x_ann_limit",
        2,
    ),
    ("no-grad forward, x ANN limit", "infer", "x_ann_limit", 2),
    ("train step, x fastest peer", "train", "x_fastest_peer", 2),
    ("train step, median ms", "train", "median", 0),
)


def summary_tables(results: Sequence[dict[str, Any]]) -> str:
    """Markdown summary tables: rows are frameworks, columns are configurations."""
    names: list[str] = []
    for result in results:
        names += [n for n in result["frameworks"] if n not in names]
    titles = [r["title"] for r in results]
    blocks = []
    for caption, kind, key, digits in _SUMMARIES:
        lines = [
            f"**{caption}**",
            "",
            "| framework | " + " | ".join(titles) + " |",
            "|---|" + "---|" * len(titles),
        ]
        for name in names:
            cells = []
            for result in results:
                stat = result["stats"].get(name)
                if stat is None or stat["status"] != "ok":
                    cells.append("-" if stat is None else stat["status"])
                else:
                    cells.append(_num(stat[kind][key], digits))
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        blocks.append("\n".join(lines))
    for caption, field in (
        ("peak RSS MB, training alone (fresh worker)", "rss_train_mb"),
        ("peak RSS MB, whole worker (probe, training and no-grad rounds)", "rss_peak_mb"),
    ):
        if not any(fw.get(field) is not None for r in results for fw in r["frameworks"].values()):
            continue
        lines = [
            f"**{caption}**",
            "",
            "| framework | " + " | ".join(titles) + " |",
            "|---|" + "---|" * len(titles),
        ]
        for name in names:
            cells = [_num(r["frameworks"].get(name, {}).get(field), 0) for r in results]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def text_table(result: dict[str, Any]) -> str:
    """A compact plain-text table of one configuration for the terminal."""
    header = ("framework", "train ms", "x ANN lim", "x peer", "no-grad ms", "x ANN lim")
    rows: list[tuple[str, ...]] = [(*header, "RSS MB", "forward check")]
    notes: list[str] = []
    for name, fw in result["frameworks"].items():
        stat = result["stats"][name]
        if stat["status"] != "ok":
            notes.append(f"{name}: {stat['status']}: {stat['reason']}")
            continue
        train, infer = stat["train"], stat["infer"]
        rows.append(
            (
                name,
                _num(train["median"], 1),
                _num(train["x_ann_limit"]),
                _num(train["x_fastest_peer"]),
                _num(infer["median"], 1),
                _num(infer["x_ann_limit"]),
                _num(fw["rss_peak_mb"], 0),
                _check_text(stat["check"], name, result.get("reference")),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(f"{c:<{w}}" for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines + notes)
