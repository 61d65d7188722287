"""spikingtorch-izhikevich: the Izhikevich (2003) neuron and a Gaussian surrogate gradient.

A third-party spikingtorch plugin. Once installed, ``spikingtorch.get_neuron("izhikevich")``,
``spikingtorch train --neuron izhikevich`` and ``surrogate="gaussian"`` work; it needs only
``spikingtorch-core``.

Importing this package does not import torch: :class:`Izhikevich`, :class:`Gaussian`,
:func:`izhikevich_step`, :class:`IzhikevichState` and :data:`PRESETS` load on first access
(the plugin's hook module, :mod:`spikingtorch_izhikevich.plugin`, is imported whenever
spikingtorch lists plugins, and must stay light).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spikingtorch_izhikevich.functional import PRESETS as PRESETS
    from spikingtorch_izhikevich.functional import IzhikevichPreset as IzhikevichPreset
    from spikingtorch_izhikevich.functional import IzhikevichState as IzhikevichState
    from spikingtorch_izhikevich.functional import izhikevich_step as izhikevich_step
    from spikingtorch_izhikevich.neuron import Izhikevich as Izhikevich
    from spikingtorch_izhikevich.surrogate import Gaussian as Gaussian

__version__ = "0.1.0"

_EXPORTS = {
    "Izhikevich": "spikingtorch_izhikevich.neuron",
    "Gaussian": "spikingtorch_izhikevich.surrogate",
    "IzhikevichState": "spikingtorch_izhikevich.functional",
    "IzhikevichPreset": "spikingtorch_izhikevich.functional",
    "PRESETS": "spikingtorch_izhikevich.functional",
    "izhikevich_step": "spikingtorch_izhikevich.functional",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "PRESETS",
    "Gaussian",
    "Izhikevich",
    "IzhikevichPreset",
    "IzhikevichState",
    "__version__",
    "izhikevich_step",
]
