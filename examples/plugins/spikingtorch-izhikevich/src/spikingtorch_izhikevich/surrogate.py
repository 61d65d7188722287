"""The Gaussian surrogate gradient :class:`Gaussian` (registered as ``gaussian``, alias ``erf``)."""

from __future__ import annotations

import math

import torch
from spikingtorch.surrogate import SurrogateFunction
from torch import Tensor

__all__ = ["Gaussian"]


class Gaussian(SurrogateFunction):
    """Heaviside spike whose backward pass uses the normal density.

    .. math::

        d(x) = \\frac{1}{\\sigma \\sqrt{2\\pi}} \\exp\\left(-\\frac{x^2}{2\\sigma^2}\\right),
        \\qquad
        P(x) = \\Phi(x / \\sigma) = \\frac{1}{2}\\,
            \\mathrm{erfc}\\left(-\\frac{x}{\\sigma\\sqrt{2}}\\right)

    ``d`` has unit area and ``P`` (the normal CDF) is the soft step whose derivative it is. It is
    SpikingJelly's ``Erf`` surrogate with ``alpha = 1 / (sigma sqrt(2))``; the tails vanish
    quickly, so inputs more than a few ``sigma`` from the threshold get no gradient.

    Args:
        sigma: standard deviation ``σ > 0``; ``d(0) = 1 / (σ sqrt(2 pi))`` (about 0.8 for the
            default 0.5).

    Shape:
        any ``(*)``; the spikes have the input's shape and dtype.

    Example:
        >>> import torch
        >>> g = Gaussian(sigma=1.0)
        >>> round(g.derivative(torch.tensor([0.0])).item(), 4), g.primitive(torch.tensor([0.0]))
        (0.3989, tensor([0.5000]))
        >>> g(torch.tensor([-0.5, 0.0, 0.5]))  # the forward pass is the exact step x > 0
        tensor([0., 0., 1.])
    """

    params = ("sigma",)

    def __init__(self, sigma: float = 0.5) -> None:
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float)):
            raise TypeError(f"sigma must be a positive finite number, got {type(sigma).__name__}")
        if not (math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
        self.sigma = float(sigma)

    def _derivative(self, x: Tensor) -> Tensor:
        z = x / self.sigma
        return torch.exp(-0.5 * z * z) / (self.sigma * math.sqrt(2 * math.pi))

    def _primitive(self, x: Tensor) -> Tensor:
        return 0.5 * torch.erfc(-x / (self.sigma * math.sqrt(2)))
