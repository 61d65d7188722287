"""The Gaussian surrogate: its derivative against its primitive, gradcheck, lookup by name."""

from __future__ import annotations

import math

import pytest
import spikingtorch
import torch
from spikingtorch.surrogate import SurrogateFunction
from spikingtorch.surrogate import get as get_surrogate

from spikingtorch_izhikevich import Gaussian


@pytest.mark.parametrize("sigma", [0.25, 0.5, 1.0, 3.0])
def test_derivative_matches_finite_differences_of_the_primitive(sigma: float) -> None:
    g = Gaussian(sigma=sigma)
    x = torch.linspace(-5 * sigma, 5 * sigma, 201, dtype=torch.float64)
    h = 1e-6
    numeric = (g.primitive(x + h) - g.primitive(x - h)) / (2 * h)
    torch.testing.assert_close(g.derivative(x), numeric, rtol=1e-6, atol=1e-9)


def test_formula_and_unit_area() -> None:
    g = Gaussian(sigma=2.0)
    x = torch.tensor([0.0, 2.0], dtype=torch.float64)
    expected = [1 / (2 * math.sqrt(2 * math.pi)), math.exp(-0.5) / (2 * math.sqrt(2 * math.pi))]
    torch.testing.assert_close(g.derivative(x), torch.tensor(expected, dtype=torch.float64))
    big = torch.tensor([-60.0, 60.0], dtype=torch.float64)
    torch.testing.assert_close(g.primitive(big), torch.tensor([0.0, 1.0], dtype=torch.float64))


def test_spike_forward_and_backward() -> None:
    g = Gaussian()
    x = torch.tensor([-1.0, 0.0, 0.3], dtype=torch.float64, requires_grad=True)
    s = g(x)
    assert s.tolist() == [0.0, 0.0, 1.0]
    s.sum().backward()
    assert x.grad is not None
    torch.testing.assert_close(x.grad, g.derivative(x.detach()))
    assert torch.autograd.gradcheck(lambda t: g.primitive(t), (x.detach().requires_grad_(),))


def test_half_precision_is_computed_in_float32() -> None:
    g = Gaussian()
    x = torch.tensor([0.0, 0.5], dtype=torch.bfloat16)
    assert g.derivative(x).dtype == torch.bfloat16


@pytest.mark.parametrize("sigma", [0.0, -1.0, float("inf"), True, "wide"])
def test_bad_sigma(sigma: object) -> None:
    with pytest.raises((TypeError, ValueError), match="sigma must be"):
        Gaussian(sigma=sigma)  # type: ignore[arg-type]


def test_registered_by_name_and_alias() -> None:
    assert isinstance(spikingtorch.get_surrogate("gaussian"), Gaussian)
    assert get_surrogate("erf", sigma=2.0) == Gaussian(sigma=2.0)
    assert isinstance(get_surrogate("gaussian"), SurrogateFunction)
    entry = spikingtorch.get_registry("surrogates").lookup("erf")
    assert (entry.name, entry.provider) == ("gaussian", "spikingtorch-izhikevich")
