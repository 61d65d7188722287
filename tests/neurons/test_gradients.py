"""BPTT gradients of IF and LIF networks against a reference loop in plain torch ops.

The reference below re-implements the dynamics from the equations with its own Heaviside /
sigmoid-surrogate autograd function; nothing from the package is called. Both run a 2-layer
network for 10 steps in float64 and must agree to 1e-6 relative on every gradient: the input,
the weights, and the learned threshold and decay.
"""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from spikingtorch.net import SpikingNet
from spikingtorch.surrogate import Sigmoid
from spikingtorch_neurons import IF, LIF

SLOPE = 3.0
STEPS = 10


class RefSpike(torch.autograd.Function):
    """H(x) forward; slope * sigma(slope x) (1 - sigma(slope x)) backward."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: Tensor) -> Tensor:
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors  # type: ignore[attr-defined]
        sig = torch.sigmoid(SLOPE * x)
        return grad * SLOPE * sig * (1 - sig)


def ref_layer(
    currents: list[Tensor], decay: Tensor | float, threshold: Tensor | float, reset: str
) -> list[Tensor]:
    v = torch.zeros_like(currents[0])
    s = torch.zeros_like(currents[0])
    out = []
    for x in currents:
        if reset == "zero":
            r = v * (1 - s)
        elif reset == "subtract":
            r = v - threshold * s
        else:
            r = v
        v = decay * r + x
        s = RefSpike.apply(v - threshold)
        out.append(s)
    return out


class Net(nn.Module):
    def __init__(self, n1: nn.Module, n2: nn.Module) -> None:
        super().__init__()
        self.fc1, self.n1 = nn.Linear(4, 6), n1
        self.fc2, self.n2 = nn.Linear(6, 3), n2

    def forward(self, x: Tensor, init: bool) -> Tensor:
        return self.n2(self.fc2(self.n1(self.fc1(x), init)), init)


def reference_grads(net: Net, x: Tensor, weights: Tensor, reset: str, kind: str) -> dict:
    fc1 = [p.detach().clone().requires_grad_() for p in (net.fc1.weight, net.fc1.bias)]
    fc2 = [p.detach().clone().requires_grad_() for p in (net.fc2.weight, net.fc2.bias)]
    th1 = net.n1.threshold.detach().clone().requires_grad_()
    th2 = net.n2.threshold.detach().clone().requires_grad_()
    if kind == "lif":
        lg1 = net.n1.decay_logit.detach().clone().requires_grad_()
        lg2 = net.n2.decay_logit.detach().clone().requires_grad_()
        a1, a2 = torch.sigmoid(lg1), torch.sigmoid(lg2)
    else:
        a1 = a2 = 1.0
    xr = x.detach().clone().requires_grad_()
    h = [xt @ fc1[0].T + fc1[1] for xt in xr.unbind(1)]
    s1 = ref_layer(h, a1, th1, reset)
    h2 = [st @ fc2[0].T + fc2[1] for st in s1]
    out = torch.stack(ref_layer(h2, a2, th2, reset), 1)
    (out * weights).sum().backward()
    grads = {
        "x": xr.grad,
        "fc1.weight": fc1[0].grad,
        "fc1.bias": fc1[1].grad,
        "fc2.weight": fc2[0].grad,
        "fc2.bias": fc2[1].grad,
        "n1.threshold": th1.grad,
        "n2.threshold": th2.grad,
    }
    if kind == "lif":
        grads["n1.decay_logit"] = lg1.grad
        grads["n2.decay_logit"] = lg2.grad
    return {"out": out.detach(), **grads}


def make_neuron(kind: str, reset: str, threshold: Tensor) -> nn.Module:
    common = {"reset": reset, "surrogate": Sigmoid(slope=SLOPE), "learn_threshold": True}
    if kind == "if":
        return IF(threshold=threshold, **common)
    tau = torch.linspace(2.0, 6.0, threshold.shape[0], dtype=torch.float64)
    return LIF(tau=tau, learn_tau=True, threshold=threshold, **common)


@pytest.mark.parametrize("kind", ["if", "lif"])
@pytest.mark.parametrize("reset", ["zero", "subtract", "none"])
def test_bptt_gradients_match_reference(kind: str, reset: str) -> None:
    torch.manual_seed(0)
    th1 = torch.linspace(0.6, 1.2, 6, dtype=torch.float64)
    th2 = torch.linspace(0.5, 1.0, 3, dtype=torch.float64)
    net = Net(make_neuron(kind, reset, th1), make_neuron(kind, reset, th2)).double()
    x = torch.rand(5, STEPS, 4, dtype=torch.float64, requires_grad=True) * 1.5
    x.retain_grad()
    weights = torch.randn(5, STEPS, 3, dtype=torch.float64)

    expected = reference_grads(net, x, weights, reset, kind)
    out = SpikingNet(net, (3,))(x)
    (out * weights).sum().backward()
    assert out.sum() > 0  # the network spikes: the gradients are not trivially equal
    torch.testing.assert_close(out.detach(), expected.pop("out"))
    got = {"x": x.grad, **{n: p.grad for n, p in net.named_parameters()}}
    assert set(got) == set(expected)
    for name, grad in expected.items():
        assert grad is not None and grad.abs().sum() > 0, name
        torch.testing.assert_close(got[name], grad, rtol=1e-6, atol=1e-12, msg=name)


def test_learned_tau_and_threshold_train_and_decay_stays_in_unit_interval() -> None:
    torch.manual_seed(0)
    lif = LIF(tau=torch.full((4,), 3.0), learn_tau=True, learn_threshold=True)
    model = SpikingNet(nn.Sequential(nn.Linear(3, 4), lif), (4,))
    optimizer = torch.optim.SGD(model.parameters(), lr=1e3)
    x = torch.rand(16, 8, 3)
    before = (lif.decay_logit.detach().clone(), lif.threshold.detach().clone())
    for _ in range(100):
        optimizer.zero_grad()
        rate = model(x).mean()
        (rate - 0.9).pow(2).backward()  # ask for more spikes: pushes decay up, threshold down
        optimizer.step()
        decay = lif.decay
        assert isinstance(decay, Tensor)
        assert bool(((decay > 0) & (decay < 1)).all())
        assert torch.isfinite(lif.threshold).all()
    assert not torch.equal(lif.decay_logit, before[0])
    assert not torch.equal(lif.threshold, before[1])
