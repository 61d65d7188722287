"""Fused scans, the one-node step and sequence mode on every device torch offers here.

CPU always runs; CUDA runs when a GPU is visible (the CI machines have none, so there these
tests check the CPU path and the CUDA cases are skipped, never faked). On CUDA the scans take the
eager path (the native kernel serves CPU only): the same in-place step ops, so the forward must
still be bit-identical to stepping on that device, and the hand-written backward must still agree
with autograd through the step functions.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest
import torch
from torch import Tensor, nn

from spikingtorch import SpikingNet
from spikingtorch.networks import convnet
from spikingtorch_neurons import IF, LIF, AdaptiveLIF, SynapticLIF
from spikingtorch_neurons.functional import IFState, LIFState, if_step, lif_step
from spikingtorch_neurons.functional.fused_step import if_step_fused, lif_step_fused

F64 = torch.float64
RESETS = ("zero", "subtract", "none")
HAS_CUDA = torch.cuda.is_available()
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not HAS_CUDA, reason="no GPU"))]
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="no GPU")


def _neuron(family: str, reset: str, learn: bool) -> nn.Module:
    """One neuron of ``family`` with scalar constants, or per-neuron trainable ones (5 features)."""
    t = torch.tensor([0.8, 1.0, 1.2, 0.9, 1.1], dtype=F64)
    if family == "if":
        return IF(threshold=t, learn_threshold=True, reset=reset) if learn else IF(reset=reset)
    if family == "lif":
        if learn:
            return LIF(tau=t * 4, learn_tau=True, learn_threshold=True, reset=reset)
        return LIF(decay=0.8, reset=reset)
    if family == "alif":
        if learn:
            return AdaptiveLIF(
                tau=t * 4, tau_adapt=t * 20, adapt_strength=t * 0.3, reset=reset,
                learn_tau=True, learn_tau_adapt=True, learn_threshold=True,
            )  # fmt: skip
        return AdaptiveLIF(decay=0.8, adapt_decay=0.9, reset=reset)
    if learn:
        return SynapticLIF(
            tau=t * 4, tau_syn=t * 2, reset=reset, learn_tau=True, learn_tau_syn=True
        )
    return SynapticLIF(decay=0.8, syn_decay=0.6, reset=reset)


def _input(family: str, device: str, dtype: torch.dtype = F64) -> Tensor:
    g = torch.Generator().manual_seed(11)
    x = 1.3 * torch.rand(12, 4, 5, generator=g, dtype=F64) - 0.2
    if family == "synaptic":
        x = 0.5 * x  # the synaptic current integrates the input; keep the rate moderate
    return x.to(device=device, dtype=dtype)


def _loss(spikes: Tensor, state: Any) -> Tensor:
    """A loss that reaches every output: weighted spikes plus every final state tensor."""
    g = torch.Generator().manual_seed(12)
    w = torch.randn(spikes.shape, generator=g, dtype=F64).to(spikes)
    return (spikes * w).sum() + sum(1.3 * s.sum() for s in state)


CASES = list(itertools.product(("if", "lif", "alif", "synaptic"), RESETS, (False, True)))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("family", "reset", "learn"), CASES)
def test_scan_equals_stepping_on_the_device(
    device: str, family: str, reset: str, learn: bool
) -> None:
    neuron = _neuron(family, reset, learn).to(device=device, dtype=F64)
    stepper: Any = copy.deepcopy(neuron)
    x = _input(family, device).requires_grad_()
    ref = torch.stack([stepper(x_t, init=(t == 0)) for t, x_t in enumerate(x.unbind(0))])
    spikes, state = neuron.scan(x)  # type: ignore[operator]
    assert spikes.device.type == device and 0 < float(ref.detach().mean()) < 1
    assert torch.equal(spikes, ref)
    for a, b in zip(state, stepper.state, strict=True):
        assert torch.equal(a, b)
    want = torch.autograd.grad(_loss(ref, stepper.state), [x, *stepper.parameters()])
    got = torch.autograd.grad(_loss(spikes, state), [x, *neuron.parameters()])
    for a, b in zip(got, want, strict=True):
        assert a.device.type == device
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-10)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("family", ["if", "lif", "alif", "synaptic"])
def test_float32_scan_is_bit_identical_to_stepping(device: str, family: str) -> None:
    neuron: Any = _neuron(family, "subtract", learn=False).to(device)
    x = _input(family, device, torch.float32)
    stepped = torch.stack([neuron(x_t, init=(t == 0)) for t, x_t in enumerate(x.unbind(0))])
    last = [s.clone() for s in neuron.state]
    spikes, state = neuron.scan(x)
    assert torch.equal(spikes, stepped) and stepped.sum() > 0
    for a, b in zip(state, last, strict=True):
        assert torch.equal(a, b)


@needs_cuda
@pytest.mark.parametrize(("family", "reset", "learn"), CASES)
def test_cuda_agrees_with_cpu(family: str, reset: str, learn: bool) -> None:
    """The same float64 problem on both devices: same spikes, states and gradients."""
    results = []
    for device in ("cpu", "cuda"):
        neuron = _neuron(family, reset, learn).to(device=device, dtype=F64)
        x = _input(family, device).requires_grad_()
        spikes, state = neuron.scan(x)  # type: ignore[operator]
        grads = torch.autograd.grad(_loss(spikes, state), [x, *neuron.parameters()])
        results.append([spikes, *state, *grads])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(b.cpu(), a, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("family", "reset"), list(itertools.product(("if", "lif"), RESETS)))
def test_fused_step_on_the_device(device: str, family: str, reset: str) -> None:
    g = torch.Generator().manual_seed(13)
    x = (1.4 * torch.rand(6, 3, 5, generator=g, dtype=F64) - 0.2).to(device).requires_grad_()
    kw: dict[str, Any] = {"reset": reset, "surrogate": "sigmoid", "threshold": 0.9}
    if family == "lif":
        kw["decay"] = 0.8
    ref_step, fused = (if_step, if_step_fused) if family == "if" else (lif_step, lif_step_fused)
    make = IFState if family == "if" else LIFState
    outs = []
    for step in (ref_step, fused):
        state: Any = make(torch.zeros_like(x[0]), torch.zeros_like(x[0]))
        spikes = []
        for x_t in x.unbind(0):
            s, state = step(x_t, state, **kw)
            spikes.append(s)
        out = torch.stack(spikes)
        outs.append((out, torch.autograd.grad(_loss(out, state), x)[0]))
    (ref, g_ref), (got, g_got) = outs
    assert torch.equal(got, ref) and ref.sum() > 0
    torch.testing.assert_close(g_got, g_ref, rtol=1e-5, atol=1e-10)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("neuron", ["if", "lif", "alif", "synaptic_lif"])
def test_seed_conv_net_sequence_mode_equals_step_mode(device: str, neuron: str) -> None:
    torch.manual_seed(0)
    net = convnet((1, 12, 12), 3, channels=(4, 6), neuron=neuron).to(device=device, dtype=F64)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(3.0)  # enough drive for spikes in every layer
    step = SpikingNet(net, (3,))
    seq = SpikingNet(copy.deepcopy(net), (3,), mode="sequence")
    x = (torch.rand(6, 7, 1, 12, 12) < 0.4).to(device=device, dtype=F64)
    y_step, y_seq = step(x), seq(x)
    assert y_seq.device.type == device
    assert torch.equal(y_step, y_seq) and y_step.sum() > 0
    w = torch.randn(y_step.shape, dtype=F64).to(device)
    (y_step * w).sum().backward()
    (y_seq * w).sum().backward()
    for (name, a), b in zip(step.named_parameters(), seq.parameters(), strict=True):
        assert a.grad is not None and b.grad is not None, name
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-5, atol=1e-10)


@pytest.mark.parametrize("device", DEVICES)
def test_sequence_mode_trains_on_the_device(device: str) -> None:
    """Thirty Adam steps on one fixed batch lower the loss (float32, the everyday setting)."""
    torch.manual_seed(1)
    net = convnet((1, 12, 12), 3, channels=(4, 6), neuron="lif").to(device)
    model = SpikingNet(net, (3,), mode="sequence")
    x = (torch.rand(16, 8, 1, 12, 12) < 0.3).float().to(device)
    labels = torch.randint(0, 3, (16,)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x).sum(1), labels)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert all(p.device.type == device for p in model.parameters())
    assert losses[-1] < 0.7 * losses[0], losses
