"""Step mode's one-node IF/LIF step: bit-identical forward, backward equal to autograd."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import torch
from torch import Tensor

from spikingtorch_neurons import IF, LIF
from spikingtorch_neurons.functional import IFState, LIFState, if_step, lif_step
from spikingtorch_neurons.functional.fused_step import if_step_fused, lif_step_fused

RESETS = ("zero", "subtract", "none")


def _params(kind: str) -> dict[str, Any]:
    if kind == "scalar":
        return {"threshold": 0.9, "decay": 0.8, "input_scale": None}
    g = torch.Generator().manual_seed(5)
    return {
        "threshold": (0.6 + torch.rand(5, generator=g, dtype=torch.float64)).requires_grad_(),
        "decay": (0.5 + 0.4 * torch.rand(5, generator=g, dtype=torch.float64)).requires_grad_(),
        "input_scale": (0.5 + torch.rand(5, generator=g, dtype=torch.float64)).requires_grad_(),
    }


def _run(step: Any, family: str, x: Tensor, v0: Tensor, s0: Tensor, p: dict[str, Any], **kw: Any):
    state: Any = (IFState if family == "if" else LIFState)(v0, s0)
    out = []
    for x_t in x.unbind(0):
        if family == "if":
            s, state = step(x_t, state, threshold=p["threshold"], **kw)
        else:
            s, state = step(x_t, state, **p, **kw)
        out.append(s)
    return torch.stack(out), state


@pytest.mark.parametrize(
    ("family", "reset", "detach_reset", "kind"),
    list(itertools.product(("if", "lif"), RESETS, (False, True), ("scalar", "tensor"))),
)
def test_fused_step_equals_the_step_function(
    family: str, reset: str, detach_reset: bool, kind: str
) -> None:
    g = torch.Generator().manual_seed(0)
    x = (1.4 * torch.rand(8, 3, 5, generator=g, dtype=torch.float64) - 0.2).requires_grad_()
    v0 = torch.rand(3, 5, generator=g, dtype=torch.float64).requires_grad_()
    s0 = (torch.rand(3, 5, generator=g, dtype=torch.float64) > 0.5).double().requires_grad_()
    p = _params(kind)
    kw = {"reset": reset, "detach_reset": detach_reset, "surrogate": "sigmoid"}
    leaves = [x, v0, s0] + [t for t in p.values() if isinstance(t, Tensor)]
    if family == "if":
        leaves = [x, v0, s0] + [t for t in [p["threshold"]] if isinstance(t, Tensor)]
    w = torch.randn(8, 3, 5, generator=g, dtype=torch.float64)

    ref_step = if_step if family == "if" else lif_step
    fused_step = if_step_fused if family == "if" else lif_step_fused
    ref, ref_state = _run(ref_step, family, x, v0, s0, p, **kw)
    out, state = _run(fused_step, family, x, v0, s0, p, **kw)
    assert torch.equal(out, ref) and torch.equal(state.v, ref_state.v)
    assert 0 < ref.sum() < ref.numel()

    def loss(spikes: Tensor, st: Any) -> Tensor:
        return (spikes * w).sum() + 1.3 * st.v.sum() - 0.7 * st.s.sum()

    expected = torch.autograd.grad(loss(ref, ref_state), leaves, materialize_grads=True)
    got = torch.autograd.grad(loss(out, state), leaves, materialize_grads=True)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-10)


def test_modules_use_one_autograd_node_per_step() -> None:
    x = torch.rand(4, 3, requires_grad=True)
    for neuron in (LIF(decay=0.9), IF()):
        s = neuron(x, init=True)
        assert s.grad_fn is not None and type(s.grad_fn).__name__ == "_LIFStepBackward"


def test_reduced_precision_falls_back_to_the_step_function() -> None:
    x = torch.rand(4, 3, dtype=torch.bfloat16, requires_grad=True)
    s, _ = lif_step_fused(x, LIFState.zeros_like(x), decay=0.9)
    assert type(s.grad_fn).__name__ != "_LIFStepBackward"
    ref, _ = lif_step(x, LIFState.zeros_like(x), decay=0.9)
    assert torch.equal(s, ref)


def test_torch_func_transforms_use_the_plain_step() -> None:
    x = torch.rand(4, 3, 5, dtype=torch.float64) * 2

    def first_spikes(x_n: Tensor) -> Tensor:
        s, _ = lif_step_fused(x_n, LIFState.zeros_like(x_n), decay=0.9, threshold=0.8)
        return s

    batched = torch.vmap(first_spikes)(x)
    expected, _ = lif_step(x, LIFState.zeros_like(x), decay=0.9, threshold=0.8)
    assert torch.equal(batched, expected)
    # grad of a module's step under torch.func, as in functional_call-based meta-learning
    neuron = LIF(decay=0.9, threshold=0.8)
    g = torch.func.grad(lambda xi: neuron(xi, init=True).sum())(x[0])
    ref = x[0].clone().requires_grad_()
    lif_step(ref, LIFState.zeros_like(ref), decay=0.9, threshold=0.8)[0].sum().backward()
    assert ref.grad is not None
    torch.testing.assert_close(g, ref.grad)
