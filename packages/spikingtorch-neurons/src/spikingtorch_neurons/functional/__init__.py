"""Pure step functions of every neuron model in this package.

Every function here is stateless: it takes the input current of one time step and the previous
state, and returns the spikes and the new state. The modules (:class:`~spikingtorch_neurons.IF`,
:class:`~spikingtorch_neurons.LIF`, :class:`~spikingtorch_neurons.AdaptiveLIF`, ...) only hold
the parameters and call these functions. One submodule per family: ``integrate`` (IF, LIF),
``adaptive`` (ALIF), ``synaptic`` (current-based LIF), ``recurrent`` (recurrent LIF) and
``original`` (the original spikingtorch package's models); the IF/LIF dynamics below are the
template the others extend.

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

:func:`if_scan` and :func:`lif_scan` (in ``scan``) run the IF / LIF recurrence over a whole
time-first sequence ``(T, N, *F)`` in one autograd node with a hand-written backward; the
neurons' ``scan`` (sequence mode) uses them. On CPU (float32/float64, scalar threshold and
decay) they run in a small C kernel built on first use; :func:`native_status` says whether it
is in use, and ``SPIKINGTORCH_NATIVE=0`` turns it off (see ``functional/_native.py``). On CUDA
they can run as two Triton kernels (one launch per scan; opt-in with ``SPIKINGTORCH_TRITON=1``
until validated on a GPU, see ``functional/_triton_scan.py``); :func:`triton_status` says which.

The original spikingtorch package's models (McCulloch-Pitts unit, coarse-scale LIF, two-input
BioLIF, SpikingDecay) have their steps in :mod:`spikingtorch_neurons.functional.original`.
"""

from spikingtorch_neurons.functional._common import (
    RESET_MODES,
    Param,
    check_reset,
    reset_membrane,
)
from spikingtorch_neurons.functional._native import native_status
from spikingtorch_neurons.functional._triton_scan import triton_status
from spikingtorch_neurons.functional.adaptive import ALIFState, alif_step, alif_threshold
from spikingtorch_neurons.functional.integrate import IFState, LIFState, if_step, lif_step
from spikingtorch_neurons.functional.original import (
    BioLIFState,
    CoarseLIFState,
    McPittsState,
    SpikingDecayState,
    biolif_step,
    coarse_lif_coefficients,
    coarse_lif_step,
    mcpitts_step,
    spiking_decay_step,
    split_conductance,
)
from spikingtorch_neurons.functional.recurrent import (
    RECURRENT_MODES,
    RecurrentLIFState,
    recurrent_input,
    recurrent_lif_step,
)
from spikingtorch_neurons.functional.scan import if_scan, lif_scan
from spikingtorch_neurons.functional.scan_adaptive import alif_scan, synaptic_lif_scan
from spikingtorch_neurons.functional.synaptic import SynapticLIFState, synaptic_lif_step

__all__ = [
    "RECURRENT_MODES",
    "RESET_MODES",
    "ALIFState",
    "BioLIFState",
    "CoarseLIFState",
    "IFState",
    "LIFState",
    "McPittsState",
    "Param",
    "RecurrentLIFState",
    "SpikingDecayState",
    "SynapticLIFState",
    "alif_scan",
    "alif_step",
    "alif_threshold",
    "biolif_step",
    "check_reset",
    "coarse_lif_coefficients",
    "coarse_lif_step",
    "if_scan",
    "if_step",
    "lif_scan",
    "lif_step",
    "mcpitts_step",
    "native_status",
    "recurrent_input",
    "recurrent_lif_step",
    "reset_membrane",
    "spiking_decay_step",
    "split_conductance",
    "synaptic_lif_scan",
    "synaptic_lif_step",
    "triton_status",
]
