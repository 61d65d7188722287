"""The training stack's configuration: :class:`StackConfig`, TOML stack files, CLI overrides.

A :class:`StackConfig` holds every choice of a training run with its default. It comes from a
TOML stack file (:func:`load_toml`), from ``spikingtorch train`` options, or both: CLI options
override the file (:func:`resolve_config`); the two spellings give the same config. Components
are registry names, never imports, so a config works with any installed plugin;
:func:`spikingtorch.stack.build_stack` turns it into objects.

A stack file (every key optional; keys of a component table other than the listed ones are
parameters of that component's constructor)::

    [dataset]                  # dataset name, root, download, train_samples, test_samples
    name = "randman"
    [encoder]                  # "auto": none for temporal datasets, "poisson" otherwise
    name = "auto"
    steps = 8                  # the encoder's T (default 8)
    [network]
    name = "mlp"
    hidden = [128]
    [neuron]
    name = "lif"
    tau = 5.0
    [decoder]
    name = "sum"
    [loss]                     # cross-entropy on the decoder output as logits
    name = "cross_entropy"     # params: negate (for first-spike times), label_smoothing
    [train]                    # epochs, batch_size, lr, optimizer, weight_decay, device, seed,
    epochs = 10                # num_workers, threads (torch CPU threads; 0: torch's choice)
    [run]                      # out (folder of the run folders), name (default: a timestamp)
    out = "runs"

Importing this module does not import torch.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "COMPONENTS",
    "SECTIONS",
    "StackConfig",
    "StackConfigError",
    "config_from_dict",
    "config_to_dict",
    "dumps_toml",
    "load_toml",
    "parse_param",
    "resolve_config",
]

_PARAMS = "_params"
DEFAULT_STEPS = 8
OPTIMIZERS = ("adam", "adamw", "sgd")
LOSSES = ("cross_entropy",)
_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")


class StackConfigError(ValueError):
    """A stack config (TOML file or CLI options) has an unknown key or a bad value."""


@dataclass
class StackConfig:
    """Every option of a training run, with its default (see the module docstring for TOML).

    Component fields hold registry names; ``<component>_params`` hold keyword arguments of
    that component's factory. ``encoder`` may also be ``"auto"`` (no encoder for a temporal
    dataset, ``"poisson"`` otherwise) or ``"none"``; ``steps=None`` means ``DEFAULT_STEPS`` for an
    encoder that takes ``steps``.
    """

    dataset: str = "randman"
    dataset_params: dict[str, Any] = field(default_factory=dict)
    data_root: str = "data"
    download: bool = False
    train_samples: int | None = None
    test_samples: int | None = None
    encoder: str = "auto"
    encoder_params: dict[str, Any] = field(default_factory=dict)
    steps: int | None = None
    network: str = "mlp"
    network_params: dict[str, Any] = field(default_factory=dict)
    neuron: str = "lif"
    neuron_params: dict[str, Any] = field(default_factory=dict)
    decoder: str = "sum"
    decoder_params: dict[str, Any] = field(default_factory=dict)
    loss: str = "cross_entropy"
    loss_params: dict[str, Any] = field(default_factory=dict)
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-2
    optimizer: str = "adam"
    weight_decay: float = 0.0
    device: str = "auto"
    seed: int = 0
    num_workers: int = 0
    threads: int = 1
    out: str = "runs"
    name: str | None = None


#: The component tables: their ``name`` is a registry name and their other keys are parameters.
COMPONENTS = ("dataset", "encoder", "network", "neuron", "decoder", "loss")

#: TOML table -> {TOML key: config field}.
SECTIONS: dict[str, dict[str, str]] = {
    "dataset": {
        "name": "dataset",
        "root": "data_root",
        "download": "download",
        "train_samples": "train_samples",
        "test_samples": "test_samples",
    },
    "encoder": {"name": "encoder", "steps": "steps"},
    "network": {"name": "network"},
    "neuron": {"name": "neuron"},
    "decoder": {"name": "decoder"},
    "loss": {"name": "loss"},
    "train": {
        k: k
        for k in (
            "epochs",
            "batch_size",
            "lr",
            "optimizer",
            "weight_decay",
            "device",
            "seed",
            "num_workers",
            "threads",
        )
    },
    "run": {"out": "out", "name": "name"},
}

# field -> (accepted types, may be None)
_TYPES: dict[str, tuple[tuple[type, ...], bool]] = {
    "download": ((bool,), False),
    "train_samples": ((int,), True),
    "test_samples": ((int,), True),
    "steps": ((int,), True),
    "epochs": ((int,), False),
    "batch_size": ((int,), False),
    "lr": ((float, int), False),
    "weight_decay": ((float, int), False),
    "seed": ((int,), False),
    "num_workers": ((int,), False),
    "threads": ((int,), False),
    "name": ((str,), True),
}
_FIELDS = {f.name for f in dataclasses.fields(StackConfig)}


def _check_value(key: str, value: Any) -> Any:
    """Type- and range-check one field; floats are stored as floats."""
    types, optional = _TYPES.get(key, ((str,), False))
    if value is None and optional:
        return None
    if key.endswith(_PARAMS):
        if not isinstance(value, Mapping):
            raise StackConfigError(f"{key} must be a table of parameters, got {value!r}")
        return dict(value)
    if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
        names = " or ".join(t.__name__ for t in types)
        raise StackConfigError(f"{key} must be {names}, got {value!r}")
    if float in types:
        value = float(cast(float, value))
    lowest = dict.fromkeys(("epochs", "batch_size", "steps", "train_samples", "test_samples"), 1)
    too_small = (
        value < lowest[key]
        if key in lowest
        else key in ("num_workers", "seed", "threads") and value < 0
    )
    if too_small:
        raise StackConfigError(f"{key} must be at least {lowest.get(key, 0)}, got {value!r}")
    if (key == "lr" and not value > 0) or (key == "weight_decay" and not value >= 0):
        raise StackConfigError(f"{key} must be {'> 0' if key == 'lr' else '>= 0'}, got {value!r}")
    if isinstance(value, str) and not value.strip():
        raise StackConfigError(f"{key} must not be empty")
    if key == "device" and not _DEVICE_RE.match(value):
        raise StackConfigError(f"device must be auto, cpu, cuda, cuda:N or mps, got {value!r}")
    choices = {"optimizer": OPTIMIZERS, "loss": LOSSES}.get(key)
    if choices and value.lower() not in choices:
        raise StackConfigError(f"{key} must be one of {', '.join(choices)}, got {value!r}")
    return value.lower() if choices else value


def config_from_dict(data: Mapping[str, Any], base: StackConfig | None = None) -> StackConfig:
    """Read a TOML-shaped mapping (tables as in the module docstring) onto ``base``.

    Raises:
        StackConfigError: an unknown table or key, or a bad value.
    """
    config = dataclasses.replace(base) if base is not None else StackConfig()
    flat: dict[str, Any] = {}
    for table, body in data.items():
        keys = SECTIONS.get(table)
        if keys is None:
            raise StackConfigError(
                f"unknown table [{table}] in the stack config; tables: {', '.join(SECTIONS)}"
            )
        if not isinstance(body, Mapping):
            raise StackConfigError(f"[{table}] must be a table, got {body!r}")
        params = {k: v for k, v in body.items() if k not in keys}
        if params and table not in COMPONENTS:
            raise StackConfigError(
                f"unknown key(s) {', '.join(sorted(params))} in [{table}]; keys: {', '.join(keys)}"
            )
        flat.update({keys[k]: v for k, v in body.items() if k in keys})
        if table in COMPONENTS:
            flat[f"{keys['name']}{_PARAMS}"] = params
    return _apply(config, flat)


def _apply(config: StackConfig, flat: Mapping[str, Any]) -> StackConfig:
    """Override fields; a component's params add to (or, if its name changed, replace) the old."""
    values: dict[str, Any] = {}
    for key, value in flat.items():
        if key not in _FIELDS:
            raise StackConfigError(f"unknown stack option {key!r}")
        values[key] = _check_value(key, value)
    for key in [k for k in values if k.endswith(_PARAMS)]:
        component = key[: -len(_PARAMS)]
        renamed = component in values and _norm(values[component]) != _norm(
            getattr(config, component)
        )
        old = {} if renamed else getattr(config, key)
        values[key] = {**old, **values[key]}
    for component in COMPONENTS:
        new = values.get(component)
        renamed = new is not None and _norm(new) != _norm(getattr(config, component))
        if renamed and f"{component}{_PARAMS}" not in values:
            values[f"{component}{_PARAMS}"] = {}
    return dataclasses.replace(config, **values)


def _norm(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def config_to_dict(config: StackConfig) -> dict[str, dict[str, Any]]:
    """The TOML-shaped mapping of ``config`` (None values left out); inverse of
    :func:`config_from_dict`."""
    out: dict[str, dict[str, Any]] = {}
    for table, keys in SECTIONS.items():
        body = {k: getattr(config, f) for k, f in keys.items() if getattr(config, f) is not None}
        if table in COMPONENTS:
            body.update(getattr(config, f"{keys['name']}{_PARAMS}"))
        out[table] = body
    return out


def load_toml(path: str | Path, base: StackConfig | None = None) -> StackConfig:
    """Read a TOML stack file (see the module docstring) onto ``base`` (default: defaults).

    Raises:
        StackConfigError: the file is missing, not valid TOML, or has bad keys or values.
    """
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise StackConfigError(f"stack file {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise StackConfigError(f"stack file {str(path)!r} is not valid TOML: {exc}") from None
    try:
        return config_from_dict(data, base)
    except StackConfigError as exc:
        raise StackConfigError(f"{path}: {exc}") from None


def dumps_toml(config: StackConfig) -> str:
    """The TOML text of ``config``; :func:`load_toml` reads it back to an equal config.

    Example:
        >>> text = dumps_toml(StackConfig(neuron_params={"tau": 5.0}))
        >>> print(text.split("[neuron]")[1].split("[decoder]")[0].strip())
        name = "lif"
        tau = 5.0
    """
    lines: list[str] = []
    for table, body in config_to_dict(config).items():
        lines.append(f"[{table}]")
        lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in body.items())
        lines.append("")
    return "\n".join(lines)


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, int) or value == value else "nan"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{" + items + "}"
    raise StackConfigError(f"cannot write {value!r} ({type(value).__name__}) to TOML")


def parse_param(text: str) -> tuple[str, Any]:
    """Parse a ``key=value`` component parameter; the value is read as TOML, else a string.

    Example:
        >>> parse_param("tau=5"), parse_param("hidden=[64, 32]"), parse_param("reset=zero")
        (('tau', 5), ('hidden', [64, 32]), ('reset', 'zero'))
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        raise StackConfigError(f"a parameter must look like key=value, got {text!r}")
    try:
        value: Any = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key, value


def resolve_config(
    path: str | Path | None = None, overrides: Mapping[str, Any] | None = None
) -> StackConfig:
    """Defaults, then the TOML stack file at ``path``, then ``overrides`` (CLI options).

    Args:
        path: a stack file, or None.
        overrides: config fields (``{"epochs": 3, "neuron_params": {"tau": 5.0}}``); None values
            are ignored. Parameters add to the file's, unless the component's name changes.
    """
    config = load_toml(path) if path is not None else StackConfig()
    return _apply(config, {k: v for k, v in (overrides or {}).items() if v is not None})
