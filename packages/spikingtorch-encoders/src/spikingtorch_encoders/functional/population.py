"""Population code with Gaussian receptive fields."""

from __future__ import annotations

import torch
from torch import Tensor

from spikingtorch_encoders._checks import (
    check_fraction,
    check_generator,
    check_input,
    check_number,
    check_positive,
    check_range,
    check_steps,
    work_dtype,
)
from spikingtorch_encoders.functional._common import regular_trains

__all__ = ["POPULATION_SPIKES", "gaussian_fields", "population_encode"]


POPULATION_SPIKES = ("bernoulli", "periodic")
"""How :func:`population_encode` turns field activations into spikes."""


def _population_params(
    neurons: int, low: float, high: float, sigma: float | None, who: str
) -> tuple[int, float, float, float]:
    if isinstance(neurons, bool) or not isinstance(neurons, int):
        raise TypeError(f"{who}: neurons must be an int, got {type(neurons).__name__}")
    if neurons < 2:
        raise ValueError(f"{who}: neurons must be at least 2, got {neurons}")
    low, high = check_number("low", low, who), check_number("high", high, who)
    if not low < high:
        raise ValueError(f"{who}: low must be smaller than high, got low={low:g}, high={high:g}")
    spacing = (high - low) / (neurons - 1)
    sigma = spacing if sigma is None else check_positive("sigma", sigma, who)
    return neurons, low, high, sigma


def gaussian_fields(
    x: Tensor,
    *,
    neurons: int,
    low: float = 0.0,
    high: float = 1.0,
    sigma: float | None = None,
    _who: str = "gaussian_fields",
) -> Tensor:
    """Activations of ``M = neurons`` Gaussian receptive fields tiling ``[low, high]``.

    .. math::

        \\mu_j = \\text{low} + j \\, \\frac{\\text{high} - \\text{low}}{M - 1}, \\qquad
        a_j(x) = \\exp\\Big(-\\frac{(x - \\mu_j)^2}{2 \\sigma^2}\\Big), \\qquad j = 0 .. M-1

    ``σ`` defaults to the spacing of the centres, ``(high - low) / (M - 1)``. Activations lie in
    ``(0, 1]``; the field centred on ``x`` gives 1.

    Args:
        x: ``(N, *dims)`` floating input in ``[low, high]``.
        neurons: ``M >= 2``.
        low, high: the value range covered by the centres (``low < high``).
        sigma: field width ``σ > 0``.

    Returns:
        ``(N, *dims, M)`` activations in float32 (float64 for float64 inputs), on ``x``'s device.

    Example:
        >>> import torch
        >>> gaussian_fields(torch.tensor([[0.5]]), neurons=3)
        tensor([[[0.6065, 1.0000, 0.6065]]])
    """
    x = check_input(x, _who)
    neurons, low, high, sigma = _population_params(neurons, low, high, sigma, _who)
    check_range(x, low, high, _who, "the input", hint=f" (low={low:g}, high={high:g})")
    dtype = work_dtype(x)
    centres = torch.linspace(low, high, neurons, dtype=dtype, device=x.device)
    d = x.detach().to(dtype).unsqueeze(-1) - centres
    return torch.exp(-(d * d) / (2 * sigma * sigma))


def population_encode(
    x: Tensor,
    steps: int,
    *,
    neurons: int,
    low: float = 0.0,
    high: float = 1.0,
    sigma: float | None = None,
    max_rate: float = 1.0,
    spikes: str = "bernoulli",
    generator: torch.Generator | None = None,
    _who: str = "population_encode",
) -> Tensor:
    """Population code: each value drives ``M = neurons`` Gaussian receptive fields, which spike.

    With the activations ``a_j(x)`` of :func:`gaussian_fields`, field ``j`` spikes with
    probability ``p_j = max_rate · a_j(x)`` per step:

    * ``spikes="bernoulli"`` (default): independently at each step, ``s_{t,j} = [u_{t,j} < p_j]``
      as in :func:`poisson_encode`;
    * ``spikes="periodic"``: the deterministic regular train of :func:`periodic_encode` with
      ``r = p_j`` (``s_t = ⌊(t+1) p_j⌋ - ⌊t p_j⌋``).

    The population axis is appended last: ``(N, *dims) -> (N, T, *dims, M)``; the usual input is
    a low-dimensional ``(N, D)`` giving ``(N, T, D, M)`` (flatten the last two axes for a dense
    layer of ``D·M`` inputs).

    Args:
        x: ``(N, *dims)`` floating input in ``[low, high]``.
        steps: ``T`` (``>= 1``).
        neurons, low, high, sigma: the fields, see :func:`gaussian_fields`.
        max_rate: peak spike probability per step, in ``(0, 1]``.
        spikes: ``"bernoulli"`` or ``"periodic"``.
        generator: source of randomness for ``"bernoulli"`` (on ``x``'s device).

    Returns:
        ``(N, T, *dims, M)`` spikes in ``{0, 1}``, ``x``'s dtype and device.

    Example:
        >>> import torch
        >>> population_encode(torch.tensor([[0.0]]), 4, neurons=3, spikes="periodic")[0, :, 0].T
        tensor([[1., 1., 1., 1.],
                [0., 1., 0., 1.],
                [0., 0., 0., 0.]])
    """
    steps = check_steps(steps, _who)
    max_rate = check_fraction("max_rate", max_rate, _who, open_low=True)
    if spikes not in POPULATION_SPIKES:
        raise ValueError(f"{_who}: spikes must be one of {POPULATION_SPIKES}, got {spikes!r}")
    a = gaussian_fields(x, neurons=neurons, low=low, high=high, sigma=sigma, _who=_who)
    if spikes == "periodic":
        p = a.to(work_dtype(x, exact=True)) * max_rate
        return regular_trains(p, steps).to(x.dtype)
    generator = check_generator(generator, x, _who)
    p = a * max_rate
    u = torch.rand(
        (x.shape[0], steps, *p.shape[1:]), generator=generator, dtype=p.dtype, device=x.device
    )
    return (u < p.unsqueeze(1)).to(x.dtype)
