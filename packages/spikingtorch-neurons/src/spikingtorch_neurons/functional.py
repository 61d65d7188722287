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

from __future__ import annotations

from typing import NamedTuple, TypeAlias

import torch
from torch import Tensor

from spikingtorch.surrogate import Sigmoid, SurrogateFunction
from spikingtorch.surrogate import get as get_surrogate

__all__ = [
    "RESET_MODES",
    "IFState",
    "LIFState",
    "check_reset",
    "if_step",
    "lif_step",
    "reset_membrane",
]

#: The reset modes every neuron of this package accepts.
RESET_MODES: tuple[str, ...] = ("zero", "subtract", "none")

#: A hyper-parameter: a Python number or a tensor broadcastable to the input.
Param: TypeAlias = float | Tensor

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


def check_reset(reset: object) -> str:
    """Validate a reset mode and return it.

    Args:
        reset: one of :data:`RESET_MODES`.

    Raises:
        TypeError: ``reset`` is not a string.
        ValueError: unknown mode; the message lists the valid ones.

    Example:
        >>> check_reset("subtract")
        'subtract'
    """
    valid = ", ".join(map(repr, RESET_MODES))
    if not isinstance(reset, str):
        raise TypeError(f"reset must be one of {valid}, got {type(reset).__name__}")
    if reset not in RESET_MODES:
        raise ValueError(f"reset must be one of {valid}, got {reset!r}")
    return reset


def reset_membrane(
    v: Tensor, s: Tensor, threshold: Param, reset: str, detach_reset: bool = False
) -> Tensor:
    """Apply the reset ``r(v, s)`` to the previous membrane.

    .. math::

        r(v, s) = \\begin{cases}
            (1 - s)\\,v & \\text{zero} \\\\
            v - \\theta s & \\text{subtract} \\\\
            v & \\text{none}
        \\end{cases}

    Args:
        v: previous membrane ``v_{t-1}``, shape ``(N, *F)``.
        s: previous spikes ``s_{t-1}``, shape ``(N, *F)``.
        threshold: ``theta``, float or tensor broadcastable to ``v``.
        reset: ``"zero"``, ``"subtract"`` or ``"none"``.
        detach_reset: use ``s.detach()`` inside ``r``.

    Returns:
        The reset membrane, shape ``(N, *F)``.

    Example:
        >>> v, s = torch.tensor([1.5, 0.5]), torch.tensor([1.0, 0.0])
        >>> reset_membrane(v, s, 1.0, "subtract")
        tensor([0.5000, 0.5000])
    """
    if reset == "none":
        return v
    if detach_reset:
        s = s.detach()
    if reset == "zero":
        return v * (1 - s)
    if reset == "subtract":
        return v - threshold * s
    check_reset(reset)  # raises: an unknown mode or a non-string
    raise AssertionError("unreachable")


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
