"""Spiking neuron models for spikingtorch.

* :class:`IF` — integrate-and-fire (the seed tutorial's layer).
* :class:`LIF` — leaky integrate-and-fire.
* :class:`McPitts`, :class:`CoarseLIF`, :class:`BioLIF`, :class:`SpikingDecay` — the original
  spikingtorch package's threshold unit, coarse-scale LIF, two-input conductance-based LIF and
  decay neuron (their original spellings: :mod:`spikingtorch.layers`).
* :class:`AdaptiveLIF` — LIF with threshold adaptation (a long memory of past spikes).
* :class:`SynapticLIF` — current-based LIF (a leaky synaptic current drives the membrane).
* :class:`RecurrentLIF` — LIF layer with learned dense or one-to-one spike feedback.

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
    from spikingtorch_neurons.adaptive import AdaptiveLIF
    from spikingtorch_neurons.integrate_fire import IF
    from spikingtorch_neurons.leaky import LIF
    from spikingtorch_neurons.original import BioLIF, CoarseLIF, McPitts, SpikingDecay
    from spikingtorch_neurons.recurrent import RecurrentLIF
    from spikingtorch_neurons.synaptic import SynapticLIF

__all__ = [
    "IF",
    "LIF",
    "AdaptiveLIF",
    "BioLIF",
    "CoarseLIF",
    "McPitts",
    "RecurrentLIF",
    "SpikingDecay",
    "SynapticLIF",
    "__version__",
]

__version__ = "0.1.0"

_LAZY = {
    "IF": "spikingtorch_neurons.integrate_fire",
    "LIF": "spikingtorch_neurons.leaky",
    "McPitts": "spikingtorch_neurons.original",
    "CoarseLIF": "spikingtorch_neurons.original",
    "BioLIF": "spikingtorch_neurons.original",
    "SpikingDecay": "spikingtorch_neurons.original",
    "AdaptiveLIF": "spikingtorch_neurons.adaptive",
    "SynapticLIF": "spikingtorch_neurons.synaptic",
    "RecurrentLIF": "spikingtorch_neurons.recurrent",
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
