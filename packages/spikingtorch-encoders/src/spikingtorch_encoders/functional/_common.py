"""Helpers shared by the encoding functions: the time axis, spike probabilities, regular trains."""

from __future__ import annotations

import torch
from torch import Tensor

from spikingtorch_encoders._checks import check_range

__all__ = ["probability", "regular_trains", "time_axis"]


def time_axis(x: Tensor, steps: int) -> tuple[int, ...]:
    """Shape ``(1, T, 1, ...)`` that broadcasts a per-step value against ``(N, T, *dims)``."""
    return (1, steps) + (1,) * (x.dim() - 1)


def probability(
    x: Tensor, rate: float, max_rate: float | None, dtype: torch.dtype, who: str
) -> Tensor:
    """``p = rate * x`` (checked to lie in [0, 1]), or ``clamp(rate * x, 0, max_rate)``."""
    p = x.detach().to(dtype) * rate
    if max_rate is not None:
        return p.clamp(0.0, max_rate)
    check_range(
        p,
        0.0,
        1.0,
        who,
        "the spike probability per step rate·x",
        hint="; scale the input or lower rate, or pass max_rate= to clip on purpose",
    )
    return p


def regular_trains(r: Tensor, steps: int) -> Tensor:
    """Integrate-to-threshold trains for per-step rates ``r`` in [0, 1], ``(N, *d) -> (N, T, *d)``.

    Closed form of "accumulate r, spike and subtract 1 when the sum reaches 1":
    ``c_t = floor((t + 1) r)`` spikes by step ``t``, so ``s_t = c_t - c_{t-1}``. One product per
    step, so no rounding error accumulates across steps.
    """
    k = torch.arange(1, steps + 1, dtype=r.dtype, device=r.device).view(time_axis(r, steps))
    counts = torch.floor(k * r.unsqueeze(1))
    previous = torch.cat([torch.zeros_like(counts[:, :1]), counts[:, :-1]], dim=1)
    return counts - previous
