"""Current-based (synaptic) leaky integrate-and-fire step (:func:`synaptic_lif_step`)."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from spikingtorch.surrogate import Sigmoid, SurrogateFunction
from spikingtorch.surrogate import get as get_surrogate
from spikingtorch_neurons.functional._common import Param, reset_membrane

__all__ = ["SynapticLIFState", "synaptic_lif_step"]

_DEFAULT_SURROGATE = Sigmoid()


class SynapticLIFState(NamedTuple):
    """State of a current-based leaky integrate-and-fire neuron.

    Attributes:
        i: synaptic current ``i_t``, shape ``(N, *F)``.
        v: membrane potential ``v_t`` before its reset, shape ``(N, *F)``.
        s: spikes ``s_t`` of the last step, shape ``(N, *F)``.
    """

    i: Tensor
    v: Tensor
    s: Tensor

    @classmethod
    def zeros_like(cls, x: Tensor) -> SynapticLIFState:
        """The resting state (no current, ``v = 0``, no spike) for inputs shaped like ``x``."""
        return cls(torch.zeros_like(x), torch.zeros_like(x), torch.zeros_like(x))


def synaptic_lif_step(
    x: Tensor,
    state: SynapticLIFState,
    *,
    decay: Param,
    syn_decay: Param,
    threshold: Param = 1.0,
    input_scale: Param | None = None,
    reset: str = "zero",
    surrogate: SurrogateFunction | str = _DEFAULT_SURROGATE,
    detach_reset: bool = False,
) -> tuple[Tensor, SynapticLIFState]:
    """One step of the current-based (CUBA) LIF neuron: the input charges a leaky current.

    ::

        i_t = alpha * i_{t-1} + b * x_t
        v_t = a * r(v_{t-1}, s_{t-1}) + i_t
        s_t = H(v_t - theta)                   (a spike iff v_t > theta)

    with ``alpha = exp(-1 / tau_syn)`` and ``a = exp(-1 / tau)``. A spike resets the membrane
    (``r`` as for the LIF, applied at the start of the next step) but not the current. With
    ``b = 1`` this is snnTorch's ``Synaptic`` neuron, except that ``"subtract"`` removes the
    threshold before the leak.

    Args:
        x: input ``x_t``, shape ``(N, *F)``.
        state: ``(i_{t-1}, v_{t-1}, s_{t-1})``; :meth:`SynapticLIFState.zeros_like` starts at
            rest.
        decay: membrane decay ``a`` in ``(0, 1]``.
        syn_decay: current decay ``alpha`` in ``(0, 1]``.
        threshold: ``theta``.
        input_scale: ``b``; ``None`` means ``b = 1``.
        reset: ``"zero"``, ``"subtract"`` or ``"none"``.
        surrogate: surrogate gradient of ``H`` (instance or name).
        detach_reset: no gradient through the spike inside the reset.

    Every hyper-parameter is a float or a tensor broadcastable to ``x``.

    Returns:
        ``(s_t, SynapticLIFState(i_t, v_t, s_t))``; spikes shaped and typed like ``x``.

    Example:
        >>> x = torch.tensor([1.0, 0.0, 0.0, 0.0])  # one pulse, then nothing
        >>> state = SynapticLIFState.zeros_like(x[:1])
        >>> trace = []
        >>> for x_t in x:
        ...     s, state = synaptic_lif_step(x_t.view(1), state, decay=0.5, syn_decay=0.5)
        ...     trace.append((state.i.item(), state.v.item(), s.item()))
        >>> trace  # the current outlasts the pulse and keeps charging the membrane
        [(1.0, 1.0, 0.0), (0.5, 1.0, 0.0), (0.25, 0.75, 0.0), (0.125, 0.5, 0.0)]
    """
    i = syn_decay * state.i + (x if input_scale is None else input_scale * x)
    v = decay * reset_membrane(state.v, state.s, threshold, reset, detach_reset) + i
    s = get_surrogate(surrogate)(v - threshold)
    return s, SynapticLIFState(i, v, s)
