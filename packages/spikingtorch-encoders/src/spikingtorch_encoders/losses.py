"""Spike losses: classification losses on a spiking network's output over time.

Each loss takes the :class:`spikingtorch.SpikingNet` output ``(N, T, C, *d)`` (``N`` the batch,
``T`` the number of time steps, ``C`` the classes, ``*d`` optional extra dimensions such as
pixels; ``(T, N, C, *d)`` with ``batch_first=False``), decodes it over time with a function of
:mod:`spikingtorch_encoders.decoders`, and compares it with the target, usually class indices
``(N, *d)``:

* :func:`rate_cross_entropy` (:class:`RateCrossEntropyLoss`): cross-entropy with the scaled spike
  counts as logits: the class that fires most wins (rate code).
* :func:`count_mse` (:class:`CountMSELoss`): squared error between spike counts and target counts
  ``T r``, with rate ``on_rate`` for the correct class and ``off_rate`` for the others.
* :func:`first_spike_cross_entropy` (:class:`FirstSpikeCrossEntropyLoss`): cross-entropy with the
  negative first-spike times as logits: the class that fires first wins (latency code).

The functions are pure; the modules hold their options (``extra_repr`` shows them).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from spikingtorch_encoders.decoders import first_spike_time, spike_count, time_dim

__all__ = [
    "CountMSELoss",
    "FirstSpikeCrossEntropyLoss",
    "RateCrossEntropyLoss",
    "count_mse",
    "first_spike_cross_entropy",
    "rate_cross_entropy",
]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    return reduction


def _check_unit(name: str, value: float) -> float:
    """``value`` as a float in ``[0, 1]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return value


def _check_scale(value: float) -> float:
    """``scale`` as a positive, finite float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"scale must be a positive number, got {type(value).__name__}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"scale must be positive and finite, got {value!r}")
    return value


def _check_output(output: Tensor, batch_first: bool, who: str) -> int:
    """Check the network output ``(N, T, C, *d)``; return its time axis."""
    dim = time_dim(output, batch_first, who)
    if output.dim() < 3:
        layout = "(N, T, C, *d)" if batch_first else "(T, N, C, *d)"
        raise ValueError(
            f"{who} expects the network output {layout} (rank >= 3), got shape "
            f"{tuple(output.shape)}"
        )
    return dim


def _check_classes(scores: Tensor, target: Tensor, who: str) -> None:
    """Check class-index targets ``(N, *d)`` against decoded scores ``(N, C, *d)``."""
    expected = (scores.shape[0], *scores.shape[2:])
    if target.dtype == torch.bool or target.is_floating_point() or target.is_complex():
        raise TypeError(f"{who}: class-index targets must be integers, got dtype {target.dtype}")
    if tuple(target.shape) != expected:
        raise ValueError(
            f"{who}: class-index targets must have shape (N, *d) = {expected} for outputs with "
            f"decoded shape (N, C, *d) = {tuple(scores.shape)}, got {tuple(target.shape)}"
        )
    classes = scores.shape[1]
    if target.numel() and not bool(((target >= 0) & (target < classes)).all()):
        raise ValueError(
            f"{who}: class indices must lie in [0, {classes}), got values in "
            f"[{int(target.min())}, {int(target.max())}]"
        )


def _cross_entropy(
    logits: Tensor, target: Tensor, reduction: str, label_smoothing: float, who: str
) -> Tensor:
    if not isinstance(target, Tensor):
        raise TypeError(f"{who}: target must be a tensor, got {type(target).__name__}")
    if target.is_floating_point():  # class probabilities, shaped like the logits
        if target.shape != logits.shape:
            raise ValueError(
                f"{who}: class-probability targets must have the decoded shape (N, C, *d) = "
                f"{tuple(logits.shape)}, got {tuple(target.shape)}"
            )
    else:
        _check_classes(logits, target, who)
    return F.cross_entropy(
        logits,
        target,
        reduction=_check_reduction(reduction),
        label_smoothing=_check_unit("label_smoothing", label_smoothing),
    )


def rate_cross_entropy(
    output: Tensor,
    target: Tensor,
    *,
    scale: float = 1.0,
    batch_first: bool = True,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy with the scaled spike counts as logits (rate-coded classification).

    .. math::

        z_c = \\lambda \\sum_t s_{t,c}, \\qquad
        L = -\\log \\frac{e^{z_y}}{\\sum_c e^{z_c}}

    ``lambda = scale``; ``scale = 1 / T`` uses the mean rates as logits (a soft softmax:
    the loss cannot go below ``log(1 + (C - 1) / e)``), the default ``1`` the counts. This is
    ``F.cross_entropy(SumDecoder(scale)(output), target)``.

    Args:
        output: network output ``(N, T, C, *d)`` (``(T, N, C, *d)`` when ``batch_first`` is
            false), floating.
        target: class indices ``(N, *d)`` (integers in ``[0, C)``), or class probabilities of
            the decoded shape ``(N, C, *d)``.
        scale: ``lambda > 0``, the inverse temperature.
        batch_first: layout of ``output``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per sample, ``(N, *d)``).
        label_smoothing: as in :func:`torch.nn.functional.cross_entropy`.

    Returns:
        The loss: a scalar, or ``(N, *d)`` with ``reduction="none"``.

    Example:
        >>> import torch
        >>> out = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]])  # (N=1, T=3, C=2)
        >>> rate_cross_entropy(out, torch.tensor([0]))  # logits (2, 1): log(1 + e^-1)
        tensor(0.3133)
    """
    _check_output(output, batch_first, "rate_cross_entropy")
    scale = _check_scale(scale)
    logits = spike_count(output, batch_first=batch_first) * scale
    return _cross_entropy(logits, target, reduction, label_smoothing, "rate_cross_entropy")


def count_mse(
    output: Tensor,
    target: Tensor,
    *,
    on_rate: float = 1.0,
    off_rate: float = 0.0,
    batch_first: bool = True,
    reduction: str = "mean",
) -> Tensor:
    """Mean squared error between spike counts and target counts (snnTorch's ``mse_count_loss``).

    .. math::

        c_n = \\sum_t s_{t,n}, \\qquad \\hat c_n = T r_n, \\qquad
        L = \\operatorname{mean}_n (c_n - \\hat c_n)^2

    where the target rate ``r_n`` (spikes per step) is ``on_rate`` for the correct class and
    ``off_rate`` for the others, or is given per output. Counts, not rates, are compared, so the
    loss grows as ``T^2``; divide by ``T^2`` for the squared error of the rates.

    Args:
        output: network output ``(N, T, C, *d)`` (``(T, N, C, *d)`` when ``batch_first`` is
            false), floating.
        target: class indices ``(N, *d)`` (integers in ``[0, C)``), or target rates in ``[0, 1]``
            of the decoded shape ``(N, C, *d)``.
        on_rate: target rate of the correct class, in ``[0, 1]``.
        off_rate: target rate of the other classes, in ``[0, 1]``.
        batch_first: layout of ``output``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per output, ``(N, C, *d)``).

    Returns:
        The loss: a scalar, or ``(N, C, *d)`` with ``reduction="none"``.

    Example:
        >>> import torch
        >>> out = torch.tensor([[[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0]]])  # T=4, C=2
        >>> # counts (3, 1); targets (0.75 * 4, 0.25 * 4) = (3, 1)
        >>> count_mse(out, torch.tensor([0]), on_rate=0.75, off_rate=0.25)
        tensor(0.)
        >>> count_mse(out, torch.tensor([1]), on_rate=0.75, off_rate=0.25)  # ((3-1)² + (1-3)²)/2
        tensor(4.)
    """
    who = "count_mse"
    dim = _check_output(output, batch_first, who)
    on_rate = _check_unit("on_rate", on_rate)
    off_rate = _check_unit("off_rate", off_rate)
    _check_reduction(reduction)
    steps = output.shape[dim]
    counts = spike_count(output, batch_first=batch_first)
    if not isinstance(target, Tensor):
        raise TypeError(f"{who}: target must be a tensor, got {type(target).__name__}")
    if target.is_floating_point():
        if target.shape != counts.shape:
            raise ValueError(
                f"{who}: target rates must have the decoded shape (N, C, *d) = "
                f"{tuple(counts.shape)}, got {tuple(target.shape)}"
            )
        if not bool(((target >= 0) & (target <= 1)).all()):
            raise ValueError(f"{who}: target rates must lie in [0, 1] (spikes per step)")
        rates = target.to(counts.dtype)
    else:
        _check_classes(counts, target, who)
        one_hot = F.one_hot(target.long(), counts.shape[1]).movedim(-1, 1).to(counts.dtype)
        rates = off_rate + (on_rate - off_rate) * one_hot
    return F.mse_loss(counts, steps * rates, reduction=reduction)


def first_spike_cross_entropy(
    output: Tensor,
    target: Tensor,
    *,
    scale: float = 1.0,
    batch_first: bool = True,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy with the negative first-spike times as logits (latency-coded classification).

    .. math::

        z_c = -\\lambda\\, t_{first,c}, \\qquad
        L = -\\log \\frac{e^{z_y}}{\\sum_c e^{z_c}}

    (the time-to-first-spike loss of Mostafa 2017 and Comsa et al. 2020, in steps). ``t_first``
    is :func:`~spikingtorch_encoders.decoders.first_spike_time`: ``T`` for a class that never
    fires, with a finite gradient, so a silent correct class is pushed to fire early and the
    others to fire late. Minimising the loss makes the correct class fire first, by a margin
    that grows with ``lambda``.

    Args:
        output: network output spikes ``(N, T, C, *d)`` in ``[0, 1]`` (``(T, N, C, *d)`` when
            ``batch_first`` is false).
        target: class indices ``(N, *d)`` (integers in ``[0, C)``), or class probabilities of
            the decoded shape ``(N, C, *d)``.
        scale: ``lambda > 0``, the inverse temperature, per step.
        batch_first: layout of ``output``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per sample, ``(N, *d)``).
        label_smoothing: as in :func:`torch.nn.functional.cross_entropy`.

    Returns:
        The loss: a scalar, or ``(N, *d)`` with ``reduction="none"``.

    Example:
        >>> import torch
        >>> out = torch.tensor([[[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]])  # first spikes (1, 3)
        >>> first_spike_cross_entropy(out, torch.tensor([0]))  # logits (-1, -3): log(1 + e^-2)
        tensor(0.1269)
    """
    _check_output(output, batch_first, "first_spike_cross_entropy")
    scale = _check_scale(scale)
    logits = first_spike_time(output, batch_first=batch_first) * -scale
    return _cross_entropy(logits, target, reduction, label_smoothing, "first_spike_cross_entropy")


class _SpikeLoss(nn.Module):
    def __init__(self, *, batch_first: bool, reduction: str) -> None:
        super().__init__()
        self.batch_first = bool(batch_first)
        self.reduction = _check_reduction(reduction)

    def _repr_tail(self) -> list[str]:
        parts = [] if self.batch_first else ["batch_first=False"]
        if self.reduction != "mean":
            parts.append(f"reduction={self.reduction!r}")
        return parts


class _ScaledCrossEntropyLoss(_SpikeLoss):
    """Shared module form of the cross-entropy losses with an inverse temperature ``scale``.

    Subclasses name their functional form in :meth:`_logits_loss`.
    """

    def __init__(
        self,
        scale: float = 1.0,
        *,
        batch_first: bool = True,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(batch_first=batch_first, reduction=reduction)
        self.scale = _check_scale(scale)
        self.label_smoothing = _check_unit("label_smoothing", label_smoothing)

    def forward(self, output: Tensor, target: Tensor) -> Tensor:
        return self._logits_loss(
            output,
            target,
            scale=self.scale,
            batch_first=self.batch_first,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )

    def extra_repr(self) -> str:
        parts = [f"scale={self.scale:g}"]
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing:g}")
        return ", ".join([*parts, *self._repr_tail()])

    @staticmethod
    def _logits_loss(output: Tensor, target: Tensor, **kwargs: Any) -> Tensor:
        raise NotImplementedError


class RateCrossEntropyLoss(_ScaledCrossEntropyLoss):
    """Cross-entropy with the scaled spike counts as logits; see :func:`rate_cross_entropy`.

    Args:
        scale: inverse temperature ``lambda > 0`` (logits ``lambda * count``).
        batch_first: output ``(N, T, C, *d)`` when true, ``(T, N, C, *d)`` when false.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        label_smoothing: as in :class:`torch.nn.CrossEntropyLoss`.

    Shape:
        ``output`` ``(N, T, C, *d)``, ``target`` ``(N, *d)`` class indices; the loss is a scalar
        (``(N, *d)`` with ``reduction="none"``).

    Example:
        >>> import torch
        >>> loss = RateCrossEntropyLoss(scale=0.5)
        >>> loss
        RateCrossEntropyLoss(scale=0.5)
        >>> loss(torch.ones(2, 4, 3), torch.tensor([0, 2]))  # equal counts: log(3)
        tensor(1.0986)
    """

    @staticmethod
    def _logits_loss(output: Tensor, target: Tensor, **kwargs: Any) -> Tensor:
        return rate_cross_entropy(output, target, **kwargs)


class CountMSELoss(_SpikeLoss):
    """Squared error between spike counts and target counts ``T r``; see :func:`count_mse`.

    Args:
        on_rate: target rate (spikes per step) of the correct class, in ``[0, 1]``.
        off_rate: target rate of the other classes, in ``[0, 1]``.
        batch_first: output ``(N, T, C, *d)`` when true, ``(T, N, C, *d)`` when false.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Shape:
        ``output`` ``(N, T, C, *d)``, ``target`` ``(N, *d)`` class indices or ``(N, C, *d)``
        rates; the loss is a scalar (``(N, C, *d)`` with ``reduction="none"``).

    Example:
        >>> import torch
        >>> loss = CountMSELoss(on_rate=0.8, off_rate=0.2)
        >>> loss
        CountMSELoss(on_rate=0.8, off_rate=0.2)
        >>> loss(torch.zeros(1, 5, 2), torch.tensor([1]))  # targets (1, 4): (1 + 16) / 2
        tensor(8.5000)
    """

    def __init__(
        self,
        on_rate: float = 1.0,
        off_rate: float = 0.0,
        *,
        batch_first: bool = True,
        reduction: str = "mean",
    ) -> None:
        super().__init__(batch_first=batch_first, reduction=reduction)
        self.on_rate = _check_unit("on_rate", on_rate)
        self.off_rate = _check_unit("off_rate", off_rate)

    def forward(self, output: Tensor, target: Tensor) -> Tensor:
        return count_mse(
            output,
            target,
            on_rate=self.on_rate,
            off_rate=self.off_rate,
            batch_first=self.batch_first,
            reduction=self.reduction,
        )

    def extra_repr(self) -> str:
        parts = [f"on_rate={self.on_rate:g}", f"off_rate={self.off_rate:g}"]
        return ", ".join([*parts, *self._repr_tail()])


class FirstSpikeCrossEntropyLoss(_ScaledCrossEntropyLoss):
    """Cross-entropy with ``-scale * t_first`` as logits; see :func:`first_spike_cross_entropy`.

    Args:
        scale: inverse temperature ``lambda > 0`` per step.
        batch_first: output ``(N, T, C, *d)`` when true, ``(T, N, C, *d)`` when false.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        label_smoothing: as in :class:`torch.nn.CrossEntropyLoss`.

    Shape:
        ``output`` ``(N, T, C, *d)`` spikes, ``target`` ``(N, *d)`` class indices; the loss is a
        scalar (``(N, *d)`` with ``reduction="none"``).

    Example:
        >>> import torch
        >>> loss = FirstSpikeCrossEntropyLoss()
        >>> loss(torch.zeros(2, 4, 3), torch.tensor([0, 1]))  # nobody fires: all read T
        tensor(1.0986)
    """

    @staticmethod
    def _logits_loss(output: Tensor, target: Tensor, **kwargs: Any) -> Tensor:
        return first_spike_cross_entropy(output, target, **kwargs)
