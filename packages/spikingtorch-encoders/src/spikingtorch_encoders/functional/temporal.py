"""Temporal codes: latency (time to first spike) and delta (send-on-delta)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from spikingtorch_encoders._checks import (
    check_fraction,
    check_input,
    check_number,
    check_positive,
    check_range,
    check_steps,
    work_dtype,
)
from spikingtorch_encoders.functional._common import time_axis

__all__ = ["LATENCY_MODES", "delta_encode", "latency_encode", "latency_steps"]


LATENCY_MODES = ("linear", "log")
"""Spike-time maps of :func:`latency_encode`."""


def _latency_params(
    mode: str, threshold: float, normalize: bool, tau: float | None, who: str
) -> tuple[str, float, bool, float | None]:
    if mode not in LATENCY_MODES:
        raise ValueError(f"{who}: mode must be one of {LATENCY_MODES}, got {mode!r}")
    threshold = check_fraction("threshold", threshold, who)
    if threshold == 1.0:
        raise ValueError(f"{who}: threshold must be < 1, got 1.0 (no input could spike)")
    if not isinstance(normalize, bool):
        raise TypeError(f"{who}: normalize must be a bool, got {type(normalize).__name__}")
    if normalize:
        if tau is not None:
            raise ValueError(
                f"{who}: tau is chosen by normalize=True; pass normalize=False to set tau"
            )
        if mode == "log" and threshold == 0.0:
            raise ValueError(
                f"{who}: mode='log' with normalize=True needs threshold > 0 "
                "(ln(1/x) is unbounded as x -> 0)"
            )
    else:
        if tau is None:
            raise ValueError(f"{who}: normalize=False needs tau (the time scale, in steps)")
        tau = check_positive("tau", tau, who)
    return mode, threshold, normalize, tau


def latency_steps(
    x: Tensor,
    steps: int,
    *,
    mode: str = "linear",
    threshold: float = 0.0,
    normalize: bool = True,
    tau: float | None = None,
    _who: str = "latency_steps",
) -> Tensor:
    """Spike step of each input under the latency code (``steps`` where it does not spike).

    With ``f(x) = 1 - x`` (``mode="linear"``) or ``f(x) = ln(1/x)`` (``mode="log"``), a
    decreasing map with ``f(1) = 0``, an input ``x`` in ``[0, 1]`` fires once, at step

    .. math:: k(x) = \\lfloor \\tau f(x) \\rfloor \\quad \\text{if } x > \\theta
        \\text{ and } k(x) \\le T - 1 \\text{, else never,}

    where ``θ = threshold``. With ``normalize=True`` (default), ``τ = T / f(θ)``, so that the
    inputs in ``(θ, 1]`` fill the steps ``0 .. T-1`` in bins of equal width in ``f`` (``x = 1``
    at step 0, ``x`` just above ``θ`` at step ``T - 1``; ``k`` is capped at ``T - 1`` against
    rounding). For ``mode="linear"``, ``θ = 0`` that is ``k = ⌊T (1 - x)⌋``. With
    ``normalize=False``, ``τ = tau`` and inputs whose step falls at or past ``T`` stay silent.

    Args:
        x: ``(N, *dims)`` floating input in ``[0, 1]``.
        steps: ``T`` (``>= 1``).
        mode: ``"linear"`` or ``"log"``.
        threshold: ``θ`` in ``[0, 1)``; inputs ``<= θ`` never spike. ``mode="log"`` with
            ``normalize=True`` needs ``θ > 0``.
        normalize: choose ``τ`` so the code fills the ``T`` steps.
        tau: ``τ`` in steps when ``normalize=False`` (required then).

    Returns:
        ``(N, *dims)`` int64 steps in ``0 .. T`` (``T`` meaning "no spike").

    Example:
        >>> import torch
        >>> latency_steps(torch.tensor([[1.0, 0.75, 0.5, 0.0]]), 4)
        tensor([[0, 1, 2, 4]])
    """
    x = check_input(x, _who)
    steps = check_steps(steps, _who)
    mode, threshold, normalize, tau = _latency_params(mode, threshold, normalize, tau, _who)
    check_range(x, 0.0, 1.0, _who, "the input")
    xw = x.detach().to(work_dtype(x, exact=True))
    if mode == "linear":
        f = 1.0 - xw
        f_threshold = 1.0 - threshold
    else:
        f = -torch.log(xw)  # ln(1/x); +inf at x = 0, which never spikes
        f_threshold = -math.log(threshold) if threshold > 0 else math.inf
    scale = steps / f_threshold if normalize else tau
    assert scale is not None
    k = torch.floor(scale * f).clamp(max=steps)
    if normalize:
        k = k.clamp(max=steps - 1)
    k = torch.where(xw > threshold, k, torch.full_like(k, steps))
    return k.to(torch.int64)


def latency_encode(
    x: Tensor,
    steps: int,
    *,
    mode: str = "linear",
    threshold: float = 0.0,
    normalize: bool = True,
    tau: float | None = None,
    _who: str = "latency_encode",
) -> Tensor:
    """Latency (time-to-first-spike) code: larger inputs spike earlier, each at most once.

    ``s_{n,t} = [t = k(x_n)]`` with the spike step ``k`` of :func:`latency_steps` (same
    arguments and formulas).

    Returns:
        ``(N, T, *dims)`` spikes in ``{0, 1}`` (at most one per input), ``x``'s dtype/device.

    Example:
        >>> import torch
        >>> latency_encode(torch.tensor([[1.0, 0.75, 0.5, 0.0]]), 4)[0].T
        tensor([[1., 0., 0., 0.],
                [0., 1., 0., 0.],
                [0., 0., 1., 0.],
                [0., 0., 0., 0.]])
    """
    k = latency_steps(
        x, steps, mode=mode, threshold=threshold, normalize=normalize, tau=tau, _who=_who
    )
    t = torch.arange(steps, device=x.device).view(time_axis(x, steps))
    return (t == k.unsqueeze(1)).to(x.dtype)


def delta_encode(
    x: Tensor,
    threshold: float,
    *,
    signed: bool = True,
    on_off: bool = False,
    initial: float | None = None,
    _who: str = "delta_encode",
) -> Tensor:
    """Delta (send-on-delta) code of a time series: spike when the input has moved by at least
    ``threshold`` since the last spike.

    A reference ``r`` starts at the first frame (``r = x_0``, so step 0 never spikes) or at
    ``initial``; at each step ``t = 0 .. T-1``:

    .. math::

        d_t = x_t - r, \\quad \\text{up}_t = [d_t \\ge \\theta], \\quad
        \\text{down}_t = [d_t \\le -\\theta], \\quad
        r \\leftarrow x_t \\text{ if up}_t \\lor \\text{down}_t

    Because ``r`` moves only on a spike, slow drifts are detected once they add up to ``θ``
    (comparing consecutive frames would miss them). Output, per ``signed`` / ``on_off``:

    * ``signed=True`` (default): ``up - down`` in ``{-1, 0, 1}``, shape ``(N, T, *dims)``;
    * ``signed=False``: ``up or down`` in ``{0, 1}``, shape ``(N, T, *dims)``;
    * ``on_off=True`` (overrides ``signed``): two channels in ``{0, 1}`` on a new axis right after
      time, ``(N, T, 2, *dims)`` with index 0 = ON (up) and 1 = OFF (down), the event-camera
      layout (grey frames ``(N, T, H, W)`` give ``(N, T, 2, H, W)``; for ``(N, T, C, H, W)``
      inputs, ``.flatten(2, 3)`` gives ``2C`` channels, all ON ones first).

    The input already has a time axis, so there is no ``steps``: ``T`` is ``x.shape[1]``.

    Args:
        x: ``(N, T, *dims)`` floating time series (at least 2 dimensions, ``T >= 1``).
        threshold: ``θ > 0``.
        signed: signed single-channel output (see above).
        on_off: two-channel ON/OFF output.
        initial: the reference before step 0; None uses ``x_0``.

    Example:
        >>> import torch
        >>> x = torch.tensor([[0.0, 0.25, 0.5, 0.75, 0.0]])
        >>> delta_encode(x, 0.5)
        tensor([[ 0.,  0.,  1.,  0., -1.]])
    """
    x = check_input(x, _who, min_rank=2, what="(N, T, *dims)")
    if x.shape[1] < 1:
        raise ValueError(f"{_who}: the time axis (dim 1) is empty: input shape {tuple(x.shape)}")
    threshold = check_positive("threshold", threshold, _who)
    for name, flag in (("signed", signed), ("on_off", on_off)):
        if not isinstance(flag, bool):
            raise TypeError(f"{_who}: {name} must be a bool, got {type(flag).__name__}")
    xw = x.detach().to(work_dtype(x))
    frames = xw.unbind(1)
    if initial is None:
        ref = frames[0]
    else:
        ref = torch.full_like(frames[0], check_number("initial", initial, _who))
    ups, downs = [], []
    for frame in frames:
        d = frame - ref
        up, down = d >= threshold, d <= -threshold
        ref = torch.where(up | down, frame, ref)
        ups.append(up)
        downs.append(down)
    up_t, down_t = torch.stack(ups, 1), torch.stack(downs, 1)
    if on_off:
        return torch.stack([up_t, down_t], 2).to(x.dtype)
    if signed:
        return up_t.to(x.dtype) - down_t.to(x.dtype)
    return (up_t | down_t).to(x.dtype)
