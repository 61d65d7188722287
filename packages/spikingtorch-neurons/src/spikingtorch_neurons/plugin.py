"""The ``spikingtorch-neurons`` plugin: registers this package's neurons with spikingtorch.

Declared as the entry point ``spikingtorch-neurons`` in the ``spikingtorch`` group. Factories
are ``"module:attribute"`` strings, resolved on first use, so that discovering the plugin does
not import torch.
"""

from __future__ import annotations

from typing import Any

from spikingtorch import hookimpl

__all__ = ["register_neurons"]
SPIKINGTORCH_PLUGIN_API = ">=1.0,<2"  # the spikingtorch plugin API versions it supports


@hookimpl
def register_neurons(registry: Any) -> None:
    """Register every neuron model of this package with the ``neurons`` registry.

    Each entry names the class by a ``"module:Class"`` string (imported on first use) and
    carries a one-line summary that ``spikingtorch list-plugins`` prints.
    """
    registry.add(
        "if", "spikingtorch_neurons.integrate_fire:IF", summary="integrate-and-fire (seed tutorial)"
    )
    registry.add("lif", "spikingtorch_neurons.leaky:LIF", summary="leaky integrate-and-fire")
    registry.add(
        "mcpitts",
        "spikingtorch_neurons.original:McPitts",
        summary="McCulloch-Pitts threshold unit, no memory (original spikingtorch)",
    )
    registry.add(
        "coarse_lif",
        "spikingtorch_neurons.original:CoarseLIF",
        summary="coarse-scale LIF with sub-step reset (Yanguas-Gil 2020, original spikingtorch)",
    )
    registry.add(
        "biolif",
        "spikingtorch_neurons.original:BioLIF",
        summary="conductance-based LIF, excitatory and inhibitory inputs (original spikingtorch)",
    )
    registry.add(
        "spiking_decay",
        "spikingtorch_neurons.original:SpikingDecay",
        summary="decay neuron v = (1 - s) v / tau + x (original spikingtorch)",
    )
    registry.add(
        "alif",
        "spikingtorch_neurons.adaptive:AdaptiveLIF",
        summary="adaptive LIF: each spike raises a slowly decaying threshold (Bellec 2018)",
        aliases=("adaptive_lif",),
    )
    registry.add(
        "synaptic_lif",
        "spikingtorch_neurons.synaptic:SynapticLIF",
        summary="current-based LIF: a leaky synaptic current drives the membrane",
        aliases=("cuba_lif",),
    )
    registry.add(
        "recurrent_lif",
        "spikingtorch_neurons.recurrent:RecurrentLIF",
        summary="LIF layer with learned dense or one-to-one spike feedback",
    )
