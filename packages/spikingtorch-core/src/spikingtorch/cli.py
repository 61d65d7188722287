"""The ``spikingtorch`` command line (``python -m spikingtorch`` runs the same).

Commands:

* ``list-plugins`` — the installed plugins, their status and what they provide. It never
  crashes because of a plugin: failures are reported (warnings on stderr, data on stdout).
* ``train`` — train a spiking network from a stack of named components (options or a TOML
  stack file); see :mod:`spikingtorch.train`.

Importing this module does not import torch (``train`` imports it when it runs).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from typing import Any

import click

from spikingtorch import __version__
from spikingtorch.config import DEFAULT_STEPS, StackConfig, StackConfigError, parse_param
from spikingtorch.plugins import loader
from spikingtorch.plugins.api import PLUGIN_API_VERSION
from spikingtorch.registry import (
    CORE_DISTRIBUTION,
    FIRST_PARTY_DISTRIBUTIONS,
    KINDS,
    AmbiguousComponentError,
    ComponentNotFoundError,
    Conflict,
    Entry,
    normalize_provider,
)

JSON_SCHEMA_VERSION = 1
_PROBLEM_STATUSES = ("error", "duplicate", "incompatible")
_STATUS_ORDER = ("ok", "local", "error", "incompatible", "duplicate", "disabled")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="spikingtorch")
def cli() -> None:
    """Train spiking neural networks with PyTorch."""


@cli.command("list-plugins")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option(
    "--check",
    is_flag=True,
    help="Exit with status 1 if any plugin is broken, incompatible or a duplicate.",
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
        core = f"{CORE_DISTRIBUTION} {__version__}, plugin API {PLUGIN_API_VERSION}"
        lines.append(f"built in ({core}): {_provides_text(builtin)}")
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


# -- train --------------------------------------------------------------------------------------

_D = StackConfig()  # the defaults shown in --help
_RESUME_OVERRIDES = ("epochs", "device")


def _params(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> Any:
    if not values:
        return None
    try:
        return dict(parse_param(v) for v in values)
    except StackConfigError as exc:
        raise click.BadParameter(str(exc)) from None


def _param_option(component: str, example: str) -> Any:
    return click.option(
        f"--{component}-param",
        f"{component}_params",
        multiple=True,
        metavar="KEY=VALUE",
        callback=_params,
        help=f"A parameter of the {component} (repeatable; the value is read as TOML), "
        f"e.g. {example}.",
    )


_TRAIN_HELP = """Train a spiking network and evaluate it after every epoch.

With no options this trains an MLP of LIF neurons on Randman (generated, nothing to download).
Every component is chosen by its registry name (see 'spikingtorch list-plugins'). Options
override the values of a TOML stack file given with --config; a component's parameters from the
file are kept unless the option renames that component.

Each run writes a run folder OUT/NAME (default runs/<timestamp>) with config.toml, metrics.json,
checkpoint.pt and curves.png; --resume RUN_DIR continues it.

\b
Example (the seed tutorial's experiment):
  spikingtorch train --dataset fashion-mnist --data-root data --download \\
      --encoder poisson --steps 8 --network convnet --neuron if
"""


@cli.command("train", help=_TRAIN_HELP)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    metavar="FILE.toml",
    help="TOML stack file: tables [dataset] [encoder] [network] [neuron] [decoder] [loss] "
    "[train] [run] (see --print-config for every key).",
)
@click.option("--dataset", help=f"Dataset name.  [default: {_D.dataset}]")
@_param_option("dataset", "--dataset-param num_classes=5")
@click.option(
    "--data-root",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help=f"Folder of the dataset files.  [default: {_D.data_root}]",
)
@click.option(
    "--download/--no-download",
    default=None,
    help="Download the dataset if it is missing (only datasets that support it).",
)
@click.option(
    "--train-samples",
    type=int,
    metavar="N",
    help="Train on a seeded random subset of N samples.  [default: all]",
)
@click.option(
    "--test-samples",
    type=int,
    metavar="N",
    help="Test on a seeded random subset of N samples.  [default: all]",
)
@click.option(
    "--encoder",
    help="Encoder name, 'none', or 'auto': none for temporal datasets "
    f"(spike trains), poisson otherwise.  [default: {_D.encoder}]",
)
@_param_option("encoder", "--encoder-param rate=0.5")
@click.option(
    "--steps",
    type=int,
    metavar="T",
    help=f"Time steps T of the encoder.  [default: {DEFAULT_STEPS}]",
)
@click.option("--network", help=f"Network name (mlp, convnet, ...).  [default: {_D.network}]")
@_param_option("network", "--network-param hidden=[256,128]")
@click.option("--neuron", help=f"Neuron name used by the network.  [default: {_D.neuron}]")
@_param_option("neuron", "--neuron-param tau=5")
@click.option("--decoder", help=f"Decoder (readout) name.  [default: {_D.decoder}]")
@_param_option("decoder", "--decoder-param scale=0.5")
@click.option(
    "--loss", help=f"Loss: cross_entropy on the decoder output as logits.  [default: {_D.loss}]"
)
@_param_option("loss", "--loss-param negate=true (for first-spike times)")
@click.option("--epochs", type=int, help=f"Number of epochs.  [default: {_D.epochs}]")
@click.option("--batch-size", type=int, help=f"Batch size.  [default: {_D.batch_size}]")
@click.option("--lr", type=float, help=f"Learning rate.  [default: {_D.lr:g}]")
@click.option("--optimizer", help=f"adam, adamw or sgd.  [default: {_D.optimizer}]")
@click.option("--weight-decay", type=float, help=f"Weight decay.  [default: {_D.weight_decay:g}]")
@click.option("--device", help=f"auto, cpu, cuda, cuda:N or mps.  [default: {_D.device}]")
@click.option(
    "--seed", type=int, help=f"Seed of every random number generator.  [default: {_D.seed}]"
)
@click.option(
    "--num-workers", type=int, help=f"DataLoader worker processes.  [default: {_D.num_workers}]"
)
@click.option(
    "--threads", type=int, metavar="N",
    help="CPU threads of torch; 0 leaves torch's choice. Small spiking networks run a Python "
    "loop over time steps of small operations, where one thread is usually fastest (and many "
    f"times faster on a busy machine).  [default: {_D.threads}]",
)  # fmt: skip
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help=f"Folder of the run folders.  [default: {_D.out}]",
)
@click.option("--name", help="Name of the run folder.  [default: a timestamp]")
@click.option(
    "--resume",
    type=click.Path(file_okay=False),
    metavar="RUN_DIR",
    help="Continue the run in RUN_DIR from its checkpoint (only --epochs and --device may change).",
)
@click.option(
    "--print-config", is_flag=True, help="Print the resolved stack config as TOML and exit."
)
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="Show a progress bar per epoch.",
)
def train(
    config_file: str | None, resume: str | None, print_config: bool, progress: bool,
    **options: Any,
) -> None:  # fmt: skip
    from spikingtorch.config import dumps_toml, resolve_config

    try:
        if resume is None:
            config = resolve_config(config_file, options)
            if print_config:
                click.echo(dumps_toml(config), nl=False)
                return
        from spikingtorch.train import CheckpointError  # imports torch: only to train
        from spikingtorch.train import train as run_training

        try:
            if resume is not None:
                config = _resume_config(config_file, resume, options)
                if print_config:
                    click.echo(dumps_toml(config), nl=False)
                    return
            result = run_training(config, resume=resume, progress=progress, echo=click.echo)
        except CheckpointError as exc:
            _fail(str(exc), 1)
    except (ComponentNotFoundError, AmbiguousComponentError) as exc:
        _fail(_component_message(exc), 2)
    except StackConfigError as exc:
        _fail(str(exc), 2)
    except (FileNotFoundError, loader.PluginError, ImportError) as exc:
        _fail(f"{type(exc).__name__}: {exc}", 1)
    if result.metrics:
        last = result.metrics[-1]
        click.echo(f"test accuracy: {100 * result.test_accuracy:.2f}% after {last['epoch']} epochs")
    click.echo(f"run folder: {result.run_dir}")


def _resume_config(config_file: str | None, resume: str, options: dict[str, Any]) -> Any:
    from spikingtorch.train import load_run_config

    given = sorted(k for k, v in options.items() if v is not None and k not in _RESUME_OVERRIDES)
    if config_file is not None or given:
        names = ", ".join("--" + k.replace("_", "-") for k in given) or "--config"
        raise StackConfigError(
            f"with --resume only --epochs and --device may be given, not {names}: the run's "
            f"config is {resume}/config.toml"
        )
    from spikingtorch.config import resolve_config

    base = load_run_config(resume)
    overrides = {k: options[k] for k in _RESUME_OVERRIDES if options.get(k) is not None}
    return resolve_config(None, {**_as_overrides(base), **overrides})


def _as_overrides(config: Any) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}


def _component_message(exc: LookupError) -> str:
    """The registry's message, led by what to install when a first-party plugin is missing."""
    message = str(exc)
    kind = getattr(exc, "kind", "")
    hint = getattr(exc, "hint", None)
    distribution = FIRST_PARTY_DISTRIBUTIONS.get(kind)
    if not (hint and distribution):
        return message
    lead = (
        f"spikingtorch train needs the {kind} plugin {distribution!r} for "
        f"{getattr(exc, 'name', '')!r}, which is not installed. Install it with: {hint}"
    )
    for record in loader.get_plugin_host().records():
        if normalize_provider(record.name) == normalize_provider(distribution):
            lead = (
                f"spikingtorch train needs the {kind} plugin {distribution!r} for "
                f"{getattr(exc, 'name', '')!r}, which is installed but not loaded "
                f"({record.status}: {record.error}). Enable it, or reinstall it with: {hint}"
            )
    return f"{lead}\n{message}"


def _fail(message: str, code: int) -> Any:
    click.echo(f"Error: {message}", err=True)
    raise click.exceptions.Exit(code)


def main(argv: Sequence[str] | None = None) -> Any:
    """Run the ``spikingtorch`` command (the console-script entry point).

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).
    """
    return cli.main(args=list(argv) if argv is not None else None, prog_name="spikingtorch")


__all__ = ["cli", "list_plugins", "main", "train"]
