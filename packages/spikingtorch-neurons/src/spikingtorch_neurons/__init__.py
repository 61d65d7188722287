"""Spiking neuron models for spikingtorch.

* :class:`IF` — integrate-and-fire (the seed tutorial's layer).
* :class:`LIF` — leaky integrate-and-fire.

The math lives in pure step functions in :mod:`spikingtorch_neurons.functional`; the modules
are thin :class:`spikingtorch.neuron.Neuron` subclasses that hold the parameters. The package
registers itself with spikingtorch through :mod:`spikingtorch_neurons.plugin`, so
``from spikingtorch import IF`` works once it is installed.

The classes load on first access, so that importing the plugin module (plugin discovery,
``spikingtorch list-plugins``) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spikingtorch_neurons.integrate_fire import IF
    from spikingtorch_neurons.leaky import LIF

__all__ = ["IF", "LIF", "__version__"]

__version__ = "0.1.0"

_LAZY = {
    "IF": "spikingtorch_neurons.integrate_fire",
    "LIF": "spikingtorch_neurons.leaky",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
