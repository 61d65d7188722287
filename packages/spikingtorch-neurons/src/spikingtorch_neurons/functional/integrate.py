"""Integrate-and-fire (:func:`if_step`) and leaky integrate-and-fire (:func:`lif_step`) steps."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from spikingtorch.surrogate import Sigmoid, SurrogateFunction
from spikingtorch.surrogate import get as get_surrogate
from spikingtorch_neurons.functional._common import Param, reset_membrane

__all__ = ["IFState", "LIFState", "if_step", "lif_step"]

_DEFAULT_SURROGATE = Sigmoid()


class IFState(NamedTuple):
    """State of an integrate-and-fire neuron.

    Attributes:
        v: membrane potential ``v_t`` before its reset, shape ``(N, *F)``.
        s: spikes ``s_t`` of the last step, shape ``(N, *F)``.
    """

    v: Tensor
    s: Tensor

    @classmethod
    def zeros_like(cls, x: Tensor) -> IFState:
        """The resting state (``v = 0``, no spike) for inputs shaped like ``x``."""
        return cls(torch.zeros_like(x), torch.zeros_like(x))


class LIFState(NamedTuple):
    """State of a leaky integrate-and-fire neuron.

    Attributes:
        v: membrane potential ``v_t`` before its reset, shape ``(N, *F)``.
        s: spikes ``s_t`` of the last step, shape ``(N, *F)``.
    """

    v: Tensor
    s: Tensor

    @classmethod
    def zeros_like(cls, x: Tensor) -> LIFState:
        """The resting state (``v = 0``, no spike) for inputs shaped like ``x``."""
        return cls(torch.zeros_like(x), torch.zeros_like(x))


def if_step(
    x: Tensor,
    state: IFState,
    *,
    threshold: Param = 1.0,
    reset: str = "zero",
    surrogate: SurrogateFunction | str = _DEFAULT_SURROGATE,
    detach_reset: bool = False,
) -> tuple[Tensor, IFState]:
    """One step of the integrate-and-fire neuron.

    .. math::

        v_t = r(v_{t-1}, s_{t-1}) + x_t, \\qquad s_t = H(v_t - \\theta)

    Args:
        x: input current ``x_t``, shape ``(N, *F)``.
        state: ``(v_{t-1}, s_{t-1})``; :meth:`IFState.zeros_like` starts at rest.
        threshold: ``theta``, float or tensor broadcastable to ``x``.
        reset: ``"zero"``, ``"subtract"`` or ``"none"`` (see :func:`reset_membrane`).
        surrogate: surrogate gradient of ``H`` (instance or name).
        detach_reset: no gradient through the spike inside the reset.

    Returns:
        ``(s_t, IFState(v_t, s_t))``; spikes shaped and typed like ``x``.

    Example:
        >>> x = torch.tensor([0.6])
        >>> state = IFState.zeros_like(x)
        >>> out = []
        >>> for _ in range(4):
        ...     s, state = if_step(x, state)
        ...     out.append((round(state.v.item(), 4), s.item()))
        >>> out
        [(0.6, 0.0), (1.2, 1.0), (0.6, 0.0), (1.2, 1.0)]
    """
    v = reset_membrane(state.v, state.s, threshold, reset, detach_reset) + x
    s = get_surrogate(surrogate)(v - threshold)
    return s, IFState(v, s)


def lif_step(
    x: Tensor,
    state: LIFState,
    *,
    decay: Param,
    threshold: Param = 1.0,
    input_scale: Param | None = None,
    reset: str = "zero",
    surrogate: SurrogateFunction | str = _DEFAULT_SURROGATE,
    detach_reset: bool = False,
) -> tuple[Tensor, LIFState]:
    """One step of the leaky integrate-and-fire neuron.

    .. math::

        v_t = a\\, r(v_{t-1}, s_{t-1}) + b\\, x_t, \\qquad s_t = H(v_t - \\theta)

    With a time constant ``tau`` (in steps), ``a = exp(-1 / tau)``.

    Args:
        x: input current ``x_t``, shape ``(N, *F)``.
        state: ``(v_{t-1}, s_{t-1})``; :meth:`LIFState.zeros_like` starts at rest.
        decay: ``a`` in ``(0, 1]``, float or tensor broadcastable to ``x``.
        threshold: ``theta``, float or tensor broadcastable to ``x``.
        input_scale: ``b``; ``None`` means ``b = 1`` (the input enters unscaled).
        reset: ``"zero"``, ``"subtract"`` or ``"none"`` (see :func:`reset_membrane`).
        surrogate: surrogate gradient of ``H`` (instance or name).
        detach_reset: no gradient through the spike inside the reset.

    Returns:
        ``(s_t, LIFState(v_t, s_t))``; spikes shaped and typed like ``x``.

    Example:
        >>> x = torch.tensor([0.6])
        >>> state = LIFState.zeros_like(x)
        >>> out = []
        >>> for _ in range(3):
        ...     s, state = lif_step(x, state, decay=0.5)
        ...     out.append((round(state.v.item(), 4), s.item()))
        >>> out
        [(0.6, 0.0), (0.9, 0.0), (1.05, 1.0)]
    """
    v = decay * reset_membrane(state.v, state.s, threshold, reset, detach_reset)
    v = v + (x if input_scale is None else input_scale * x)
    s = get_surrogate(surrogate)(v - threshold)
    return s, LIFState(v, s)
