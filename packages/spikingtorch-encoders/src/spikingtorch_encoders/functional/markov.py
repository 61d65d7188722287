"""Correlated spike trains from a two-state Markov chain."""

from __future__ import annotations

import torch
from torch import Tensor

from spikingtorch_encoders._checks import (
    check_fraction,
    check_generator,
    check_input,
    check_positive,
    check_range,
    check_steps,
    work_dtype,
)
from spikingtorch_encoders.functional._common import probability

__all__ = ["markov_encode"]


def markov_encode(
    x: Tensor,
    steps: int,
    *,
    rate: float = 1.0,
    correlation: float = 0.0,
    generator: torch.Generator | None = None,
    _who: str = "markov_encode",
) -> Tensor:
    """Correlated spike trains: a two-state Markov chain with rate ``p`` and lag-1 correlation ρ.

    The stationary rate comes from the input, ``p = rate·x`` (in ``[0, 1]``, checked as in
    :func:`poisson_encode`), and ``ρ = correlation``. With

    .. math::

        P(s_t = 1 \\mid s_{t-1} = 1) = p + \\rho (1 - p), \\qquad
        P(s_t = 1 \\mid s_{t-1} = 0) = p (1 - \\rho), \\qquad P(s_0 = 1) = p,

    every step has ``P(s_t = 1) = p`` (the chain starts in its stationary distribution) and
    ``corr(s_t, s_{t+k}) = ρ^k``. ``ρ = 0`` is :func:`poisson_encode`; ``ρ > 0`` gives bursts,
    ``ρ = 1`` constant trains; ``ρ < 0`` gives more regular trains than Poisson and needs
    ``ρ >= -min(p / (1 - p), (1 - p) / p)`` for every input (both probabilities in [0, 1]).

    Args:
        x: ``(N, *dims)`` floating input (``rate·x`` in ``[0, 1]``).
        steps: ``T`` (``>= 1``).
        rate: stationary spike probability per step for ``x = 1`` (``> 0``).
        correlation: ``ρ`` in ``[-1, 1]``.
        generator: source of randomness (on ``x``'s device); None uses the global one.

    Returns:
        ``(N, T, *dims)`` spikes in ``{0, 1}``, ``x``'s dtype and device.

    Example:
        >>> import torch
        >>> markov_encode(torch.tensor([[0.0, 1.0]]), 3, correlation=0.5)
        tensor([[[0., 1.],
                 [0., 1.],
                 [0., 1.]]])
    """
    x = check_input(x, _who)
    steps = check_steps(steps, _who)
    rate = check_positive("rate", rate, _who)
    rho = check_fraction("correlation", correlation, _who, low=-1.0)
    generator = check_generator(generator, x, _who)
    dtype = work_dtype(x)
    p = probability(x, rate, None, dtype, _who)
    stay, start = p + rho * (1 - p), p * (1 - rho)  # P(1|1), P(1|0)
    if rho < 0:
        eps = 1e-6
        check_range(stay, -eps, None, _who, f"P(1|1) = p + ρ(1-p) for correlation={rho:g}")
        check_range(start, None, 1 + eps, _who, f"P(1|0) = p(1-ρ) for correlation={rho:g}")
        stay, start = stay.clamp(0, 1), start.clamp(0, 1)  # rounding only, after the check
    u = torch.rand(
        (x.shape[0], steps, *x.shape[1:]), generator=generator, dtype=dtype, device=x.device
    )
    spikes = []
    s = u[:, 0] < p
    spikes.append(s)
    for u_t in u.unbind(1)[1:]:
        s = u_t < torch.where(s, stay, start)
        spikes.append(s)
    return torch.stack(spikes, 1).to(x.dtype)
