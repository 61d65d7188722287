"""Rate codes: :class:`PoissonEncoder` (random), :class:`PeriodicEncoder` (regular) and
:class:`ConstantEncoder` (the analog value itself, as a direct current)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from spikingtorch_encoders._checks import check_fraction, check_positive
from spikingtorch_encoders.base import Encoder
from spikingtorch_encoders.functional import constant_encode, periodic_encode, poisson_encode

__all__ = ["ConstantEncoder", "PeriodicEncoder", "PoissonEncoder"]


class PoissonEncoder(Encoder):
    """Bernoulli ("Poisson") rate code: an independent spike per step with probability ``rate·x``.

    .. math::

        p = \\text{rate} \\cdot x, \\qquad s_{n,t} = [u_{n,t} < p_n], \\quad
        u_{n,t} \\sim \\mathcal{U}[0, 1) \\text{ i.i.d.}

    Without ``max_rate``, ``rate·x`` must lie in ``[0, 1]`` (a ``ValueError`` names the largest
    or smallest value otherwise; nothing is clipped silently). With ``max_rate`` the probability
    is clipped on purpose to ``p = clamp(rate·x, 0, max_rate)``; the original package's
    ``PoissonEncoder(nsteps, scale)`` is ``PoissonEncoder(nsteps, rate=scale, max_rate=1.0)``.
    See :func:`~spikingtorch_encoders.functional.poisson_encode`.

    Args:
        steps: ``T``, the number of time steps (``>= 1``).
        rate: spike probability per step for an input of 1 (``> 0``).
        max_rate: if given (in ``(0, 1]``), clip ``p`` to ``[0, max_rate]``.
        batch_first: ``(N, T, *dims)`` output (default) or ``(T, N, *dims)``.
        generator: a ``torch.Generator`` on the input's device (None: the global one).

    Shape:
        input ``(N, *dims)`` floating (e.g. ``(N, C, H, W)`` images in ``[0, 1]``); output
        ``(N, T, *dims)`` spikes in ``{0, 1}`` in the input's dtype and device.

    Example:
        >>> import torch
        >>> encoder = PoissonEncoder(8, generator=torch.Generator().manual_seed(0))
        >>> encoder
        PoissonEncoder(steps=8, rate=1.0, generator=<torch.Generator>)
        >>> encoder(torch.rand(2, 1, 28, 28)).shape
        torch.Size([2, 8, 1, 28, 28])
    """

    steps: int

    def __init__(
        self,
        steps: int,
        *,
        rate: float = 1.0,
        max_rate: float | None = None,
        batch_first: bool = True,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(steps, batch_first=batch_first, generator=generator)
        who = type(self).__name__
        self.rate = check_positive("rate", rate, who)
        self.max_rate = (
            None if max_rate is None else check_fraction("max_rate", max_rate, who, open_low=True)
        )

    def encode(self, x: Tensor) -> Tensor:
        """``(N, *dims) -> (N, T, *dims)`` Bernoulli spikes."""
        return poisson_encode(
            x,
            self.steps,
            rate=self.rate,
            max_rate=self.max_rate,
            generator=self.generator,
            _who=type(self).__name__,
        )

    def _repr_params(self) -> dict[str, Any]:
        return {"rate": self.rate, "max_rate": self.max_rate}


class PeriodicEncoder(Encoder):
    """Regular (periodic) rate code: deterministic integrate-to-threshold spike trains.

    Each input integrates ``r = rate·x`` per step from zero; when the sum reaches 1 the input
    spikes and 1 is subtracted (the remainder carries over, so the rate is exactly ``r``):

    .. math::

        a_t = a_{t-1} + r - s_{t-1}, \\quad a_{-1} = s_{-1} = 0, \\qquad s_t = [a_t \\ge 1]

    computed in closed form, ``s_t = ⌊(t+1) r⌋ - ⌊t r⌋``, in float64 so that no rounding error
    builds up. ``r = 1/k`` spikes at ``t = k-1, 2k-1, ...``. ``r`` is checked or clipped as in
    :class:`PoissonEncoder`. (The original package reset the sum to zero instead of subtracting
    1, which lowers rates that are not ``1/k``.) See
    :func:`~spikingtorch_encoders.functional.periodic_encode`.

    Args:
        steps: ``T`` (``>= 1``).
        rate: spikes per step for an input of 1 (``> 0``).
        max_rate: if given (in ``(0, 1]``), clip ``r`` to ``[0, max_rate]``.
        batch_first: ``(N, T, *dims)`` output (default) or ``(T, N, *dims)``.

    Shape:
        input ``(N, *dims)`` floating; output ``(N, T, *dims)`` spikes in ``{0, 1}`` in the
        input's dtype and device.

    Example:
        >>> import torch
        >>> PeriodicEncoder(6)(torch.tensor([[1.0, 0.5, 1 / 3, 0.0]]))[0].T
        tensor([[1., 1., 1., 1., 1., 1.],
                [0., 1., 0., 1., 0., 1.],
                [0., 0., 1., 0., 0., 1.],
                [0., 0., 0., 0., 0., 0.]])
    """

    steps: int

    def __init__(
        self,
        steps: int,
        *,
        rate: float = 1.0,
        max_rate: float | None = None,
        batch_first: bool = True,
    ) -> None:
        super().__init__(steps, batch_first=batch_first)
        who = type(self).__name__
        self.rate = check_positive("rate", rate, who)
        self.max_rate = (
            None if max_rate is None else check_fraction("max_rate", max_rate, who, open_low=True)
        )

    def encode(self, x: Tensor) -> Tensor:
        """``(N, *dims) -> (N, T, *dims)`` regular spikes."""
        return periodic_encode(
            x,
            self.steps,
            rate=self.rate,
            max_rate=self.max_rate,
            _who=type(self).__name__,
        )

    def _repr_params(self) -> dict[str, Any]:
        return {"rate": self.rate, "max_rate": self.max_rate}


class ConstantEncoder(Encoder):
    """Direct input: the analog value repeated at every step (a constant input current).

    .. math:: c_{n,t} = x_n, \\qquad t = 0, \\dots, T-1

    The output is the value itself, not spikes: any finite input is allowed, the dtype is the
    input's floating dtype, and gradients flow back to the input. The first spiking layer then
    does the encoding. See :func:`~spikingtorch_encoders.functional.constant_encode`.

    Args:
        steps: ``T`` (``>= 1``).
        batch_first: ``(N, T, *dims)`` output (default) or ``(T, N, *dims)``.

    Shape:
        input ``(N, *dims)`` floating; output ``(N, T, *dims)``, a contiguous copy.

    Example:
        >>> import torch
        >>> ConstantEncoder(3)(torch.tensor([[0.25, -1.0]]))
        tensor([[[ 0.2500, -1.0000],
                 [ 0.2500, -1.0000],
                 [ 0.2500, -1.0000]]])
    """

    steps: int

    def __init__(self, steps: int, *, batch_first: bool = True) -> None:
        super().__init__(steps, batch_first=batch_first)

    def encode(self, x: Tensor) -> Tensor:
        """``(N, *dims) -> (N, T, *dims)`` copies of ``x``."""
        return constant_encode(x, self.steps, _who=type(self).__name__)
