"""Rate codes: Bernoulli (Poisson), regular (periodic) and constant (direct) input."""

from __future__ import annotations

import torch
from torch import Tensor

from spikingtorch_encoders._checks import (
    check_fraction,
    check_generator,
    check_input,
    check_positive,
    check_steps,
    work_dtype,
)
from spikingtorch_encoders.functional._common import probability, regular_trains

__all__ = ["constant_encode", "periodic_encode", "poisson_encode"]


def poisson_encode(
    x: Tensor,
    steps: int,
    *,
    rate: float = 1.0,
    max_rate: float | None = None,
    generator: torch.Generator | None = None,
    _who: str = "poisson_encode",
) -> Tensor:
    """Bernoulli ("Poisson") rate code: an independent spike per step with probability ``rate·x``.

    .. math::

        p = \\text{rate} \\cdot x, \\qquad s_{n,t} = [u_{n,t} < p_n], \\quad
        u_{n,t} \\sim \\mathcal{U}[0, 1) \\text{ i.i.d.}

    so ``P(s = 1) = p`` at every step and the spike count over ``T`` steps is
    ``Binomial(T, p)``. Without ``max_rate``, ``p`` must lie in ``[0, 1]`` (a ``ValueError``
    otherwise: nothing is clipped silently). With ``max_rate`` the probability is clipped on
    purpose: ``p = clamp(rate·x, 0, max_rate)`` (the original package's ``scale`` behaves like
    ``rate=scale, max_rate=1``).

    Args:
        x: ``(N, *dims)`` floating input, usually intensities in ``[0, 1]``.
        steps: ``T``, the number of time steps (``>= 1``).
        rate: spike probability per step for ``x = 1`` (``> 0``).
        max_rate: if given (in ``(0, 1]``), clip ``p`` to ``[0, max_rate]``.
        generator: source of randomness (on ``x``'s device); None uses the global one.

    Returns:
        ``(N, T, *dims)`` spikes in ``{0, 1}``, ``x``'s dtype and device.

    Example:
        >>> import torch
        >>> x = torch.tensor([[0.0, 1.0]])
        >>> poisson_encode(x, 3)
        tensor([[[0., 1.],
                 [0., 1.],
                 [0., 1.]]])
    """
    x = check_input(x, _who)
    steps = check_steps(steps, _who)
    rate = check_positive("rate", rate, _who)
    if max_rate is not None:
        max_rate = check_fraction("max_rate", max_rate, _who, open_low=True)
    generator = check_generator(generator, x, _who)
    dtype = work_dtype(x)
    p = probability(x, rate, max_rate, dtype, _who)
    u = torch.rand(
        (x.shape[0], steps, *x.shape[1:]), generator=generator, dtype=dtype, device=x.device
    )
    return (u < p.unsqueeze(1)).to(x.dtype)


def periodic_encode(
    x: Tensor,
    steps: int,
    *,
    rate: float = 1.0,
    max_rate: float | None = None,
    _who: str = "periodic_encode",
) -> Tensor:
    """Regular (periodic) rate code: deterministic integrate-to-threshold trains.

    Each input integrates ``r = rate·x`` per step, starting from zero; when the sum reaches 1 it
    spikes and 1 is subtracted (the remainder carries over, so the long-run rate is exactly ``r``):

    .. math::

        a_t = a_{t-1} + r - s_{t-1}, \\quad a_{-1} = s_{-1} = 0, \\qquad s_t = [a_t \\ge 1]

    This is computed in closed form, ``s_t = ⌊(t+1) r⌋ - ⌊t r⌋``, in float64 (float32 on MPS),
    so no rounding error builds up over steps: ``r = 0.5`` spikes at ``t = 1, 3, 5, ...``,
    ``r = 0.25`` at ``t = 3, 7, ...``, ``r = 1`` at every step, ``r = 0`` never. ``r`` is
    checked or clipped exactly as in :func:`poisson_encode` (``r <= 1``: at most one spike per
    step).

    Args:
        x: ``(N, *dims)`` floating input.
        steps: ``T`` (``>= 1``).
        rate: spikes per step for ``x = 1`` (``> 0``).
        max_rate: if given (in ``(0, 1]``), clip ``r`` to ``[0, max_rate]``.

    Returns:
        ``(N, T, *dims)`` spikes in ``{0, 1}``, ``x``'s dtype and device.

    Example:
        >>> import torch
        >>> periodic_encode(torch.tensor([[0.5, 0.25]]), 4)[0].T
        tensor([[0., 1., 0., 1.],
                [0., 0., 0., 1.]])
    """
    x = check_input(x, _who)
    steps = check_steps(steps, _who)
    rate = check_positive("rate", rate, _who)
    if max_rate is not None:
        max_rate = check_fraction("max_rate", max_rate, _who, open_low=True)
    r = probability(x, rate, max_rate, work_dtype(x, exact=True), _who)
    return regular_trains(r, steps).to(x.dtype)


def constant_encode(x: Tensor, steps: int, *, _who: str = "constant_encode") -> Tensor:
    """Direct (constant-current) input: the analog value repeated at every step.

    .. math:: c_{n,t} = x_n, \\qquad t = 0, \\dots, T-1

    The output is a value, not spikes: any finite input is allowed, and gradients flow back to
    ``x`` (summed over steps).

    Args:
        x: ``(N, *dims)`` floating input.
        steps: ``T`` (``>= 1``).

    Returns:
        ``(N, T, *dims)``, a contiguous copy in ``x``'s dtype and device.

    Example:
        >>> import torch
        >>> constant_encode(torch.tensor([[0.5, -2.0]]), 2)
        tensor([[[ 0.5000, -2.0000],
                 [ 0.5000, -2.0000]]])
    """
    x = check_input(x, _who)
    steps = check_steps(steps, _who)
    return x.unsqueeze(1).expand(x.shape[0], steps, *x.shape[1:]).contiguous()
