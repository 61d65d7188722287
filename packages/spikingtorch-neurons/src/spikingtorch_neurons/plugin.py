"""The ``spikingtorch-neurons`` plugin: registers this package's neurons with spikingtorch.

Declared as the entry point ``spikingtorch-neurons`` in the ``spikingtorch`` group. Factories
are ``"module:attribute"`` strings, resolved on first use, so that discovering the plugin does
not import torch.
"""

from __future__ import annotations

from typing import Any

from spikingtorch import hookimpl

__all__ = ["register_neurons"]


@hookimpl
def register_neurons(registry: Any) -> None:
    """Register the neurons ``if`` (:class:`~spikingtorch_neurons.IF`) and ``lif``
    (:class:`~spikingtorch_neurons.LIF`) with the ``neurons`` registry."""
    registry.add(
        "if", "spikingtorch_neurons.integrate_fire:IF", summary="integrate-and-fire (seed tutorial)"
    )
    registry.add("lif", "spikingtorch_neurons.leaky:LIF", summary="leaky integrate-and-fire")
