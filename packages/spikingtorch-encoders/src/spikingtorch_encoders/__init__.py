"""Spike encoders, decoders (readouts) and spike losses for spikingtorch.

Encoders turn a batch ``(N, *dims)`` into spike trains ``(N, T, *dims)`` (the
:class:`spikingtorch.SpikingNet` layout); decoders turn a network's output ``(N, T, *out)`` into
predictions. The package registers itself with spikingtorch through
:mod:`spikingtorch_encoders.plugin`, so ``from spikingtorch import PoissonEncoder`` works once it
is installed.

Classes load on first access, so that importing the plugin module (plugin discovery,
``spikingtorch list-plugins``) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public name -> module that defines it.
_LAZY: dict[str, str] = {
    # encoders
    "Encoder": "spikingtorch_encoders.base",
    "PoissonEncoder": "spikingtorch_encoders.rate",
    "PeriodicEncoder": "spikingtorch_encoders.rate",
    "ConstantEncoder": "spikingtorch_encoders.rate",
    "LatencyEncoder": "spikingtorch_encoders.temporal",
    "DeltaEncoder": "spikingtorch_encoders.temporal",
    "MarkovEncoder": "spikingtorch_encoders.markov",
    "PopulationEncoder": "spikingtorch_encoders.population",
    # decoders (readouts) and spike losses
    **dict.fromkeys(
        (
            "SumDecoder",
            "RateDecoder",
            "MaxMembraneDecoder",
            "FirstSpikeDecoder",
            "spike_count",
            "mean_rate",
            "max_over_time",
            "first_spike_time",
        ),
        "spikingtorch_encoders.decoders",
    ),
    **dict.fromkeys(
        (
            "RateCrossEntropyLoss",
            "CountMSELoss",
            "FirstSpikeCrossEntropyLoss",
            "rate_cross_entropy",
            "count_mse",
            "first_spike_cross_entropy",
        ),
        "spikingtorch_encoders.losses",
    ),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
