"""Pure step functions of the integrate-and-fire neuron family.

Every function here is stateless: it takes the input current of one time step and the previous
state, and returns the spikes and the new state. The modules (:class:`~spikingtorch_neurons.IF`,
:class:`~spikingtorch_neurons.LIF`) only hold the parameters and call these functions.

Shapes: ``x`` is ``(N, *F)`` (``N`` the batch, ``F`` the feature shape); the state tensors and the
spikes have the same shape. Hyper-parameters (``threshold``, ``decay``, ``input_scale``) are
floats or tensors broadcastable to ``x`` (e.g. ``(*F)`` for per-neuron values; ``(C, 1, 1)`` for
per-channel values of ``(N, C, H, W)`` maps).

Discrete-time dynamics, with the reset ``r`` applied at the *start* of the step that follows a
spike::

    IF:   v_t = r(v_{t-1}, s_{t-1}) + x_t
    LIF:  v_t = a * r(v_{t-1}, s_{t-1}) + b * x_t
          s_t = H(v_t - theta)                 (a spike iff v_t > theta)

    reset "zero":      r(v, s) = (1 - s) * v
    reset "subtract":  r(v, s) = v - theta * s
    reset "none":      r(v, s) = v

``H`` is the Heaviside step with a surrogate gradient (:mod:`spikingtorch.surrogate`). The state
``(v_t, s_t)`` keeps the membrane *before* its reset, so that it can be read out and plotted; the
``"zero"`` reset reproduces the seed's ``v_t = (1 - s_{t-1}) a v_{t-1} + b x_t``, and
``"subtract"`` removes the threshold right after a spike, before the next decay (as SpikingJelly
and Norse do). With ``detach_reset=True`` the spike inside ``r`` is detached, so no gradient
flows through the reset (SpikingJelly's ``detach_reset``).
"""

from spikingtorch_neurons.functional._common import (
    RESET_MODES,
    Param,
    check_reset,
    reset_membrane,
)
from spikingtorch_neurons.functional.integrate import IFState, LIFState, if_step, lif_step

__all__ = [
    "RESET_MODES",
    "IFState",
    "LIFState",
    "Param",
    "check_reset",
    "if_step",
    "lif_step",
    "reset_membrane",
]
