"""``check_surrogate``: the spike function with a surrogate gradient (DESIGN §3.3)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from spikingtorch.testing._base import Rule, sorted_values

__all__ = ["check_surrogate"]

# Points where the Heaviside step is checked: both zeros, tiny and huge values on each side.
_STEP_POINTS = (-1e6, -2.0, -0.5, -1e-7, -0.0, 0.0, 1e-7, 0.5, 2.0, 1e6)


def _grid() -> Tensor:
    """A float64 grid over [-5, 5] that includes 0, plus far tails (shape (3, 341))."""
    core = torch.linspace(-5.0, 5.0, 1001, dtype=torch.float64)
    tails = torch.tensor([-1e6, -1e3, -50.0, 50.0, 1e3, 1e6], dtype=torch.float64)
    return torch.cat([core, tails, torch.zeros(16, dtype=torch.float64)]).reshape(3, 341)


def _method(obj: Any, name: str) -> Any:
    """``obj.name`` if it is callable and implemented, else None."""
    method = getattr(obj, name, None)
    if not callable(method):
        return None
    try:
        method(torch.zeros(1, dtype=torch.float64))
    except NotImplementedError:
        return None
    return method


def check_surrogate(surrogate: Any) -> None:
    """Check a surrogate spike function; raise on the first broken rule.

    Args:
        surrogate: a :class:`~spikingtorch.surrogate.SurrogateFunction` (or any callable
            ``x -> spikes`` with an autograd backward), a class to build without arguments,
            or a registered name such as ``"atan"``.

    Raises:
        ConformanceError: a rule is broken (``heaviside``, ``dtype``, ``derivative``,
            ``primitive``, ``gradients``, ``repr``).
    """
    from spikingtorch import surrogate as surrogates

    if isinstance(surrogate, str):
        who = f"surrogate {surrogate!r}"
        with Rule("factory", who):
            surrogate = surrogates.get(surrogate)
    elif isinstance(surrogate, type):
        who = surrogate.__name__
        with Rule("factory", who):
            surrogate = surrogate()
    else:
        who = type(surrogate).__name__
    with Rule("factory", who) as rule:
        rule.check(callable(surrogate), f"got a {type(surrogate).__name__}, not a callable")

    with Rule("heaviside", who) as rule:
        x = torch.tensor(_STEP_POINTS).reshape(2, 5)
        y = surrogate(x)
        rule.check(isinstance(y, Tensor), f"calling it returned a {type(y).__name__}")
        rule.check(y.shape == x.shape, f"shape {tuple(x.shape)} became {tuple(y.shape)}")
        expected = (x > 0).to(x.dtype)
        rule.check(
            torch.equal(y, expected),
            lambda: (
                "on x = "
                + ", ".join(f"{a:g}" for a in x.flatten().tolist())
                + " it gave "
                + ", ".join(f"{b:g}" for b in y.flatten().tolist())
            ),
        )

    with Rule("dtype", who) as rule:
        for dtype in (torch.float32, torch.float64):
            x = torch.linspace(-2, 2, 9, dtype=dtype).requires_grad_()
            y = surrogate(x)
            rule.check(y.dtype == dtype, f"a {dtype} input gave {y.dtype} spikes")
            y.sum().backward()
            grad = x.grad
            rule.check(grad is not None, f"no gradient reached a {dtype} input")
            assert grad is not None
            rule.check(grad.dtype == dtype, f"a {dtype} input got a {grad.dtype} gradient")

    derivative = _method(surrogate, "derivative")
    grid = _grid()
    with Rule("derivative", who) as rule:
        if derivative is None:  # no analytic derivative: use what autograd gives
            xg = grid.clone().requires_grad_()
            surrogate(xg).sum().backward()
            d = xg.grad if xg.grad is not None else torch.zeros_like(grid)
        else:
            d = derivative(grid)
            rule.check(isinstance(d, Tensor), f"derivative() returned a {type(d).__name__}")
            rule.check(
                d.shape == grid.shape and d.dtype == grid.dtype,
                f"derivative() of a {tuple(grid.shape)} {grid.dtype} input gave "
                f"{tuple(d.shape)} {d.dtype}",
            )
        rule.check(bool(torch.isfinite(d).all()), "the derivative holds NaN or inf on [-1e6, 1e6]")
        negative = d < 0
        rule.check(
            not bool(negative.any()),
            lambda: (
                f"the derivative is negative at x = {grid[negative][0].item():g} "
                f"(d = {d[negative][0].item():g})"
            ),
        )
        rule.check(bool(d.abs().sum() > 0), "the derivative is zero everywhere on [-5, 5]")

    primitive = _method(surrogate, "primitive")
    if primitive is not None and derivative is not None:
        with Rule("primitive", who) as rule:
            x = torch.linspace(-3.0, 3.0, 241, dtype=torch.float64) + 1e-3  # off the kinks
            h = 1e-6
            fd = (primitive(x + h) - primitive(x - h)) / (2 * h)
            d = derivative(x)
            close = torch.isclose(fd, d, rtol=1e-4, atol=1e-5)
            rule.check(
                bool(close.all()),
                lambda: (
                    f"at x = {x[~close][0].item():g}, (P(x+h) - P(x-h)) / 2h = "
                    f"{fd[~close][0].item():.6g} but derivative(x) = {d[~close][0].item():.6g}"
                ),
            )

    with Rule("gradients", who) as rule:
        x = torch.linspace(-3.0, 3.0, 61, dtype=torch.float64).requires_grad_()
        upstream = torch.rand(61, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        y = surrogate(x)
        rule.check(y.requires_grad, "the spikes carry no autograd graph")
        (y * upstream).sum().backward()
        grad = x.grad
        rule.check(grad is not None, "no gradient reached the input")
        assert grad is not None
        rule.check(bool(torch.isfinite(grad).all()), "the gradient holds NaN or inf")
        if derivative is not None:
            expected = upstream * derivative(x.detach())
            rule.check(
                torch.allclose(grad, expected, rtol=1e-6, atol=1e-9),
                lambda: (
                    "backward gave grad_out * d(x) = "
                    f"{sorted_values(grad)} instead of grad_out * derivative(x); max |diff| "
                    f"{float((grad - expected).abs().max()):.3g}"
                ),
            )
        else:
            rule.check(bool(grad.abs().sum() > 0), "the gradient is zero on [-3, 3]")

    with Rule("repr", who) as rule:
        text = repr(surrogate)
        rule.check(isinstance(text, str) and bool(text.strip()), f"repr() returned {text!r}")
