"""spikingtorch: train spiking neural networks with PyTorch.

Importing this package does not import torch. The torch-based core names (``SpikingNet``,
``Neuron``, ``reset_states``, ``detach_states``, ``surrogate``) load on first access, and any
other public name is looked up among the components that plugins register, so
``from spikingtorch import IF`` works whenever a plugin (here ``spikingtorch-neurons``) provides
``IF``, and otherwise says which distribution to install.

Components are also available by name::

    import spikingtorch

    lif = spikingtorch.get_neuron("lif", tau=5.0)  # or spikingtorch.get("neurons", "lif", ...)
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
from types import FrameType
from typing import TYPE_CHECKING, Any

from spikingtorch.plugins import (
    PluginError,
    PluginRecord,
    PluginWarning,
    get,
    get_dataset,
    get_decoder,
    get_encoder,
    get_network,
    get_neuron,
    get_registry,
    get_surrogate,
    hookimpl,
    plugin_conflicts,
    plugin_records,
    register_plugin,
    reset_plugins,
)
from spikingtorch.registry import (
    KINDS,
    AmbiguousComponentError,
    ComponentImportError,
    ComponentNotFoundError,
    Registry,
)

if TYPE_CHECKING:
    from spikingtorch import surrogate as surrogate
    from spikingtorch.net import SpikingNet as SpikingNet
    from spikingtorch.neuron import Neuron as Neuron
    from spikingtorch.neuron import detach_states as detach_states
    from spikingtorch.neuron import reset_states as reset_states


def _core_version() -> str:
    try:
        return importlib.metadata.version("spikingtorch-core")
    except importlib.metadata.PackageNotFoundError:
        return "0.1.0"


__version__: str = _core_version()

# Core names that live in torch-based modules: name -> (module, attribute or None for the module).
_CORE_EXPORTS: dict[str, tuple[str, str | None]] = {
    "SpikingNet": ("spikingtorch.net", "SpikingNet"),
    "Neuron": ("spikingtorch.neuron", "Neuron"),
    "reset_states": ("spikingtorch.neuron", "reset_states"),
    "detach_states": ("spikingtorch.neuron", "detach_states"),
    "surrogate": ("spikingtorch.surrogate", None),
}

# Exports of the first-party plugins, for the "install it" message when they are missing.
_FIRST_PARTY_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        (
            "IF",
            "LIF",
            "AdaptiveLIF",
            "SynapticLIF",
            "RecurrentLIF",
            "McPitts",
            "CoarseLIF",
            "BioLIF",
            "SpikingDecay",
        ),
        "spikingtorch-neurons",
    ),
    **dict.fromkeys(
        (
            "PoissonEncoder",
            "PeriodicEncoder",
            "ConstantEncoder",
            "LatencyEncoder",
            "DeltaEncoder",
            "MarkovEncoder",
            "PopulationEncoder",
            "SumDecoder",
            "RateDecoder",
            "MaxMembraneDecoder",
            "FirstSpikeDecoder",
        ),
        "spikingtorch-encoders",
    ),
    **dict.fromkeys(("Randman", "NMNIST", "SHD"), "spikingtorch-datasets"),
}


def __getattr__(name: str) -> Any:
    """Resolve core names lazily, then names exported by registered plugin components."""
    target = _CORE_EXPORTS.get(name)
    if target is not None:
        module = importlib.import_module(target[0])
        value = module if target[1] is None else getattr(module, target[1])
        globals()[name] = value
        return value
    if name.startswith("_") or not name.isidentifier() or _is_submodule(name):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _plugin_export(name, sys._getframe(1))


def __dir__() -> list[str]:
    return sorted({*globals(), *_CORE_EXPORTS})


def _is_submodule(name: str) -> bool:
    """True for a not-yet-imported submodule, which the import system must load itself."""
    try:
        return importlib.util.find_spec(f"{__name__}.{name}") is not None
    except (ImportError, ValueError):
        return False


def _plugin_export(name: str, caller: FrameType) -> Any:
    from spikingtorch.plugins.loader import get_plugin_host

    host = get_plugin_host()
    entries = {entry.target: entry for entry in host.find_exports(name)}
    if len(entries) == 1:
        entry = next(iter(entries.values()))
        return host.registry(entry.kind).load(entry)
    if entries:
        where = ", ".join(
            f"{target} ({entries[target].qualified_name})" for target in sorted(entries)
        )
        raise _lookup_failure(
            name,
            f"cannot import name {name!r} from 'spikingtorch': several plugins export it "
            f"({where}); import it from its own module instead",
            caller,
        )
    distribution = _FIRST_PARTY_EXPORTS.get(name)
    if distribution is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    record = next((r for r in host.records() if r.name == distribution), None)
    message = f"cannot import name {name!r} from 'spikingtorch': it is provided by {distribution!r}"
    if record is None:
        message += f", which is not installed. Install it with: pip install {distribution}"
    elif record.status == "ok":
        message += f" {record.version or ''}, whose plugin does not register it (upgrade it?)"
    else:
        message += (
            f", which is installed but its plugin has status {record.status!r}: {record.error}. "
            "Run 'spikingtorch list-plugins --verbose' for details"
        )
    raise _lookup_failure(name, message, caller)


def _lookup_failure(name: str, message: str, caller: FrameType) -> Exception:
    """An ImportError under ``from spikingtorch import X``, else an AttributeError.

    ``from ... import`` turns an AttributeError from ``__getattr__`` into a generic message,
    and no class can derive from both ImportError and AttributeError (their layouts clash), so
    we look at the calling instruction: ``hasattr()``/``getattr(..., default)`` still work.
    """
    if _executing_import_from(caller):
        return ImportError(message, name=__name__)
    return AttributeError(message)


def _executing_import_from(frame: FrameType) -> bool:
    import opcode

    code = frame.f_code.co_code
    index = frame.f_lasti
    return 0 <= index < len(code) and code[index] == opcode.opmap.get("IMPORT_FROM", -1)


__all__ = [
    "KINDS",
    "AmbiguousComponentError",
    "ComponentImportError",
    "ComponentNotFoundError",
    "Neuron",
    "PluginError",
    "PluginRecord",
    "PluginWarning",
    "Registry",
    "SpikingNet",
    "__version__",
    "detach_states",
    "get",
    "get_dataset",
    "get_decoder",
    "get_encoder",
    "get_network",
    "get_neuron",
    "get_registry",
    "get_surrogate",
    "hookimpl",
    "plugin_conflicts",
    "plugin_records",
    "register_plugin",
    "reset_plugins",
    "reset_states",
    "surrogate",
]
