"""Surrogate gradients: analytic derivatives, the spike function's forward/backward, lookup."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

import spikingtorch
from spikingtorch import surrogate as sg
from spikingtorch.registry import AmbiguousComponentError, ComponentNotFoundError
from spikingtorch.surrogate import (
    ATan,
    FastSigmoid,
    Sigmoid,
    StraightThrough,
    SurrogateFunction,
    Triangle,
)

FAMILIES = [
    Sigmoid(),
    Sigmoid(slope=2.0),
    FastSigmoid(),
    FastSigmoid(slope=3.0),
    ATan(),
    ATan(alpha=0.5),
    Triangle(),
    Triangle(width=0.5),
    StraightThrough(),
]


def _np_derivative(f: SurrogateFunction, x: np.ndarray) -> np.ndarray:
    """The pseudo-derivatives written out independently of the implementation."""
    if isinstance(f, Sigmoid):
        k = f.slope
        e = np.exp(-k * x)
        return k * e / (1.0 + e) ** 2
    if isinstance(f, FastSigmoid):
        return 1.0 / (1.0 + f.slope * np.abs(x)) ** 2
    if isinstance(f, ATan):
        a = f.alpha
        return a / 2.0 / (1.0 + (np.pi * a * x / 2.0) ** 2)
    if isinstance(f, Triangle):
        w = f.width
        return np.maximum(0.0, 1.0 - np.abs(x) / w) / w
    if isinstance(f, StraightThrough):
        return np.ones_like(x)
    raise AssertionError(f"no reference for {f!r}")


class _Primitive(torch.autograd.Function):
    """Forward: the primitive P; backward: the analytic derivative d (checked by gradcheck)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, f: SurrogateFunction) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.f = f
        return f.primitive(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (x,) = ctx.saved_tensors
        return grad * ctx.f.derivative(x), None


def _grid(f: SurrogateFunction) -> torch.Tensor:
    """Points spread over the interesting range, away from the kinks (0 and ±width)."""
    scale = f.width if isinstance(f, Triangle) else 1.0
    x = torch.linspace(-2.5, 2.5, 60, dtype=torch.float64) * scale + 0.0137 * scale
    kinks = torch.tensor([0.0, -scale, scale], dtype=torch.float64)
    assert (x[:, None] - kinks).abs().min() > 1e-3
    return x


@pytest.mark.parametrize("f", FAMILIES, ids=repr)
def test_derivative_is_the_derivative_of_the_primitive(f: SurrogateFunction) -> None:
    x = _grid(f).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: _Primitive.apply(t, f), (x,), eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("f", FAMILIES, ids=repr)
def test_derivative_matches_independent_formula(f: SurrogateFunction) -> None:
    x = np.linspace(-3, 3, 121)
    got = f.derivative(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, _np_derivative(f, x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("f", FAMILIES, ids=repr)
def test_spike_forward_is_exact_heaviside(f: SurrogateFunction) -> None:
    x = torch.tensor([-1.0, -1e-30, 0.0, -0.0, 1e-30, 0.5, 2.0], dtype=torch.float64)
    assert f(x).tolist() == [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize("f", FAMILIES, ids=repr)
def test_spike_backward_is_grad_times_derivative(f: SurrogateFunction) -> None:
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(5, 7, generator=gen, dtype=torch.float64)
    x0[0, :3] = torch.tensor([0.0, 1.0, -1.0], dtype=torch.float64)  # kinks included
    grad_out = torch.randn(5, 7, generator=gen, dtype=torch.float64)
    x = x0.clone().requires_grad_()
    s = sg.spike(x, f)
    s.backward(grad_out)
    assert x.grad is not None
    expected = _np_derivative(f, x0.numpy()) * grad_out.numpy()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("f", FAMILIES, ids=repr)
def test_dtype_follows_input(f: SurrogateFunction, dtype: torch.dtype) -> None:
    x = torch.linspace(-2, 2, 11, dtype=dtype).requires_grad_()
    s = f(x)
    assert s.dtype == dtype
    assert s.tolist() == (x.detach() > 0).to(dtype).tolist()
    s.sum().backward()
    assert x.grad is not None and x.grad.dtype == dtype
    ref = _np_derivative(f, x.detach().double().numpy())
    tol = 1e-6 if dtype in (torch.float32, torch.float64) else 1e-2
    np.testing.assert_allclose(x.grad.double().numpy(), ref, rtol=tol, atol=tol)
    assert f.primitive(x.detach()).dtype == dtype


def test_unit_area_families() -> None:
    for f in (Sigmoid(), ATan(), Triangle(width=0.5)):
        hi, lo = f.primitive(torch.tensor([1e6, -1e6], dtype=torch.float64)).tolist()
        assert hi - lo == pytest.approx(1.0, abs=1e-5)


def test_spike_only_saves_input() -> None:
    x = torch.randn(4, requires_grad=True)
    s = sg.spike(x, "atan")
    assert s.grad_fn is not None
    saved = [getattr(s.grad_fn, n) for n in dir(s.grad_fn) if n.startswith("saved_tensors")]
    assert len(saved) == 1 and len(saved[0]) == 1 and saved[0][0] is x


def test_spike_default_is_sigmoid() -> None:
    x = torch.tensor([0.0], requires_grad=True)
    sg.spike(x).backward()
    assert x.grad is not None and x.grad.item() == pytest.approx(5.0 / 4.0)


def test_no_grad_needed() -> None:
    with torch.no_grad():
        assert Sigmoid()(torch.tensor([1.0])).item() == 1.0


# -- lookup --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sigmoid", Sigmoid()),
        ("fast_sigmoid", FastSigmoid()),
        ("superspike", FastSigmoid()),
        ("Fast-Sigmoid", FastSigmoid()),
        ("atan", ATan()),
        ("arctan", ATan()),
        ("triangle", Triangle()),
        ("straight_through", StraightThrough()),
        ("ste", StraightThrough()),
    ],
)
def test_get_by_name(name: str, expected: SurrogateFunction) -> None:
    assert sg.get(name) == expected


def test_get_with_params_and_instance() -> None:
    assert sg.get("sigmoid", slope=10.0) == Sigmoid(slope=10.0)
    f = ATan(alpha=3.0)
    assert sg.get(f) is f
    with pytest.raises(TypeError, match="only be given with a surrogate name"):
        sg.get(f, alpha=1.0)


def test_get_unknown_name_lists_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(spikingtorch, "get_surrogate", raising=False)
    with pytest.raises(ValueError, match=r"unknown surrogate 'nope'.*atan.*sigmoid"):
        sg.get("nope")


def test_get_bad_type() -> None:
    with pytest.raises(TypeError, match="SurrogateFunction or a name.*int"):
        sg.get(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="SurrogateFunction or a name"):
        sg.get(torch.sigmoid)  # type: ignore[arg-type]


def test_get_falls_back_to_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    class Box(SurrogateFunction):
        params = ("width",)

        def __init__(self, width: float = 1.0) -> None:
            self.width = width

        def _derivative(self, x: torch.Tensor) -> torch.Tensor:
            return (x.abs() < self.width).to(x.dtype)

        def _primitive(self, x: torch.Tensor) -> torch.Tensor:
            return x.clamp(-self.width, self.width)

    def fake_get_surrogate(name: str, **params: Any) -> SurrogateFunction:
        if name == "box":
            return Box(**params)
        if name == "twice":
            raise AmbiguousComponentError("'twice' is ambiguous", candidates=["a:twice", "b:twice"])
        raise ComponentNotFoundError(f"no surrogate named {name!r}", available=["box", "atan"])

    monkeypatch.setattr(spikingtorch, "get_surrogate", fake_get_surrogate, raising=False)
    assert sg.get("box", width=0.5) == Box(width=0.5)
    with pytest.raises(ValueError, match="unknown surrogate 'other'; known: arctan, atan, box,"):
        sg.get("other")
    with pytest.raises(AmbiguousComponentError, match="ambiguous"):
        sg.get("twice")


def test_get_with_the_real_registry() -> None:
    assert spikingtorch.get_surrogate("superspike", slope=3.0) == FastSigmoid(slope=3.0)
    with pytest.raises(ValueError, match="unknown surrogate 'nope'; known: .*triangle"):
        sg.get("nope")


def test_names() -> None:
    assert {"sigmoid", "fast_sigmoid", "superspike", "atan", "arctan", "triangle"} <= set(
        sg.names()
    )
    assert {"straight_through", "ste"} <= set(sg.names())


# -- parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [Sigmoid, FastSigmoid, ATan, Triangle])
@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_bad_parameter_value(cls: type[SurrogateFunction], bad: float) -> None:
    name = cls.params[0]
    with pytest.raises(ValueError, match=f"{name} must be positive and finite, got {bad!r}"):
        cls(bad)  # type: ignore[call-arg]


@pytest.mark.parametrize("cls", [Sigmoid, FastSigmoid, ATan, Triangle])
@pytest.mark.parametrize("bad", ["5", True, None, torch.tensor(1.0)])
def test_bad_parameter_type(cls: type[SurrogateFunction], bad: object) -> None:
    with pytest.raises(TypeError, match=f"{cls.params[0]} must be a positive finite number"):
        cls(bad)  # type: ignore[call-arg]


def test_defaults_repr_eq_hash() -> None:
    assert Sigmoid().slope == 5.0
    assert FastSigmoid().slope == 25.0
    assert ATan().alpha == 2.0
    assert Triangle().width == 1.0
    assert repr(Sigmoid()) == "Sigmoid(slope=5.0)"
    assert repr(StraightThrough()) == "StraightThrough()"
    assert repr(FastSigmoid(slope=3)) == "FastSigmoid(slope=3.0)"
    assert Sigmoid(2) == Sigmoid(2.0)
    assert Sigmoid(2) != Sigmoid(3)
    assert Sigmoid(2) != FastSigmoid(2)
    assert len({Sigmoid(), Sigmoid(5.0), ATan()}) == 2


def test_in_place_derivative_follows_a_subclass_formula() -> None:
    from spikingtorch.surrogate import Sigmoid

    class Doubled(Sigmoid):  # overrides _derivative but inherits Sigmoid._derivative_
        def _derivative(self, x: torch.Tensor) -> torch.Tensor:
            return 2 * super()._derivative(x)

    x = torch.linspace(-1, 1, 7, dtype=torch.float64)
    expected = 2 * Sigmoid().derivative(x)
    torch.testing.assert_close(Doubled().derivative_(x.clone()), expected)
    # the built-in families compute in place and agree with derivative()
    for family in (Sigmoid(), FastSigmoid(), Triangle()):
        torch.testing.assert_close(family.derivative_(x.clone()), family.derivative(x))
