"""Side-by-side training benchmark: spikingtorch vs snnTorch, Norse, SpikingJelly and the ANN limit.

Each framework runs in its own persistent worker process (``_worker.py``), so peak RSS is its
own and no allocator or thread pool is shared. After setup, a forward-equivalence probe and a
warm-up, the coordinator runs *interleaved rounds*: in each round every worker does exactly one
step, one worker at a time, in a fresh (seeded) order every round, with a short gap between
steps. Training rounds come first (forward + backward + Adam), then no-grad forward rounds.
Ratios are medians over rounds of per-round ratios, which cancels the slow drifts of a shared
machine.

Examples (from the repository root; ``bash benchmarks/setup_peers.sh`` creates the workers'
interpreter, ``benchmarks/.venv-peers``)::

    python benchmarks/bench_train.py --net A --T 8 --neuron lif --rounds 20
    python benchmarks/bench_train.py --all --with-if --out results/run.json --markdown
    python benchmarks/bench_train.py --net B --T 32 --frameworks ann,ann_steps,st_step,st_seq \\
        --st-seq-kwargs '{"chunk": "auto"}' --st-seq-variant 'c4={"chunk": 4}'
    python benchmarks/bench_train.py --report results/run.json   # re-render saved results

The coordinator itself needs only the standard library; ``--python`` picks the workers'
interpreter (default: ``benchmarks/.venv-peers/bin/python`` when it exists).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _coordinator import Config, ConfigRun, progress
from _names import ALIASES, DEFAULT_FRAMEWORKS, FRAMEWORKS
from _report import config_heading, config_table, summary_tables, text_table

HERE = Path(__file__).resolve().parent
PEERS_PYTHON = HERE / ".venv-peers" / "bin" / "python"
#: ``--all``: the four issue configurations (``--with-if`` adds the IF variants).
ALL_CONFIGS = (("A", 8), ("A", 32), ("B", 8), ("B", 32))


# -- command line -------------------------------------------------------------------------------
def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError('must be a JSON object, e.g. \'{"chunk": "auto"}\'')
    return value


def _variant(text: str) -> tuple[str, dict[str, Any]]:
    label, sep, body = text.partition("=")
    if not sep or not label.isidentifier():
        raise argparse.ArgumentTypeError("expected LABEL=JSON, e.g. 'c4={\"chunk\": 4}'")
    return label, _json_object(body)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse and validate the command line."""
    aliases = ", ".join(f"{alias}={name}" for alias, name in ALIASES.items())
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        epilog=f"Frameworks: {', '.join(FRAMEWORKS)} (aliases: {aliases}). "
        "Relative --out and --report paths are taken relative to benchmarks/.",
    )
    parser.add_argument("--net", default="A", help="A (seed conv net), B (MLP), or a list: A,B")
    parser.add_argument("--T", dest="steps", default="8", help="time steps, or a list: 8,32")
    parser.add_argument("--neuron", default="lif", help="lif, if, or a list: lif,if")
    parser.add_argument(
        "--all", action="store_true", help="the four configurations A/B x T 8/32 with lif"
    )
    parser.add_argument("--with-if", action="store_true", help="with --all: add the IF variants")
    parser.add_argument(
        "--frameworks",
        default=",".join(DEFAULT_FRAMEWORKS),
        help="comma-separated ids, or 'all'",
    )
    parser.add_argument("--rounds", type=int, default=20, help="interleaved rounds per phase")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up steps per phase")
    parser.add_argument(
        "--train-memory",
        action="store_true",
        help="also measure the peak RSS of training alone, in a fresh worker per framework",
    )
    parser.add_argument(
        "--gap-ms",
        type=float,
        default=20.0,
        help="pause after each step (lets OpenMP threads park)",
    )
    parser.add_argument(
        "--order",
        choices=("shuffle", "rotate"),
        default="shuffle",
        help="workers' order in each round: a fresh seeded shuffle (default), or rotated by one",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads per worker")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--device",
        default="cpu",
        help="where every worker trains: cpu, cuda, cuda:N (timing waits for the GPU per step)",
    )
    parser.add_argument(
        "--python",
        default=None,
        help="workers' interpreter: a path or 'current' (default: "
        "benchmarks/.venv-peers/bin/python if it exists, else this one)",
    )
    parser.add_argument(
        "--st-seq-kwargs",
        type=_json_object,
        default={},
        help="extra SpikingNet keywords for st_seq, as JSON",
    )
    parser.add_argument(
        "--st-seq-variant",
        type=_variant,
        action="append",
        default=[],
        metavar="LABEL=JSON",
        help="add a worker 'st_seq:LABEL' with these extra SpikingNet keywords (repeatable)",
    )
    parser.add_argument("--out", type=Path, help="save all results as JSON")
    parser.add_argument("--markdown", action="store_true", help="print markdown tables")
    parser.add_argument(
        "--report",
        type=Path,
        metavar="JSON",
        help="print the tables of a saved run and exit (no benchmark)",
    )
    args = parser.parse_args(argv)

    if args.rounds < 1 or args.warmup < 1 or args.threads < 1:
        parser.error("--rounds, --warmup and --threads must be >= 1")
    if args.python in (None, ""):
        args.python = str(PEERS_PYTHON) if PEERS_PYTHON.exists() else sys.executable
    elif args.python == "current":
        args.python = sys.executable
    else:  # absolute, but keep a venv's bin/python symlink (resolving it would leave the venv)
        found = args.python if os.sep in args.python else shutil.which(args.python)
        if found is None or not Path(found).exists():
            parser.error(f"--python {args.python!r} not found")
        args.python = os.path.abspath(found)

    names = list(FRAMEWORKS) if args.frameworks == "all" else _csv(args.frameworks)
    variants = dict(args.st_seq_variant)
    frameworks: list[str] = []
    for raw in names:
        name = ALIASES.get(raw, raw)
        base, _, label = name.partition(":")
        if base not in FRAMEWORKS or (label and (base != "st_seq" or label not in variants)):
            parser.error(
                f"unknown framework {raw!r}; known: {', '.join(FRAMEWORKS)} "
                "and st_seq:LABEL for each --st-seq-variant LABEL"
            )
        if name not in frameworks:
            frameworks.append(name)
    for label in variants:  # variants follow st_seq (or close the list)
        name = f"st_seq:{label}"
        if name not in frameworks:
            after = frameworks.index("st_seq") + 1 if "st_seq" in frameworks else len(frameworks)
            while after < len(frameworks) and frameworks[after].startswith("st_seq:"):
                after += 1
            frameworks.insert(after, name)
    args.framework_list = frameworks
    args.st_seq_variants = {"st_seq": args.st_seq_kwargs}
    args.st_seq_variants.update({f"st_seq:{label}": kw for label, kw in variants.items()})

    try:
        if args.all:
            neurons = ["lif", "if"] if args.with_if else ["lif"]
            combos = [(n, t, neuron) for n, t in ALL_CONFIGS for neuron in neurons]
        else:
            combos = list(
                itertools.product(_csv(args.net), map(int, _csv(args.steps)), _csv(args.neuron))
            )
    except ValueError:
        parser.error("--T takes integers")
    for net, steps, neuron in combos:
        if net not in ("A", "B") or neuron not in ("lif", "if") or steps < 1:
            parser.error(f"bad configuration: net={net} T={steps} neuron={neuron}")
    if re.fullmatch(r"cpu|cuda(:\d+)?", args.device) is None:
        parser.error(f"--device must be cpu, cuda or cuda:N, got {args.device!r}")
    args.configs = [
        Config(n, t, nr, batch=args.batch, seed=args.seed, device=args.device)
        for n, t, nr in combos
    ]
    if args.out is not None and not args.out.is_absolute():
        args.out = HERE / args.out
    return args


def _print_results(results: list[dict[str, Any]], markdown: bool) -> None:
    for result in results:
        if markdown:
            print(config_heading(result), config_table(result), sep="\n\n", end="\n\n")
        else:
            print(f"== {result['title']} ({result['rounds']} rounds, {result['elapsed_s']:.0f} s)")
            print(text_table(result), end="\n\n")
    if markdown and results:
        print("## Summary\n")
        print(summary_tables(results))


def _save(path: Path, args: argparse.Namespace, results: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "command": sys.argv,
        "python": args.python,
        "cpu_count": os.cpu_count(),
        "results": results,
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(document, indent=1))
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or ``--report`` a saved one); returns the exit status."""
    args = parse_args(argv)
    if args.report is not None:
        path = args.report if args.report.is_absolute() or args.report.exists() else None
        saved = json.loads((path or HERE / args.report).read_text())
        _print_results(saved["results"], markdown=True)
        return 0

    if Path(args.python) != PEERS_PYTHON:
        progress(f"workers use {args.python} (peers venv: bash benchmarks/setup_peers.sh)")
    log_dir = Path(tempfile.mkdtemp(prefix="bench_train_logs_"))
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    problems = False
    for config in args.configs:
        progress(f"{config.title}: {', '.join(args.framework_list)}")
        result = ConfigRun(config, args.framework_list, args, log_dir).run()
        results.append(result)
        problems |= any(fw["status"] != "ok" for fw in result["frameworks"].values())
        if args.out is not None:
            _save(args.out, args, results)  # after each configuration: partial runs survive
    _print_results(results, args.markdown)
    progress(
        f"total {time.perf_counter() - started:.0f} s"
        + (f"; saved {args.out}" if args.out is not None else "")
    )
    if problems:
        progress(f"worker logs kept in {log_dir}")
    else:
        shutil.rmtree(log_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
