"""Pure steps of the original spikingtorch package's neuron models.

The original package (``anglyan/spikingtorch``) shipped, besides IF and LIF, a McCulloch-Pitts
threshold unit, a coarse-scale LIF (Yanguas-Gil 2020), a two-input conductance-based LIF
("BioLIF") and a decay neuron. These functions reimplement their dynamics, with two defects of
the original fixed everywhere: a spike is ``v > threshold`` (the original's sign-based step gave
``0.5`` at ``v == threshold``), and every model returns the spikes of the *current* step (the
original ``SpikingDecay`` returned the previous step's).

Shapes: inputs are ``(N, *F)``; states and spikes have the same shape. Hyper-parameters are
floats or tensors broadcastable to the input. ``H`` is the Heaviside step with a surrogate
gradient (:mod:`spikingtorch.surrogate`). Each state keeps the membrane ``v_t`` *before* its
reset, and the spikes ``s_t``::

    McPitts:       v_t = x_t                                       (no memory)
    CoarseLIF:     v_t = (1 - s_{t-1}) (a v_{t-1} + b x_t) + s_{t-1} c x_t
    BioLIF:        nu_t = 1 + ge_t + gi_t,  a_t = a^nu_t
                   v_t = a_t r(v_{t-1}, s_{t-1}) + (1 - a_t) ge_t / nu_t
    SpikingDecay:  v_t = a r(v_{t-1}, s_{t-1}) + x_t               (a = 1 / tau)
    all:           s_t = H(v_t - theta)

with the reset ``r`` of :func:`~spikingtorch_neurons.functional.reset_membrane` (``"zero"``,
``"subtract"`` or ``"none"``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

from spikingtorch.surrogate import Sigmoid, SurrogateFunction
from spikingtorch.surrogate import get as get_surrogate
from spikingtorch_neurons.functional._common import Param, reset_membrane

__all__ = [
    "BioLIFState",
    "CoarseLIFState",
    "McPittsState",
    "SpikingDecayState",
    "biolif_step",
    "coarse_lif_coefficients",
    "coarse_lif_step",
    "mcpitts_step",
    "spiking_decay_step",
    "split_conductance",
]

_DEFAULT_SURROGATE = Sigmoid()

# Below this leak rate u = -log(a) the coarse-LIF coefficient c is evaluated by its Taylor
# series: the closed form (1 - b) / u cancels catastrophically there (in float32 especially).
_SERIES_BELOW = 0.05


class McPittsState(NamedTuple):
    """State of the McCulloch-Pitts unit: its last input and spikes, kept for read-out only.

    Attributes:
        v: the last input ``x_t`` (the unit's "membrane"), shape ``(N, *F)``.
        s: the last spikes ``s_t``, shape ``(N, *F)``.
    """

    v: Tensor
    s: Tensor

    @classmethod
    def zeros_like(cls, x: Tensor) -> McPittsState:
        """The empty record (``v = 0``, no spike) for inputs shaped like ``x``."""
        return cls(torch.zeros_like(x), torch.zeros_like(x))


class CoarseLIFState(NamedTuple):
    """State of the coarse-scale LIF neuron.

    Attributes:
        v: membrane potential ``v_t``, shape ``(N, *F)``.
        s: spikes ``s_t`` of the last step, shape ``(N, *F)``.
    """

    v: Tensor
    s: Tensor

    @classmethod
    def zeros_like(cls, x: Tensor) -> CoarseLIFState:
        """The resting state (``v = 0``, no spike) for inputs shaped like ``x``."""
        return cls(torch.zeros_like(x), torch.zeros_like(x))


class BioLIFState(NamedTuple):
    """State of the conductance-based BioLIF neuron.

    Attributes:
        v: membrane potential ``v_t`` before its reset, shape ``(N, *F)``.
        s: spikes ``s_t`` of the last step, shape ``(N, *F)``.
    """

    v: Tensor
    s: Tensor

    @classmethod
    def zeros_like(cls, x: Tensor) -> BioLIFState:
        """The resting state (``v = 0``, no spike) for inputs shaped like ``x``."""
        return cls(torch.zeros_like(x), torch.zeros_like(x))


class SpikingDecayState(NamedTuple):
    """State of the SpikingDecay neuron.

    Attributes:
        v: membrane potential ``v_t`` before its reset, shape ``(N, *F)``.
        s: spikes ``s_t`` of the last step, shape ``(N, *F)``.
    """

    v: Tensor
    s: Tensor

    @classmethod
    def zeros_like(cls, x: Tensor) -> SpikingDecayState:
        """The resting state (``v = 0``, no spike) for inputs shaped like ``x``."""
        return cls(torch.zeros_like(x), torch.zeros_like(x))


def mcpitts_step(
    x: Tensor,
    state: McPittsState | None = None,
    *,
    threshold: Param = 1.0,
    surrogate: SurrogateFunction | str = _DEFAULT_SURROGATE,
) -> tuple[Tensor, McPittsState]:
    """One step of the McCulloch-Pitts threshold unit: ``s_t = H(x_t - theta)``.

    Args:
        x: input ``x_t``, shape ``(N, *F)``.
        state: ignored (the unit has no memory); accepted so that every step function has the
            form ``step(x, state) -> (spikes, state)``.
        threshold: ``theta``, float or tensor broadcastable to ``x``.
        surrogate: surrogate gradient of ``H`` (instance or name).

    Returns:
        ``(s_t, McPittsState(x_t, s_t))``; spikes shaped and typed like ``x``.

    Example:
        >>> s, state = mcpitts_step(torch.tensor([0.5, 1.0, 1.5]))
        >>> s
        tensor([0., 0., 1.])
    """
    s = get_surrogate(surrogate)(x - threshold)
    return s, McPittsState(x, s)


def coarse_lif_coefficients(decay: Param) -> tuple[Param, Param]:
    """The input weights ``(b, c)`` of the coarse-scale LIF for the decay ``a = exp(-1/tau)``.

    ``b = tau (1 - a)`` and ``c = tau (1 - b)``, computed from ``u = 1 / tau = -log(a)`` as
    ``b = -expm1(-u) / u`` and ``c = (1 - b) / u``, the latter by its Taylor series
    ``1/2 - u/6 + u^2/24 - ...`` for small ``u`` where the closed form cancels.

    Args:
        decay: ``a`` in ``(0, 1)``, a float or a tensor (gradients flow through a tensor).

    Returns:
        ``(b, c)``: floats for a float ``a``, tensors for a tensor.

    Example:
        >>> b, c = coarse_lif_coefficients(math.exp(-1 / 4))
        >>> round(b, 6), round(c, 6)
        (0.884797, 0.460813)
    """
    if isinstance(decay, Tensor):
        u = -torch.log(decay)
        b = -torch.expm1(-u) / u
        small = u < _SERIES_BELOW
        u_safe = torch.where(small, torch.ones_like(u), u)  # keep the unused branch finite
        closed = (1 - b) / u_safe
        return b, torch.where(small, _c_series(u), closed)
    u_f = -math.log(decay)
    b_f = -math.expm1(-u_f) / u_f
    c_f = float(_c_series(u_f)) if u_f < _SERIES_BELOW else (1 - b_f) / u_f
    return b_f, c_f


def _c_series(u: Param) -> Param:
    """``(u + expm1(-u)) / u^2 = sum_k (-u)^k / (k + 2)!`` to order ``u^6`` (Horner form)."""
    result: Param = 1 / 40320
    for k in range(5, -1, -1):
        result = 1 / math.factorial(k + 2) - u * result
    return result


def coarse_lif_step(
    x: Tensor,
    state: CoarseLIFState,
    *,
    decay: Param,
    threshold: Param = 1.0,
    surrogate: SurrogateFunction | str = _DEFAULT_SURROGATE,
    detach_reset: bool = False,
) -> tuple[Tensor, CoarseLIFState]:
    """One step of the coarse-scale LIF neuron (Yanguas-Gil 2020).

    .. math::

        v_t = (1 - s_{t-1})\\,(a v_{t-1} + b x_t) + s_{t-1}\\, c\\, x_t, \\qquad
        s_t = H(v_t - \\theta)

    with ``a = exp(-1/tau)``, ``b = tau (1 - a)``, ``c = tau (1 - b)`` (see
    :func:`coarse_lif_coefficients`).

    Args:
        x: input ``x_t``, shape ``(N, *F)``.
        state: ``(v_{t-1}, s_{t-1})``; :meth:`CoarseLIFState.zeros_like` starts at rest.
        decay: ``a`` in ``(0, 1)``, float or tensor broadcastable to ``x``.
        threshold: ``theta``, float or tensor broadcastable to ``x``.
        surrogate: surrogate gradient of ``H`` (instance or name).
        detach_reset: no gradient through the previous spike ``s_{t-1}``.

    Returns:
        ``(s_t, CoarseLIFState(v_t, s_t))``; spikes shaped and typed like ``x``.

    Example:
        >>> x = torch.tensor([0.5])
        >>> state = CoarseLIFState.zeros_like(x)
        >>> out = []
        >>> for _ in range(4):
        ...     s, state = coarse_lif_step(x, state, decay=math.exp(-1 / 4))
        ...     out.append((round(state.v.item(), 4), s.item()))
        >>> out
        [(0.4424, 0.0), (0.7869, 0.0), (1.0553, 1.0), (0.2304, 0.0)]
    """
    b, c = coarse_lif_coefficients(decay)
    s_prev = state.s.detach() if detach_reset else state.s
    v = (1 - s_prev) * (decay * state.v + b * x) + s_prev * (c * x)
    s = get_surrogate(surrogate)(v - threshold)
    return s, CoarseLIFState(v, s)


def split_conductance(x: Tensor) -> tuple[Tensor, Tensor]:
    """Split a signed drive into excitatory and inhibitory conductances ``(max(x, 0), max(-x, 0))``.

    Example:
        >>> split_conductance(torch.tensor([-0.5, 2.0]))
        (tensor([0., 2.]), tensor([0.5000, 0.0000]))
    """
    return torch.relu(x), torch.relu(-x)


def biolif_step(
    x_exc: Tensor,
    x_inh: Tensor,
    state: BioLIFState,
    *,
    decay: Param,
    threshold: Param = 0.5,
    reset: str = "zero",
    surrogate: SurrogateFunction | str = _DEFAULT_SURROGATE,
    detach_reset: bool = False,
    detach_decay: bool = False,
) -> tuple[Tensor, BioLIFState]:
    """One step of the conductance-based BioLIF neuron.

    .. math::

        \\nu_t = 1 + g^e_t + g^i_t, \\qquad a_t = a^{\\nu_t}, \\qquad
        v_t = a_t\\, r(v_{t-1}, s_{t-1}) + (1 - a_t)\\, \\frac{g^e_t}{\\nu_t}, \\qquad
        s_t = H(v_t - \\theta)

    This integrates ``dv/dt = -(v - 0) - g^e (v - 1) - g^i (v - 0)`` (leak and inhibitory
    reversal potentials 0, excitatory 1, conductances in units of the leak conductance and held
    constant over the step) exactly over one step: ``v`` relaxes towards ``g^e / nu`` at the
    rate ``nu / tau``, with the resting decay ``a = exp(-1/tau)``.

    Args:
        x_exc: excitatory conductance ``g^e_t >= 0``, shape ``(N, *F)``.
        x_inh: inhibitory conductance ``g^i_t >= 0``, same shape and dtype as ``x_exc``.
        state: ``(v_{t-1}, s_{t-1})``; :meth:`BioLIFState.zeros_like` starts at rest.
        decay: resting decay ``a`` in ``(0, 1)``, float or tensor broadcastable to the input.
        threshold: ``theta``, float or tensor broadcastable to the input.
        reset: ``"zero"``, ``"subtract"`` or ``"none"`` (see :func:`reset_membrane`).
        surrogate: surrogate gradient of ``H`` (instance or name).
        detach_reset: no gradient through the spike inside the reset.
        detach_decay: no gradient through ``a_t`` (the original package detached it).

    Returns:
        ``(s_t, BioLIFState(v_t, s_t))``; spikes shaped and typed like ``x_exc``.

    The conductances are not checked (that would synchronise with the device each step):
    ``nu_t <= 0`` gives non-finite values. :func:`split_conductance` turns a signed drive into
    valid conductances.

    Example:
        >>> ge, gi = torch.tensor([3.0]), torch.tensor([0.0])
        >>> state = BioLIFState.zeros_like(ge)
        >>> for _ in range(2):
        ...     s, state = biolif_step(ge, gi, state, decay=math.exp(-0.25))
        >>> round(state.v.item(), 4), s.item()
        (0.6485, 1.0)
    """
    nu = 1 + x_exc + x_inh
    log_a = torch.log(decay) if isinstance(decay, Tensor) else math.log(decay)
    a = torch.exp(nu * log_a)
    if detach_decay:
        a = a.detach()
    v = a * reset_membrane(state.v, state.s, threshold, reset, detach_reset)
    v = v + (1 - a) * (x_exc / nu)
    s = get_surrogate(surrogate)(v - threshold)
    return s, BioLIFState(v, s)


def spiking_decay_step(
    x: Tensor,
    state: SpikingDecayState,
    *,
    decay: Param,
    threshold: Param = 1.0,
    reset: str = "zero",
    surrogate: SurrogateFunction | str = _DEFAULT_SURROGATE,
    detach_reset: bool = False,
) -> tuple[Tensor, SpikingDecayState]:
    """One step of the original package's SpikingDecay neuron.

    .. math::

        v_t = a\\, r(v_{t-1}, s_{t-1}) + x_t, \\qquad s_t = H(v_t - \\theta),
        \\qquad a = 1 / \\tau

    Args:
        x: input ``x_t``, shape ``(N, *F)``.
        state: ``(v_{t-1}, s_{t-1})``; :meth:`SpikingDecayState.zeros_like` starts at rest.
        decay: ``a`` in ``(0, 1]``, float or tensor broadcastable to ``x``.
        threshold: ``theta``, float or tensor broadcastable to ``x``.
        reset: ``"zero"``, ``"subtract"`` or ``"none"`` (see :func:`reset_membrane`).
        surrogate: surrogate gradient of ``H`` (instance or name).
        detach_reset: no gradient through the spike inside the reset.

    Returns:
        ``(s_t, SpikingDecayState(v_t, s_t))``: the spikes of *this* step (the original
        returned ``s_{t-1}``).

    Example:
        >>> x = torch.tensor([0.75])
        >>> state = SpikingDecayState.zeros_like(x)
        >>> out = []
        >>> for _ in range(3):
        ...     s, state = spiking_decay_step(x, state, decay=0.5)
        ...     out.append((state.v.item(), s.item()))
        >>> out
        [(0.75, 0.0), (1.125, 1.0), (0.75, 0.0)]
    """
    v = decay * reset_membrane(state.v, state.s, threshold, reset, detach_reset) + x
    s = get_surrogate(surrogate)(v - threshold)
    return s, SpikingDecayState(v, s)
