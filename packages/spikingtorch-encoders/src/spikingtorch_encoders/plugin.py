"""The ``spikingtorch-encoders`` plugin: registers this package's encoders and decoders.

Declared as the entry point ``spikingtorch-encoders`` in the ``spikingtorch`` group. Factories
are ``"module:attribute"`` strings, resolved on first use, so that discovering the plugin does
not import torch.
"""

from __future__ import annotations

from spikingtorch import hookimpl
from spikingtorch.registry import Registry

__all__ = ["register_decoders", "register_encoders"]
SPIKINGTORCH_PLUGIN_API = ">=1.0,<2"  # the spikingtorch plugin API versions it supports


@hookimpl
def register_encoders(registry: Registry) -> None:
    """Register the spike encoders with the ``encoders`` registry."""
    registry.add(
        "poisson",
        "spikingtorch_encoders.rate:PoissonEncoder",
        summary="Bernoulli/Poisson rate code: a spike with probability rate·x at each step",
        aliases=("bernoulli", "rate"),
    )
    registry.add(
        "periodic",
        "spikingtorch_encoders.rate:PeriodicEncoder",
        summary="regular rate code: deterministic integrate-to-threshold trains of rate·x",
        aliases=("regular",),
    )
    registry.add(
        "constant",
        "spikingtorch_encoders.rate:ConstantEncoder",
        summary="direct input: the analog value repeated at every step (constant current)",
        aliases=("direct",),
    )
    registry.add(
        "latency",
        "spikingtorch_encoders.temporal:LatencyEncoder",
        summary="time to first spike: larger inputs spike earlier, at most once",
        aliases=("ttfs",),
    )
    registry.add(
        "delta",
        "spikingtorch_encoders.temporal:DeltaEncoder",
        summary="send-on-delta: spikes where a time series moved by threshold since its last spike",
    )
    registry.add(
        "markov",
        "spikingtorch_encoders.markov:MarkovEncoder",
        summary="correlated two-state Markov trains with a given rate and lag-1 autocorrelation",
    )
    registry.add(
        "population",
        "spikingtorch_encoders.population:PopulationEncoder",
        summary="population code: Gaussian receptive fields over [low, high] that spike",
    )


@hookimpl
def register_decoders(registry: Registry) -> None:
    """Register the decoders (readouts) with the ``decoders`` registry."""
    module = "spikingtorch_encoders.decoders"
    registry.add(
        "sum",
        f"{module}:SumDecoder",
        summary="spike count over time, optionally scaled and offset (the original's SumDecoder)",
        aliases=("count",),
    )
    registry.add(
        "rate",
        f"{module}:RateDecoder",
        summary="mean firing rate over time (spikes per step)",
        aliases=("mean_rate",),
    )
    registry.add(
        "max_membrane",
        f"{module}:MaxMembraneDecoder",
        summary="maximum over time of a non-spiking readout's membrane potential",
    )
    registry.add(
        "first_spike",
        f"{module}:FirstSpikeDecoder",
        summary="differentiable time to first spike (T for an output that never fires)",
    )
