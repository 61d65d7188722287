"""The ``spikingtorch`` command line (``python -m spikingtorch`` runs the same).

Commands:

* ``list-plugins`` — the installed plugins, their status and what they provide. It never
  crashes because of a plugin: failures are reported (warnings on stderr, data on stdout).

Importing this module does not import torch.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from typing import Any

import click

from spikingtorch import __version__
from spikingtorch.plugins import loader
from spikingtorch.registry import CORE_DISTRIBUTION, KINDS, Conflict, Entry

JSON_SCHEMA_VERSION = 1
_PROBLEM_STATUSES = ("error", "duplicate")
_STATUS_ORDER = ("ok", "local", "error", "duplicate", "disabled")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="spikingtorch")
def cli() -> None:
    """Train spiking neural networks with PyTorch."""


@cli.command("list-plugins")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option(
    "--check", is_flag=True, help="Exit with status 1 if any plugin is broken or a duplicate."
)
@click.option("--verbose", "-v", is_flag=True, help="Show distributions, modules and tracebacks.")
def list_plugins(as_json: bool, check: bool, verbose: bool) -> None:
    """List the installed spikingtorch plugins and what they provide."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", loader.PluginWarning)  # even under -W error: never crash
        try:
            host = loader.get_plugin_host()
            records = host.records()
            conflicts = host.conflicts()
            builtin = host.builtin()
            components = {kind: host.registry(kind).entries() for kind in KINDS}
        except Exception as exc:  # strict mode re-raises plugin failures
            _echo_warnings(caught, [], [])
            message = f"error: loading spikingtorch plugins failed: {type(exc).__name__}: {exc}"
            if not verbose:
                message += " (use --verbose for the traceback)"
            click.echo(message, err=True)
            if verbose:
                import traceback

                click.echo("".join(traceback.format_exception(exc)), err=True, nl=False)
            raise click.exceptions.Exit(1) from None
    _echo_warnings(caught, host.notices, records)
    if as_json:
        document = {
            "schema": JSON_SCHEMA_VERSION,
            "core_version": __version__,
            "plugins": [r.to_dict(include_traceback=verbose) for r in records],
            "conflicts": [
                {"kind": c.kind, "name": c.name, "providers": list(c.providers)} for c in conflicts
            ],
            "builtin": {"name": CORE_DISTRIBUTION, "version": __version__, "provides": builtin},
            "components": {
                kind: [
                    {
                        "name": e.name,
                        "provider": e.provider,
                        "qualified_name": e.qualified_name,
                        "aliases": list(e.aliases),
                        "summary": e.summary,
                    }
                    for e in entries
                ]
                for kind, entries in components.items()
            },
        }
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(_format_table(records, conflicts, builtin, verbose=verbose))
        click.echo(_format_components(components))
    if check and any(r.status in _PROBLEM_STATUSES for r in records):
        raise click.exceptions.Exit(1)


def _echo_warnings(
    caught: list[warnings.WarningMessage],
    notices: list[str],
    records: list[loader.PluginRecord],
) -> None:
    """Echo problems to stderr, from the records rather than from the warnings seen just now.

    Plugins may have been loaded (and their warnings shown) before this command ran, so the
    plugin warnings caught here are dropped and each problem is told once from the state.
    """
    lines = [f"warning: {notice}" for notice in notices]
    for record in records:
        if record.status in _PROBLEM_STATUSES:
            lines.append(
                f"warning: spikingtorch plugin {record.name!r} ({record.status}): {record.error}"
            )
    for warning in caught:
        if not issubclass(warning.category, loader.PluginWarning):
            lines.append(f"warning: {warning.category.__name__}: {warning.message}")
        elif not records:  # loading failed before any record could be read
            lines.append(f"warning: {warning.message}")
    for line in lines:
        click.echo(line, err=True)


def _format_table(
    records: list[loader.PluginRecord],
    conflicts: list[Conflict],
    builtin: dict[str, list[str]],
    *,
    verbose: bool,
) -> str:
    lines: list[str] = []
    if not records:
        lines.append("No spikingtorch plugins installed.")
    else:
        header = ["NAME", "VERSION", "STATUS"]
        if verbose:
            header += ["DISTRIBUTION", "MODULE"]
        rows = [[*header, "PROVIDES"]]
        for record in records:
            row = [record.name, record.version or "-", record.status]
            if verbose:
                row += [record.distribution or "-", record.module or "-"]
            rows.append([*row, _provides_cell(record)])
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            lines.append("  ".join([*cells, row[-1]]).rstrip())
        lines.append("")
        lines.extend(_conflict_lines(conflicts))
        statuses = [record.status for record in records]
        parts = ", ".join(
            f"{statuses.count(status)} {status}" for status in _STATUS_ORDER if status in statuses
        )
        noun = "plugin" if len(records) == 1 else "plugins"
        summary = f"{len(records)} {noun} ({parts})."
        if not verbose:
            summary += " Use --verbose for module paths and tracebacks."
        lines.append(summary)
    if verbose:
        lines.append(f"built in ({CORE_DISTRIBUTION} {__version__}): {_provides_text(builtin)}")
        for record in records:
            if record.traceback:
                lines += ["", f"--- {record.name}: traceback ---", record.traceback.rstrip()]
    return "\n".join(lines)


def _format_components(components: dict[str, list[Entry]]) -> str:
    """Every registered component by kind: name (aliases), provider and one-line summary."""
    rows = [
        (kind, e.name + (f" ({', '.join(e.aliases)})" if e.aliases else ""), e.provider, e.summary)
        for kind, entries in components.items()
        for e in entries
    ]
    if not rows:
        return ""
    name_width = max(len(r[1]) for r in rows)
    provider_width = max(len(r[2]) for r in rows)
    lines = ["", "COMPONENTS"]
    for kind in components:
        kind_rows = [r for r in rows if r[0] == kind]
        if not kind_rows:
            continue
        lines.append(f"{kind}:")
        for _, name, provider, summary in kind_rows:
            text = f"  {name.ljust(name_width)}  {provider.ljust(provider_width)}  {summary or ''}"
            lines.append(text.rstrip())
    return "\n".join(lines)


def _provides_cell(record: loader.PluginRecord) -> str:
    if record.status in ("ok", "local"):
        return _provides_text(record.provides)
    return (record.error or record.status).splitlines()[0]


def _provides_text(provides: dict[str, list[str]]) -> str:
    parts = [f"{kind}: {', '.join(provides[kind])}" for kind in KINDS if provides.get(kind)]
    return "; ".join(parts) or "nothing"


def _conflict_lines(conflicts: list[Conflict]) -> list[str]:
    if not conflicts:
        return ["conflicts: none"]
    lines = ["conflicts (use the qualified names, or disable a plugin):"]
    for conflict in conflicts:
        qualified = ", ".join(f"{provider}:{conflict.name}" for provider in conflict.providers)
        lines.append(f"  {conflict.kind} {conflict.name!r}: {qualified}")
    return lines


def main(argv: Sequence[str] | None = None) -> Any:
    """Run the ``spikingtorch`` command (the console-script entry point).

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).
    """
    return cli.main(args=list(argv) if argv is not None else None, prog_name="spikingtorch")


__all__ = ["cli", "list_plugins", "main"]
