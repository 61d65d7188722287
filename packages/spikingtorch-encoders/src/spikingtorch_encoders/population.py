"""Population code with Gaussian receptive fields: :class:`PopulationEncoder`."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from spikingtorch_encoders._checks import check_fraction
from spikingtorch_encoders.base import Encoder
from spikingtorch_encoders.functional.population import (
    POPULATION_SPIKES,
    _population_params,
    population_encode,
)

__all__ = ["PopulationEncoder"]


class PopulationEncoder(Encoder):
    """Population code: each value drives ``M = neurons`` Gaussian receptive fields over
    ``[low, high]``, and each field spikes at a rate set by its activation.

    .. math::

        \\mu_j = \\text{low} + j \\, \\frac{\\text{high} - \\text{low}}{M - 1}, \\qquad
        p_j(x) = \\text{max\\_rate} \\cdot
        \\exp\\Big(-\\frac{(x - \\mu_j)^2}{2 \\sigma^2}\\Big), \\qquad j = 0 .. M-1

    ``σ`` defaults to the centre spacing ``(high - low) / (M - 1)``. With
    ``spikes="bernoulli"`` (default) field ``j`` spikes independently with probability ``p_j``
    at each step (as :class:`PoissonEncoder`); with ``spikes="periodic"`` it emits the regular
    train of :class:`PeriodicEncoder`, ``s_t = ⌊(t+1) p_j⌋ - ⌊t p_j⌋`` (deterministic). Inputs
    must lie in ``[low, high]``. See
    :func:`~spikingtorch_encoders.functional.population_encode`.

    The population axis is appended last: ``(N, *dims) -> (N, T, *dims, M)``, meant for
    low-dimensional inputs ``(N, D) -> (N, T, D, M)``. With ``flatten=True`` the last two axes
    merge, ``(N, T, D·M)`` (the ``M`` fields of feature 0 first), ready for a dense layer.

    Args:
        steps: ``T`` (``>= 1``).
        neurons: ``M``, fields per value (``>= 2``).
        low, high: the value range tiled by the centres (``low < high``).
        sigma: field width ``σ > 0`` (default: the centre spacing).
        max_rate: peak spike probability per step, in ``(0, 1]``.
        spikes: ``"bernoulli"`` or ``"periodic"``.
        flatten: merge the value and population axes.
        batch_first: ``(N, T, ...)`` output (default) or ``(T, N, ...)``.
        generator: a ``torch.Generator`` on the input's device, for ``"bernoulli"``.

    Shape:
        input ``(N, *dims)`` floating in ``[low, high]``; output ``(N, T, *dims, M)`` (or
        ``(N, T, *dims[:-1], dims[-1]·M)`` with ``flatten``) spikes in ``{0, 1}`` in the input's
        dtype and device.

    Example:
        >>> import torch
        >>> encoder = PopulationEncoder(8, neurons=5, low=-1.0, high=1.0)
        >>> encoder
        PopulationEncoder(steps=8, neurons=5, low=-1.0, high=1.0, sigma=0.5, max_rate=1.0)
        >>> encoder(torch.zeros(4, 2)).shape
        torch.Size([4, 8, 2, 5])
    """

    steps: int

    def __init__(
        self,
        steps: int,
        *,
        neurons: int,
        low: float = 0.0,
        high: float = 1.0,
        sigma: float | None = None,
        max_rate: float = 1.0,
        spikes: str = "bernoulli",
        flatten: bool = False,
        batch_first: bool = True,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(steps, batch_first=batch_first, generator=generator)
        who = type(self).__name__
        self.neurons, self.low, self.high, self.sigma = _population_params(
            neurons, low, high, sigma, who
        )
        self.max_rate = check_fraction("max_rate", max_rate, who, open_low=True)
        if spikes not in POPULATION_SPIKES:
            raise ValueError(f"{who}: spikes must be one of {POPULATION_SPIKES}, got {spikes!r}")
        self.spikes = spikes
        if not isinstance(flatten, bool):
            raise TypeError(f"{who}: flatten must be a bool, got {type(flatten).__name__}")
        self.flatten = flatten

    def encode(self, x: Tensor) -> Tensor:
        """``(N, *dims) -> (N, T, *dims, M)`` population spikes (flattened if asked)."""
        out = population_encode(
            x,
            self.steps,
            neurons=self.neurons,
            low=self.low,
            high=self.high,
            sigma=self.sigma,
            max_rate=self.max_rate,
            spikes=self.spikes,
            generator=self.generator,
            _who=type(self).__name__,
        )
        return out.flatten(-2) if self.flatten and x.dim() > 1 else out

    def _repr_params(self) -> dict[str, Any]:
        return {
            "neurons": self.neurons,
            "low": self.low,
            "high": self.high,
            "sigma": self.sigma,
            "max_rate": self.max_rate,
            "spikes": None if self.spikes == "bernoulli" else self.spikes,
            "flatten": True if self.flatten else None,
        }
