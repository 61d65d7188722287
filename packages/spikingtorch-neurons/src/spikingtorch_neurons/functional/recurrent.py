"""Leaky integrate-and-fire step with recurrent spike feedback (:func:`recurrent_lif_step`)."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from spikingtorch.surrogate import Sigmoid, SurrogateFunction
from spikingtorch.surrogate import get as get_surrogate
from spikingtorch_neurons.functional._common import Param, reset_membrane

__all__ = ["RECURRENT_MODES", "RecurrentLIFState", "recurrent_input", "recurrent_lif_step"]

#: The recurrent connectivities :func:`recurrent_lif_step` accepts.
RECURRENT_MODES: tuple[str, ...] = ("dense", "one_to_one")

_DEFAULT_SURROGATE = Sigmoid()


class RecurrentLIFState(NamedTuple):
    """State of a recurrent leaky integrate-and-fire layer.

    Attributes:
        v: membrane potential ``v_t`` before its reset, shape ``(N, *F)``.
        s: spikes ``s_t`` of the last step (fed back at the next step), shape ``(N, *F)``.
    """

    v: Tensor
    s: Tensor

    @classmethod
    def zeros_like(cls, x: Tensor) -> RecurrentLIFState:
        """The resting state (``v = 0``, no spike) for inputs shaped like ``x``."""
        return cls(torch.zeros_like(x), torch.zeros_like(x))


def recurrent_input(s: Tensor, weight: Tensor, recurrent: str = "dense") -> Tensor:
    """The feedback ``W s`` of the previous spikes.

    Args:
        s: spikes ``s_{t-1}``: ``(N, ..., F)`` for ``"dense"``, ``(N, *F)`` for
            ``"one_to_one"``.
        weight: ``(F, F)`` with ``weight[j, k]`` from neuron ``k`` to neuron ``j`` (as in
            ``nn.Linear``: ``W s = s @ weight.T`` over the last dimension) for ``"dense"``; a
            tensor broadcastable to ``F`` for ``"one_to_one"`` (``W s = weight * s``).
        recurrent: ``"dense"`` or ``"one_to_one"``.

    Returns:
        ``W s``, shaped like ``s``.

    Example:
        >>> w = torch.tensor([[0.0, 2.0], [3.0, 0.0]])
        >>> recurrent_input(torch.tensor([[1.0, 0.0]]), w)
        tensor([[0., 3.]])
    """
    if recurrent == "dense":
        return s @ weight.transpose(-1, -2)
    if recurrent == "one_to_one":
        return weight * s
    raise ValueError(f"recurrent must be one of {RECURRENT_MODES}, got {recurrent!r}")


def recurrent_lif_step(
    x: Tensor,
    state: RecurrentLIFState,
    *,
    weight: Tensor,
    decay: Param,
    recurrent: str = "dense",
    threshold: Param = 1.0,
    input_scale: Param | None = None,
    reset: str = "zero",
    surrogate: SurrogateFunction | str = _DEFAULT_SURROGATE,
    detach_reset: bool = False,
) -> tuple[Tensor, RecurrentLIFState]:
    """One step of a LIF layer whose previous spikes feed back through ``W``.

    ::

        v_t = a * r(v_{t-1}, s_{t-1}) + b * x_t + W s_{t-1}
        s_t = H(v_t - theta)                   (a spike iff v_t > theta)

    ``W s`` is a dense matrix product over the last (feature) dimension for
    ``recurrent="dense"`` and an elementwise, per-neuron product for ``"one_to_one"`` (see
    :func:`recurrent_input`); ``r`` is the LIF reset, applied at the start of the next step.
    The fed-back spikes are never detached (``detach_reset`` only affects ``r``).

    Args:
        x: input ``x_t``, shape ``(N, ..., F)`` (dense) or ``(N, *F)`` (one-to-one).
        state: ``(v_{t-1}, s_{t-1})``; :meth:`RecurrentLIFState.zeros_like` starts at rest.
        weight: ``W``, see :func:`recurrent_input`.
        decay: ``a`` in ``(0, 1]``.
        recurrent: ``"dense"`` or ``"one_to_one"``.
        threshold: ``theta``.
        input_scale: ``b``; ``None`` means ``b = 1``.
        reset: ``"zero"``, ``"subtract"`` or ``"none"``.
        surrogate: surrogate gradient of ``H`` (instance or name).
        detach_reset: no gradient through the spike inside the reset.

    Returns:
        ``(s_t, RecurrentLIFState(v_t, s_t))``; spikes shaped and typed like ``x``.

    Example:
        >>> w = torch.tensor([[0.0, 0.0], [0.75, 0.0]])  # neuron 0 excites neuron 1
        >>> x = torch.tensor([[1.5, 0.5]])
        >>> state = RecurrentLIFState.zeros_like(x)
        >>> s, state = recurrent_lif_step(x, state, weight=w, decay=0.5)
        >>> s, state.v
        (tensor([[1., 0.]]), tensor([[1.5000, 0.5000]]))
        >>> s, state = recurrent_lif_step(x, state, weight=w, decay=0.5)
        >>> s, state.v  # neuron 1: 0.25 + 0.5 + 0.75 (the feedback of neuron 0's spike)
        (tensor([[1., 1.]]), tensor([[1.5000, 1.5000]]))
    """
    v = decay * reset_membrane(state.v, state.s, threshold, reset, detach_reset)
    v = v + (x if input_scale is None else input_scale * x)
    v = v + recurrent_input(state.s, weight, recurrent)
    s = get_surrogate(surrogate)(v - threshold)
    return s, RecurrentLIFState(v, s)
