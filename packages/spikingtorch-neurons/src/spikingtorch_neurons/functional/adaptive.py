"""Adaptive leaky integrate-and-fire step (:func:`alif_step`): a LIF with threshold adaptation."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from spikingtorch.surrogate import Sigmoid, SurrogateFunction
from spikingtorch.surrogate import get as get_surrogate
from spikingtorch_neurons.functional._common import Param, reset_membrane

__all__ = ["ALIFState", "alif_step", "alif_threshold"]

_DEFAULT_SURROGATE = Sigmoid()


class ALIFState(NamedTuple):
    """State of an adaptive leaky integrate-and-fire neuron.

    Attributes:
        v: membrane potential ``v_t`` before its reset, shape ``(N, *F)``.
        s: spikes ``s_t`` of the last step, shape ``(N, *F)``.
        w: adaptation ``w_t`` that set the threshold ``theta_t = theta_0 + beta w_t`` of the
            last step, shape ``(N, *F)``.
    """

    v: Tensor
    s: Tensor
    w: Tensor

    @classmethod
    def zeros_like(cls, x: Tensor) -> ALIFState:
        """The resting state (``v = 0``, no spike, no adaptation) for inputs shaped like ``x``."""
        return cls(torch.zeros_like(x), torch.zeros_like(x), torch.zeros_like(x))


def alif_threshold(w: Tensor, *, threshold: Param = 1.0, adapt_strength: Param = 0.1) -> Tensor:
    """The effective threshold ``theta = theta_0 + beta w`` for an adaptation ``w``.

    Example:
        >>> alif_threshold(torch.tensor([0.0, 2.0]), threshold=1.0, adapt_strength=0.25)
        tensor([1.0000, 1.5000])
    """
    return threshold + adapt_strength * w


def alif_step(
    x: Tensor,
    state: ALIFState,
    *,
    decay: Param,
    adapt_decay: Param,
    adapt_strength: Param,
    threshold: Param = 1.0,
    input_scale: Param | None = None,
    reset: str = "zero",
    surrogate: SurrogateFunction | str = _DEFAULT_SURROGATE,
    detach_reset: bool = False,
) -> tuple[Tensor, ALIFState]:
    """One step of the adaptive LIF neuron (threshold adaptation, Bellec et al. 2018, "LSNN").

    Each spike raises the neuron's threshold by ``beta``; the raise decays by ``rho`` per step.
    The previous spike ``s_{t-1}`` both resets the membrane and feeds the adaptation at the
    start of step ``t``::

        w_t     = rho * w_{t-1} + s_{t-1}
        theta_t = theta_0 + beta * w_t
        v_t     = a * r(v_{t-1}, s_{t-1}) + b * x_t
        s_t     = H(v_t - theta_t)               (a spike iff v_t > theta_t)

    The reset ``r`` is ``(1 - s) v`` (``"zero"``), ``v - theta_{t-1} s`` (``"subtract"``: the
    *effective* threshold that the spike crossed, ``theta_0 + beta w_{t-1}``) or ``v``
    (``"none"``). Bellec et al. write ``w_t = rho w_{t-1} + (1 - rho) s_{t-1}``; with a fixed
    ``rho`` that is this model with ``beta (1 - rho)`` in place of ``beta``.

    Args:
        x: input current ``x_t``, shape ``(N, *F)``.
        state: ``(v_{t-1}, s_{t-1}, w_{t-1})``; :meth:`ALIFState.zeros_like` starts at rest.
        decay: membrane decay ``a`` in ``(0, 1]``; ``a = exp(-1 / tau)``.
        adapt_decay: adaptation decay ``rho`` in ``(0, 1]``; ``rho = exp(-1 / tau_adapt)``.
        adapt_strength: ``beta >= 0``, the threshold raise per spike.
        threshold: baseline threshold ``theta_0``.
        input_scale: ``b``; ``None`` means ``b = 1``.
        reset: ``"zero"``, ``"subtract"`` or ``"none"``.
        surrogate: surrogate gradient of ``H`` (instance or name).
        detach_reset: no gradient through the spike inside the reset (the adaptation still
            receives it).

    Every hyper-parameter is a float or a tensor broadcastable to ``x``.

    Returns:
        ``(s_t, ALIFState(v_t, s_t, w_t))``; spikes shaped and typed like ``x``.

    Example:
        >>> x = torch.tensor([0.6])
        >>> state = ALIFState.zeros_like(x)
        >>> spikes = []
        >>> for _ in range(8):
        ...     s, state = alif_step(x, state, decay=0.5, adapt_decay=0.5, adapt_strength=0.5)
        ...     spikes.append(int(s.item()))
        >>> spikes  # a LIF (beta = 0) spikes every third step: [0, 0, 1, 0, 0, 1, 0, 0]
        [0, 0, 1, 0, 0, 0, 1, 0]
    """
    theta_prev = threshold + adapt_strength * state.w
    v = decay * reset_membrane(state.v, state.s, theta_prev, reset, detach_reset)
    v = v + (x if input_scale is None else input_scale * x)
    w = adapt_decay * state.w + state.s
    s = get_surrogate(surrogate)(v - (threshold + adapt_strength * w))
    return s, ALIFState(v, s, w)
