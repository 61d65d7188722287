"""The original spikingtorch package's layer spellings, kept for old code.

``from spikingtorch.layers import IF, LIF, McPitts, CoarseLIF, BioLIF, SpikingDecay`` (and
``SpikingLayer``, the coarse LIF's older name) works as it did in the original package. The
classes are subclasses of the models of the ``spikingtorch-neurons`` plugin that accept the
original constructor arguments in the original order:

* ``v0`` / ``thr`` become ``threshold``, ``beta`` becomes ``surrogate=Sigmoid(slope=beta)``,
  ``BioLIF``'s ``nudt`` becomes ``tau = 1 / nudt``; each of these issues a
  :class:`DeprecationWarning` that spells the call with the new classes;
* the original's semantics are kept: ``LIF(tau=...)`` scales its input by ``tau (1 - a)``
  (the new ``spikingtorch_neurons.LIF`` does not), ``LIF(decay=...)`` does not scale it,
  ``McPitts`` defaults to a sigmoid slope of 3, ``BioLIF`` detaches its decay;
* two defects of the original are fixed: a spike is ``v > threshold`` (the original gave
  ``1/2`` at equality) and ``SpikingDecay`` returns the current step's spikes (the original's
  were one step late). ``layer.v`` and ``layer.s`` still read the last membrane and spikes,
  but ``layer.reset`` is now the reset mode, not a method: use ``layer.reset_state()``.

The core does not depend on the plugin: the classes load on first access, and an
:class:`ImportError` says to ``pip install spikingtorch-neurons`` when it is missing. New code
should use ``spikingtorch_neurons`` (or ``from spikingtorch import LIF``) directly.

Example:
    >>> from spikingtorch.layers import CoarseLIF
    >>> CoarseLIF(4.0)
    CoarseLIF(tau=4.0, decay=0.7788, threshold=1.0, surrogate=Sigmoid(slope=5.0))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spikingtorch_neurons._compat import (
        IF,
        LIF,
        BioLIF,
        CoarseLIF,
        McPitts,
        SpikingDecay,
        SpikingLayer,
    )

__all__ = ["IF", "LIF", "BioLIF", "CoarseLIF", "McPitts", "SpikingDecay", "SpikingLayer"]

_PLUGIN = "spikingtorch_neurons"
_MODULE = "spikingtorch_neurons._compat"
_DISTRIBUTION = "spikingtorch-neurons"


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name not in (_PLUGIN, _MODULE):
            raise  # a dependency of the plugin is missing: report that, not the plugin
        raise ImportError(
            f"spikingtorch.layers.{name} is provided by the {_DISTRIBUTION!r} plugin, which is "
            f"not installed. Install it with: pip install {_DISTRIBUTION}",
            name=__name__,
        ) from exc
    return getattr(module, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
