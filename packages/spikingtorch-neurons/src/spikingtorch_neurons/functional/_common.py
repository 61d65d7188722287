"""Pieces shared by every neuron's step function: reset modes and hyper-parameter types."""

from __future__ import annotations

from typing import TypeAlias

from torch import Tensor

__all__ = ["RESET_MODES", "Param", "check_reset", "reset_membrane", "sum_to_param"]

#: The reset modes every neuron of this package accepts.
RESET_MODES: tuple[str, ...] = ("zero", "subtract", "none")

#: A hyper-parameter: a Python number or a tensor broadcastable to the input.
Param: TypeAlias = float | Tensor


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
        >>> import torch
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


def sum_to_param(g: Tensor, p: Tensor) -> Tensor:
    """Reduce a gradient ``g`` broadcast against ``(T, N, *F)`` or ``(N, *F)`` to ``p``'s shape
    and dtype (the gradient of a per-neuron tensor, or of a scalar tensor).

    Example:
        >>> import torch
        >>> sum_to_param(torch.ones(2, 3, 4), torch.zeros(4)).tolist()
        [6.0, 6.0, 6.0, 6.0]
    """
    if g.shape != p.shape:
        g = g.sum_to_size(p.shape) if p.dim() > 0 else g.sum()
    return g.to(p.dtype)
