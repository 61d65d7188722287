"""Decoders (readouts): turn a network's output over time into one prediction per sample.

A :class:`spikingtorch.SpikingNet` returns the per-step outputs of its network stacked in time,
``(N, T, *out)`` (``N`` the batch, ``T`` the number of time steps, ``*out`` the per-step output
shape; ``(T, N, *out)`` with ``batch_first=False``). A decoder reduces the time axis and returns
``(N, *out)``, ready for a loss or an ``argmax``:

* :class:`SumDecoder`: spike count ``scale (sum_t s_t - offset)`` (the original package's);
* :class:`RateDecoder`: mean firing rate ``(1 / T) sum_t s_t``;
* :class:`MaxMembraneDecoder`: ``max_t v_t`` of the membrane trace of a non-spiking readout;
* :class:`FirstSpikeDecoder`: time to first spike ``sum_t prod_{k <= t} (1 - s_k)``, ``T`` if
  an output never fires (latency code).

Each decoder is a thin module over a pure function of this module
(:func:`spike_count`, :func:`mean_rate`, :func:`max_over_time`, :func:`first_spike_time`), and
all of them are differentiable, so gradients flow back into the network (through its neurons'
surrogate gradients).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = [
    "FirstSpikeDecoder",
    "MaxMembraneDecoder",
    "RateDecoder",
    "SumDecoder",
    "first_spike_time",
    "max_over_time",
    "mean_rate",
    "spike_count",
]


def time_dim(x: Tensor, batch_first: bool, who: str) -> int:
    """Check a decoder input and return the index of its time axis.

    ``x`` must be a floating tensor of rank >= 2 with at least one time step.

    Raises:
        TypeError: ``x`` is not a tensor, or not floating point.
        ValueError: the rank is below 2 or ``T = 0``; the message names the expected layout.
    """
    layout = "(N, T, *out)" if batch_first else "(T, N, *out)"
    if not isinstance(x, Tensor):
        raise TypeError(f"{who} expects a tensor of shape {layout}, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{who} expects a floating-point tensor {layout}, got dtype {x.dtype}")
    if x.dim() < 2:
        raise ValueError(
            f"{who} expects a tensor of shape {layout} (rank >= 2), got shape {tuple(x.shape)}"
        )
    dim = 1 if batch_first else 0
    if x.shape[dim] == 0:
        raise ValueError(f"{who} expects T > 0 time steps in {layout}, got shape {tuple(x.shape)}")
    return dim


def _check_real(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


# -- pure functions ------------------------------------------------------------------------------


def spike_count(x: Tensor, *, batch_first: bool = True) -> Tensor:
    """Spike count ``c = sum_t x_t`` over the time axis.

    Args:
        x: spikes (or any floating values) of shape ``(N, T, *out)``; ``(T, N, *out)`` when
            ``batch_first`` is false.
        batch_first: layout of ``x``.

    Returns:
        ``(N, *out)``, the sum over time, with ``x``'s dtype.

    Example:
        >>> import torch
        >>> spike_count(torch.tensor([[[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]]))
        tensor([[2., 2.]])
    """
    dim = time_dim(x, batch_first, "spike_count")
    return x.sum(dim=dim)


def mean_rate(x: Tensor, *, batch_first: bool = True) -> Tensor:
    """Mean firing rate ``r = (1 / T) sum_t x_t`` (spikes per step, in ``[0, 1]`` for spikes).

    Args:
        x: spikes of shape ``(N, T, *out)``; ``(T, N, *out)`` when ``batch_first`` is false.
        batch_first: layout of ``x``.

    Returns:
        ``(N, *out)``, the mean over time.

    Example:
        >>> import torch
        >>> mean_rate(torch.tensor([[[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [0.0, 1.0]]]))
        tensor([[0.5000, 0.5000]])
    """
    dim = time_dim(x, batch_first, "mean_rate")
    return x.mean(dim=dim)


def max_over_time(x: Tensor, *, batch_first: bool = True) -> Tensor:
    """Maximum over time ``m = max_t x_t`` (of a membrane trace, usually).

    The gradient goes to the step(s) where the maximum is reached (split evenly between ties).

    Args:
        x: values of shape ``(N, T, *out)``; ``(T, N, *out)`` when ``batch_first`` is false.
        batch_first: layout of ``x``.

    Returns:
        ``(N, *out)``.

    Example:
        >>> import torch
        >>> max_over_time(torch.tensor([[[0.5, -1.0], [2.0, -3.0], [1.0, -2.0]]]))
        tensor([[ 2., -1.]])
    """
    dim = time_dim(x, batch_first, "max_over_time")
    return x.amax(dim=dim)


def first_spike_time(spikes: Tensor, *, batch_first: bool = True) -> Tensor:
    """Time of the first spike of each output, differentiable; ``T`` for an output that never fires.

    With steps numbered ``t = 0 .. T-1``, the first-spike time is the number of steps before
    the first spike, which is the number of steps ``t`` with no spike in ``0..t``:

    .. math::

        t_{first} = \\sum_{t=0}^{T-1} \\prod_{k=0}^{t} (1 - s_k)

    For binary spikes this is exact: the index of the first spike, or ``T`` when there is none
    (never NaN, never infinite). The formula is a polynomial in the spikes, so it has a gradient,
    and because it is linear in each ``s_j`` its partial derivative at a binary spike train is
    the exact change of ``t_first`` when spike ``j`` flips (``t*`` the first spike time,
    ``t'`` the second one, or ``T``):

    * ``j < t*``: ``-(t* - j)``: a spike at ``j`` would make the output fire ``t* - j`` earlier;
    * ``j = t*``: ``-(t' - t*)``: removing the first spike delays the output to ``t'``;
    * ``j > t*``: ``0``: later spikes do not matter;
    * silent output: ``-(T - j)`` at every step, finite and non-zero, so a neuron that never
      fires is still pushed to fire (through its surrogate gradient ``ds/dv``).

    For values in ``[0, 1]`` the formula is the expected first-spike time when step ``t``
    fires independently with probability ``s_t``.

    Args:
        spikes: shape ``(N, T, *out)`` (``(T, N, *out)`` when ``batch_first`` is false), values
            in ``[0, 1]``.
        batch_first: layout of ``spikes``.

    Returns:
        ``(N, *out)`` first-spike times in ``[0, T]``, with ``spikes``' dtype.

    Raises:
        ValueError: a value lies outside ``[0, 1]`` (or is NaN).

    Example:
        >>> import torch
        >>> s = torch.tensor([[[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [1.0, 0.0]]], requires_grad=True)
        >>> t = first_spike_time(s)  # output 0 fires first at t = 1, output 1 never (T = 4)
        >>> t
        tensor([[1., 4.]], grad_fn=<SumBackward1>)
        >>> t.sum().backward()
        >>> s.grad[0].T  # output 0: -(1 - 0), -(3 - 1), 0, 0; output 1: -(4 - j)
        tensor([[-1., -2., -0., -0.],
                [-4., -3., -2., -1.]])
    """
    dim = time_dim(spikes, batch_first, "first_spike_time")
    if not bool(((spikes >= 0) & (spikes <= 1)).all()):
        raise ValueError(
            "first_spike_time expects spikes with values in [0, 1], got values in "
            f"[{spikes.min().item():g}, {spikes.max().item():g}]"
        )
    return torch.cumprod(1 - spikes, dim=dim).sum(dim=dim)


# -- modules ------------------------------------------------------------------------------------


class _Decoder(nn.Module):
    """Common layout handling of the decoders."""

    def __init__(self, *, batch_first: bool = True) -> None:
        super().__init__()
        self.batch_first = bool(batch_first)

    def extra_repr(self) -> str:
        return "" if self.batch_first else "batch_first=False"


class SumDecoder(_Decoder):
    """Spike count readout, optionally scaled and offset: ``y = scale (sum_t s_t - offset)``.

    With ``center=True`` the offset also subtracts half the number of steps of the input,
    ``y = scale (sum_t s_t - offset - T / 2)``, so that an output firing at half the maximal
    rate reads zero. Used as logits, a large ``scale`` sharpens the softmax.

    The original package's ``SumDecoder(nsteps, scale, offset=True)`` computed
    ``scale (sum_t s_t - 0.5 nsteps)``: that is ``SumDecoder(scale=scale, offset=0.5 * nsteps)``
    (or ``SumDecoder(scale=scale, center=True)`` when ``T == nsteps``); ``offset=False`` is
    ``SumDecoder(scale=scale)``.

    Args:
        scale: factor applied after the offset.
        offset: count subtracted before scaling.
        center: also subtract ``T / 2``.
        batch_first: input ``(N, T, *out)`` when true, ``(T, N, *out)`` when false.

    Shape:
        input ``(N, T, *out)`` floating, output ``(N, *out)``.

    Example:
        >>> import torch
        >>> s = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]])  # (1, 4, 2)
        >>> SumDecoder()(s)
        tensor([[3., 1.]])
        >>> SumDecoder(scale=0.5, center=True)(s)  # 0.5 * (count - 4 / 2)
        tensor([[ 0.5000, -0.5000]])
    """

    def __init__(
        self,
        scale: float = 1.0,
        offset: float = 0.0,
        *,
        center: bool = False,
        batch_first: bool = True,
    ) -> None:
        super().__init__(batch_first=batch_first)
        self.scale = _check_real("scale", scale)
        self.offset = _check_real("offset", offset)
        self.center = bool(center)

    def forward(self, spikes: Tensor) -> Tensor:
        count = spike_count(spikes, batch_first=self.batch_first)
        offset = self.offset
        if self.center:
            offset += 0.5 * spikes.shape[1 if self.batch_first else 0]
        if offset != 0.0:
            count = count - offset
        return count * self.scale if self.scale != 1.0 else count

    def extra_repr(self) -> str:
        parts = [f"scale={self.scale:g}", f"offset={self.offset:g}"]
        if self.center:
            parts.append("center=True")
        return ", ".join(filter(None, [*parts, super().extra_repr()]))


class RateDecoder(_Decoder):
    """Mean firing-rate readout ``r = (1 / T) sum_t s_t`` (spikes per step).

    Args:
        batch_first: input ``(N, T, *out)`` when true, ``(T, N, *out)`` when false.

    Shape:
        input ``(N, T, *out)`` floating, output ``(N, *out)``.

    Example:
        >>> import torch
        >>> RateDecoder()(torch.tensor([[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]]))
        tensor([[0.7500, 0.2500]])
    """

    def forward(self, spikes: Tensor) -> Tensor:
        return mean_rate(spikes, batch_first=self.batch_first)


class MaxMembraneDecoder(_Decoder):
    """Readout of a non-spiking output layer: the maximum over time of its membrane potential.

    Intended use: the network's last layer is a leaky integrator that never spikes (a "LI"
    readout, ``v_t = a v_{t-1} + W x_t``), and the per-step network returns that layer's
    membrane ``v_t`` instead of spikes, so the :class:`~spikingtorch.SpikingNet` output is the
    membrane trace ``(N, T, C)``. The decoder returns ``max_t v_t`` per output, to be used as
    logits (the usual readout for Randman and SHD). Passing spikes instead gives ``1`` for
    any output that fired once, which carries little information.

    The gradient reaches the step(s) where the maximum is attained (split between ties).

    Args:
        batch_first: input ``(N, T, *out)`` when true, ``(T, N, *out)`` when false.

    Shape:
        input ``(N, T, *out)`` floating (membrane potentials), output ``(N, *out)``.

    Example:
        >>> import torch
        >>> v = torch.tensor([[[0.1, -0.2], [0.7, -0.1], [0.4, -0.5]]])  # (1, 3, 2) trace
        >>> MaxMembraneDecoder()(v)
        tensor([[ 0.7000, -0.1000]])
    """

    def forward(self, membrane: Tensor) -> Tensor:
        return max_over_time(membrane, batch_first=self.batch_first)


class FirstSpikeDecoder(_Decoder):
    """Time-to-first-spike readout: the step of each output's first spike, ``T`` if none.

    ``t_first = sum_{t=0}^{T-1} prod_{k<=t} (1 - s_k)`` (see :func:`first_spike_time`): exact
    for binary spikes, and differentiable. Its gradient with respect to spike ``s_j`` is the
    exact change of ``t_first`` if that spike flipped (``-(t_first - j)`` before the first
    spike, minus the gap to the second spike at the first one, ``0`` after it), and an output
    that never fires reads ``T`` with the finite gradient ``-(T - j)``: no NaN, and the network
    is still told to make it fire. Smaller is earlier: use ``-t_first`` as logits (see
    :func:`spikingtorch_encoders.losses.first_spike_cross_entropy`).

    Args:
        batch_first: input ``(N, T, *out)`` when true, ``(T, N, *out)`` when false.

    Shape:
        input ``(N, T, *out)`` floating spikes in ``[0, 1]``, output ``(N, *out)`` in ``[0, T]``.

    Example:
        >>> import torch
        >>> s = torch.tensor([[[0.0, 0.0, 1.0], [1.0, 0.0, 1.0], [1.0, 0.0, 0.0]]])  # (1, 3, 3)
        >>> FirstSpikeDecoder()(s)
        tensor([[1., 3., 0.]])
    """

    def forward(self, spikes: Tensor) -> Tensor:
        return first_spike_time(spikes, batch_first=self.batch_first)
