"""Correlated spike trains: :class:`MarkovEncoder`."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from spikingtorch_encoders._checks import check_fraction, check_positive
from spikingtorch_encoders.base import Encoder
from spikingtorch_encoders.functional import markov_encode

__all__ = ["MarkovEncoder"]


class MarkovEncoder(Encoder):
    """Correlated rate code: each input drives a two-state Markov chain with stationary rate
    ``p = rate·x`` and lag-1 autocorrelation ``ρ = correlation``.

    .. math::

        P(s_t = 1 \\mid s_{t-1} = 1) = p + \\rho (1 - p), \\qquad
        P(s_t = 1 \\mid s_{t-1} = 0) = p (1 - \\rho), \\qquad P(s_0 = 1) = p

    The first step is drawn from the stationary distribution, so ``P(s_t = 1) = p`` at every
    step, and ``corr(s_t, s_{t+k}) = ρ^k``. The rate comes from the input: ``x`` in ``[0, 1]``
    with the default ``rate=1`` (``rate·x`` must lie in ``[0, 1]``; nothing is clipped); for one
    fixed rate ``p`` for every train, encode ``torch.ones(...)`` with ``rate=p``. ``ρ = 0`` is
    the Bernoulli code of :class:`PoissonEncoder`, ``ρ > 0`` makes bursts, ``ρ < 0`` more
    regular trains (valid while ``ρ >= -min(p/(1-p), (1-p)/p)``, checked per input). See
    :func:`~spikingtorch_encoders.functional.markov_encode`.

    Args:
        steps: ``T`` (``>= 1``).
        rate: stationary spike probability per step for an input of 1 (``> 0``).
        correlation: ``ρ`` in ``[-1, 1]``.
        batch_first: ``(N, T, *dims)`` output (default) or ``(T, N, *dims)``.
        generator: a ``torch.Generator`` on the input's device (None: the global one).

    Shape:
        input ``(N, *dims)`` floating; output ``(N, T, *dims)`` spikes in ``{0, 1}`` in the
        input's dtype and device.

    Example:
        >>> import torch
        >>> gen = torch.Generator().manual_seed(0)
        >>> encoder = MarkovEncoder(100, correlation=0.9, generator=gen)
        >>> encoder
        MarkovEncoder(steps=100, rate=1.0, correlation=0.9, generator=<torch.Generator>)
        >>> encoder(torch.full((2, 3), 0.2)).shape
        torch.Size([2, 100, 3])
    """

    steps: int

    def __init__(
        self,
        steps: int,
        *,
        rate: float = 1.0,
        correlation: float = 0.0,
        batch_first: bool = True,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(steps, batch_first=batch_first, generator=generator)
        who = type(self).__name__
        self.rate = check_positive("rate", rate, who)
        self.correlation = check_fraction("correlation", correlation, who, low=-1.0)

    def encode(self, x: Tensor) -> Tensor:
        """``(N, *dims) -> (N, T, *dims)`` Markov spike trains."""
        return markov_encode(
            x,
            self.steps,
            rate=self.rate,
            correlation=self.correlation,
            generator=self.generator,
            _who=type(self).__name__,
        )

    def _repr_params(self) -> dict[str, Any]:
        return {"rate": self.rate, "correlation": self.correlation}
