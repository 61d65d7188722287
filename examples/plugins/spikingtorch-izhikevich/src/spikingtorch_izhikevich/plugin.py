"""The ``spikingtorch-izhikevich`` plugin's hook module (the entry point names this module).

It only *names* its components (``"module:attribute"`` strings, imported on first use) and
imports nothing heavy, so ``spikingtorch list-plugins`` stays fast and torch-free.
"""

from __future__ import annotations

from spikingtorch import hookimpl
from spikingtorch.registry import Registry

__all__ = ["SPIKINGTORCH_PLUGIN_API", "register_neurons", "register_surrogates"]

#: The spikingtorch plugin API versions this plugin supports (the core has 1.x).
SPIKINGTORCH_PLUGIN_API = ">=1.0,<2"


@hookimpl
def register_neurons(registry: Registry) -> None:
    """Register the ``izhikevich`` neuron."""
    registry.add(
        "izhikevich",
        "spikingtorch_izhikevich.neuron:Izhikevich",
        summary="Izhikevich (2003) neuron: quadratic membrane in mV, recovery, 7 cell presets",
    )


@hookimpl
def register_surrogates(registry: Registry) -> None:
    """Register the ``gaussian`` surrogate gradient (alias ``erf``)."""
    registry.add(
        "gaussian",
        "spikingtorch_izhikevich.surrogate:Gaussian",
        summary="Heaviside spike, normal-density derivative (normal CDF soft step)",
        aliases=("erf",),
    )
