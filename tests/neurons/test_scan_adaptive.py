"""Fused ALIF / synaptic-LIF scans: bit-identical forward, backward equal to autograd of steps.

``torch.autograd.gradcheck`` does not apply (the spikes are discontinuous, and the surrogate
gradient is not their derivative); the reference is autograd through the step functions.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
import torch
from torch import Tensor, nn

from spikingtorch import SpikingNet
from spikingtorch.networks import convnet
from spikingtorch_neurons import AdaptiveLIF, SynapticLIF
from spikingtorch_neurons.functional import (
    ALIFState,
    SynapticLIFState,
    alif_scan,
    alif_step,
    scan_adaptive,
    synaptic_lif_scan,
    synaptic_lif_step,
)

RESETS = ("zero", "subtract", "none")
LAYOUTS = {"dense": (3, 5), "conv": (2, 3, 4, 4)}
F64 = torch.float64


class Model(NamedTuple):
    """A neuron family: its step and scan functions, state type and input range."""

    step: Callable[..., tuple[Tensor, Any]]
    scan: Callable[..., tuple[Tensor, Any]]
    state: Any
    x_range: tuple[float, float]  # inputs uniform in [lo, hi): spikes and silence both occur


MODELS = {
    "alif": Model(alif_step, alif_scan, ALIFState, (-0.2, 1.2)),
    "synaptic": Model(synaptic_lif_step, synaptic_lif_scan, SynapticLIFState, (-0.45, 0.65)),
}


def _params(model: str, kind: str, shape: tuple[int, ...]) -> dict[str, Any]:
    """Hyper-parameters: numbers, or trainable per-neuron tensors (per channel for conv maps)."""
    if kind == "scalar":
        common: dict[str, Any] = {"threshold": 0.9, "decay": 0.8, "input_scale": None}
        if model == "alif":
            return {**common, "adapt_decay": 0.9, "adapt_strength": 0.3}
        return {**common, "syn_decay": 0.6}
    pshape = shape[1:] if len(shape) == 2 else (shape[1], 1, 1)
    g = torch.Generator().manual_seed(1)

    def uniform(lo: float, hi: float) -> Tensor:
        return (lo + (hi - lo) * torch.rand(pshape, generator=g, dtype=F64)).requires_grad_()

    p = {
        "threshold": uniform(0.6, 1.2),
        "decay": uniform(0.5, 0.9),
        "input_scale": uniform(0.6, 1.4),
    }
    if model == "alif":
        return {**p, "adapt_decay": uniform(0.7, 0.95), "adapt_strength": uniform(0.1, 0.6)}
    return {**p, "syn_decay": uniform(0.4, 0.8)}


def _inputs(model: str, shape: tuple[int, ...], n_steps: int = 10) -> tuple[Tensor, list[Tensor]]:
    """A time-first input and a non-resting initial state (binary spikes)."""
    g = torch.Generator().manual_seed(0)
    lo, hi = MODELS[model].x_range
    x = lo + (hi - lo) * torch.rand((n_steps, *shape), generator=g, dtype=F64)
    state = [torch.rand(shape, generator=g, dtype=F64) for _ in range(3)]
    spike_index = 1 if model == "alif" else 2  # ALIFState(v, s, w), SynapticLIFState(i, v, s)
    state[spike_index] = (state[spike_index] > 0.5).to(F64)
    return x, state


def _loss(spikes: Tensor, state: tuple[Tensor, ...], parts: str = "all") -> Tensor:
    """A random linear functional of the spikes and/or of each final state tensor."""
    g = torch.Generator().manual_seed(2)
    total = spikes.new_zeros(())
    if parts in ("all", "spikes"):
        total = total + (spikes * torch.randn(spikes.shape, generator=g, dtype=F64)).sum()
    for k, t in enumerate(state):
        if parts == "all" or parts == f"state{k}":
            total = total + (t * torch.randn(t.shape, generator=g, dtype=F64)).sum()
    return total


def _step_loop(model: str, x: Tensor, state: Any, **kw: Any) -> tuple[Tensor, Any]:
    out = []
    for x_t in x.unbind(0):
        s, state = MODELS[model].step(x_t, state, **kw)
        out.append(s)
    return torch.stack(out), state


def _grads(loss: Tensor, leaves: list[Tensor]) -> tuple[Tensor, ...]:
    return torch.autograd.grad(loss, leaves, allow_unused=True, materialize_grads=True)


def _assert_grads_close(got: tuple[Tensor, ...], want: tuple[Tensor, ...]) -> None:
    assert len(got) == len(want)
    for k, (a, b) in enumerate(zip(got, want, strict=True)):
        assert a.shape == b.shape, k
        try:
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-10)
        except AssertionError as error:
            raise AssertionError(f"gradient of leaf {k}: {error}") from None


# -- the functional scans against autograd through the step functions -------------------------


CASES = [
    (m, r, d, k, layout, "sigmoid")
    for m, r, d, k, layout in itertools.product(
        MODELS, RESETS, (False, True), ("scalar", "tensor"), LAYOUTS
    )
] + [(m, "subtract", False, "tensor", "dense", sg) for m in MODELS for sg in ("atan", "triangle")]


@pytest.mark.parametrize(("model", "reset", "detach_reset", "kind", "layout", "surrogate"), CASES)
def test_scan_equals_autograd_of_steps(
    model: str, reset: str, detach_reset: bool, kind: str, layout: str, surrogate: str
) -> None:
    shape = LAYOUTS[layout]
    p = _params(model, kind, shape)
    x, state0 = _inputs(model, shape)
    x.requires_grad_()
    for t in state0:
        t.requires_grad_()
    kw = {**p, "reset": reset, "surrogate": surrogate, "detach_reset": detach_reset}
    leaves = [x, *state0, *(t for t in p.values() if isinstance(t, Tensor))]

    ref, ref_state = _step_loop(model, x, MODELS[model].state(*state0), **kw)
    spikes, state = MODELS[model].scan(x, MODELS[model].state(*state0), **kw)

    assert type(state) is type(ref_state)
    assert torch.equal(spikes, ref)  # bit-identical forward
    for a, b in zip(state, ref_state, strict=True):
        assert torch.equal(a, b)
    assert 0.05 < ref.mean() < 0.95  # the case exercises spikes and silence
    _assert_grads_close(_grads(_loss(spikes, state), leaves), _grads(_loss(ref, ref_state), leaves))


@pytest.mark.parametrize("steps_per_chunk", [1, 3])
@pytest.mark.parametrize(
    ("reset", "detach_reset"),
    [("zero", False), ("subtract", False), ("subtract", True), ("none", False)],
)
@pytest.mark.parametrize("model", list(MODELS))
def test_chunked_backward_equals_autograd_of_steps(
    model: str,
    reset: str,
    detach_reset: bool,
    steps_per_chunk: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On CPU the backward runs over chunks of steps (for large layers one step at a time);
    the chunk boundaries (10 steps in chunks of 3: 1 + 3 + 3 + 3) change nothing."""
    shape = LAYOUTS["dense"]
    step_bytes = shape[0] * shape[1] * 8
    monkeypatch.setattr(scan_adaptive, "CPU_CHUNK_BYTES", steps_per_chunk * step_bytes)
    assert scan_adaptive._chunk_len(torch.empty(10, *shape, dtype=F64)) == steps_per_chunk
    for kind in ("scalar", "tensor"):
        p = _params(model, kind, shape)
        x, state0 = _inputs(model, shape)
        leaves = [x.requires_grad_(), *(t.requires_grad_() for t in state0)]
        leaves += [t for t in p.values() if isinstance(t, Tensor)]
        kw = {**p, "reset": reset, "detach_reset": detach_reset}
        ref, ref_state = _step_loop(model, x, MODELS[model].state(*state0), **kw)
        spikes, state = MODELS[model].scan(x, MODELS[model].state(*state0), **kw)
        assert torch.equal(spikes, ref)
        want = _grads(_loss(ref, ref_state), leaves)
        _assert_grads_close(_grads(_loss(spikes, state), leaves), want)


@pytest.mark.parametrize("parts", ["spikes", "state0", "state1", "state2"])
@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("model", list(MODELS))
def test_gradient_of_one_output_alone(model: str, reset: str, parts: str) -> None:
    """Only some outputs reach the loss: the backward sees ``None`` for the others."""
    shape = LAYOUTS["dense"]
    p = _params(model, "tensor", shape)
    x, state0 = _inputs(model, shape)
    leaves = [x.requires_grad_(), *(t.requires_grad_() for t in state0), *p.values()]
    leaves = [t for t in leaves if isinstance(t, Tensor)]
    kw = {**p, "reset": reset}
    ref, ref_state = _step_loop(model, x, MODELS[model].state(*state0), **kw)
    spikes, state = MODELS[model].scan(x, MODELS[model].state(*state0), **kw)
    want = _grads(_loss(ref, ref_state, parts), leaves)
    _assert_grads_close(_grads(_loss(spikes, state, parts), leaves), want)


@pytest.mark.parametrize("model", list(MODELS))
def test_gradient_to_a_parameter_only(model: str) -> None:
    """No gradient wanted for the input or the state, only for the threshold."""
    shape = LAYOUTS["dense"]
    p = _params(model, "scalar", shape)
    p["threshold"] = torch.full(shape[1:], 0.9, dtype=F64, requires_grad=True)
    x, _ = _inputs(model, shape)
    ref, ref_state = _step_loop(model, x, MODELS[model].state.zeros_like(x[0]), **p)
    spikes, state = MODELS[model].scan(x, **p)
    (want,) = _grads(_loss(ref, ref_state), [p["threshold"]])
    (got,) = _grads(_loss(spikes, state), [p["threshold"]])
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-10)


@pytest.mark.parametrize("model", list(MODELS))
def test_broadcast_initial_state_gets_a_summed_gradient(model: str) -> None:
    """A state broadcastable to ``(N, *F)`` (here ``(1, F)``) receives its reduced gradient."""
    shape = LAYOUTS["dense"]
    p = _params(model, "scalar", shape)
    x, state0 = _inputs(model, shape)
    small = [t[:1].clone().requires_grad_() for t in state0]
    ref, ref_state = _step_loop(model, x, MODELS[model].state(*small), **p)
    want = _grads(_loss(ref, ref_state), small)
    spikes, state = MODELS[model].scan(x, MODELS[model].state(*small), **p)
    assert torch.equal(spikes, ref)
    _assert_grads_close(_grads(_loss(spikes, state), small), want)


@pytest.mark.parametrize("model", list(MODELS))
def test_non_contiguous_input(model: str) -> None:
    shape = LAYOUTS["dense"]
    p = _params(model, "tensor", shape)
    x, _ = _inputs(model, shape)
    xt = x.transpose(1, 2).contiguous().transpose(1, 2).requires_grad_()  # same values, strided
    assert not xt.is_contiguous()
    ref, ref_state = _step_loop(model, xt, MODELS[model].state.zeros_like(xt[0]), **p)
    spikes, state = MODELS[model].scan(xt, **p)
    assert torch.equal(spikes, ref)
    leaves = [xt, *(t for t in p.values() if isinstance(t, Tensor))]
    _assert_grads_close(_grads(_loss(spikes, state), leaves), _grads(_loss(ref, ref_state), leaves))


@pytest.mark.parametrize("model", list(MODELS))
def test_scan_follows_the_device_meta(model: str) -> None:
    """No data-dependent host operations: the scan runs (forward and backward) on ``meta``."""
    x = torch.empty(4, 3, 5, device="meta", requires_grad=True)
    threshold = torch.ones(5, device="meta", requires_grad=True)
    kw: dict[str, Any] = {"decay": 0.9, "threshold": threshold, "reset": "subtract"}
    kw.update({"adapt_decay": 0.9, "adapt_strength": 0.2} if model == "alif" else {})
    kw.update({"syn_decay": 0.7} if model == "synaptic" else {})
    spikes, state = MODELS[model].scan(x, **kw)
    assert spikes.device.type == "meta" and spikes.shape == x.shape
    assert all(t.device.type == "meta" for t in state)
    gx, gt = torch.autograd.grad(spikes.sum() + state.v.sum(), [x, threshold])
    assert gx.shape == x.shape and gt.shape == threshold.shape


# -- the modules --------------------------------------------------------------------------------


def _neurons() -> list[tuple[str, nn.Module]]:
    t = torch.tensor([0.8, 1.0, 1.2, 0.9, 1.1], dtype=F64)
    made: list[tuple[str, nn.Module]] = []
    for reset in RESETS:
        made += [
            (f"ALIF-{reset}", AdaptiveLIF(decay=0.8, adapt_decay=0.9, reset=reset)),
            (
                f"ALIF-{reset}-learn",
                AdaptiveLIF(
                    tau=t * 4,
                    tau_adapt=t * 20,
                    adapt_strength=t * 0.3,
                    reset=reset,
                    learn_tau=True,
                    learn_tau_adapt=True,
                    learn_threshold=True,
                ),
            ),
            (
                f"ALIF-{reset}-scaled-detach",
                AdaptiveLIF(
                    decay=t * 0.8,
                    threshold=t,
                    input_scale=t,
                    adapt_strength=0.5,
                    reset=reset,
                    detach_reset=True,
                ),
            ),
            (f"SynLIF-{reset}", SynapticLIF(decay=0.8, syn_decay=0.6, reset=reset)),
            (
                f"SynLIF-{reset}-learn",
                SynapticLIF(
                    tau=t * 4,
                    tau_syn=t * 2,
                    reset=reset,
                    learn_tau=True,
                    learn_tau_syn=True,
                    learn_threshold=True,
                ),
            ),
            (
                f"SynLIF-{reset}-scaled-detach",
                SynapticLIF(
                    decay=t * 0.8,
                    syn_decay=t * 0.5,
                    threshold=t,
                    input_scale=t,
                    reset=reset,
                    detach_reset=True,
                ),
            ),
        ]
    return made


@pytest.mark.parametrize(("label", "neuron"), _neurons(), ids=[n for n, _ in _neurons()])
def test_module_scan_equals_stepping(label: str, neuron: nn.Module) -> None:
    neuron = neuron.double()
    stepper = copy.deepcopy(neuron)
    g = torch.Generator().manual_seed(3)
    x = 1.2 * torch.rand(12, 3, 5, generator=g, dtype=F64) - 0.2
    if label.startswith("Syn"):
        x = 0.5 * x
    x.requires_grad_()
    ref = torch.stack([stepper(x_t, init=(t == 0)) for t, x_t in enumerate(x.unbind(0))])
    ref_state: Any = stepper.state
    spikes, state = neuron.scan(x)  # type: ignore[operator]
    assert type(state) is type(ref_state)
    assert torch.equal(spikes, ref)
    for a, b in zip(state, ref_state, strict=True):
        assert torch.equal(a, b)
    assert 0 < ref.mean() < 1
    params = list(neuron.parameters())
    assert ("learn" in label) == bool(params)
    want = _grads(_loss(ref, ref_state), [x, *stepper.parameters()])
    _assert_grads_close(_grads(_loss(spikes, state), [x, *params]), want)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("reset", RESETS)
def test_low_precision_spikes_are_bit_identical(reset: str, dtype: torch.dtype) -> None:
    g = torch.Generator().manual_seed(4)
    x = (1.5 * torch.rand(24, 16, 40, generator=g) - 0.3).to(dtype)
    t = torch.linspace(0.7, 1.3, 40)
    neurons = [
        AdaptiveLIF(decay=0.9, adapt_decay=0.95, adapt_strength=0.2, reset=reset),
        AdaptiveLIF(tau=t * 5, threshold=t, adapt_strength=t * 0.1, reset=reset),
        SynapticLIF(decay=0.9, syn_decay=0.7, threshold=1.7, reset=reset),
        SynapticLIF(decay=t * 0.7, syn_decay=t * 0.6, threshold=t * 1.2, reset=reset),
    ]
    for neuron in neurons:
        neuron = neuron.to(dtype)
        stepped = torch.stack([neuron(x_t, init=(k == 0)) for k, x_t in enumerate(x)])
        final = neuron.state
        spikes, state = neuron.scan(x)
        assert spikes.dtype == dtype
        assert torch.equal(spikes, stepped), neuron
        assert all(torch.equal(a, b) for a, b in zip(state, final, strict=True)), neuron
        assert 0 < stepped.float().mean() < 1


@pytest.mark.parametrize("model", ["alif", "synaptic"])
def test_bfloat16_backward_is_close_to_autograd_of_steps(model: str) -> None:
    """Reduced precision: identical spikes; gradients agree to bfloat16 accuracy (the
    roundings of the two backward passes differ; bfloat16 sums over
    thousands of terms are good to a few per cent)."""
    torch.manual_seed(5)
    neuron: nn.Module = (
        AdaptiveLIF(adapt_strength=0.3, reset="subtract", learn_threshold=True)
        if model == "alif"
        else SynapticLIF(learn_tau=True, learn_threshold=True)
    ).bfloat16()
    x = (1.2 * torch.rand(20, 8, 16) - 0.2).bfloat16().requires_grad_()
    w = torch.randn(20, 8, 16).bfloat16()
    spikes, _ = neuron.scan(x)  # type: ignore[operator]
    got = torch.autograd.grad((spikes * w).sum(), [x, *neuron.parameters()])
    ref = torch.stack([neuron(x_t, init=(t == 0)) for t, x_t in enumerate(x)])
    assert torch.equal(spikes, ref)
    want = torch.autograd.grad((ref * w).sum(), [x, *neuron.parameters()])
    for a, b in zip(got, want, strict=True):
        assert a.dtype == torch.bfloat16
        assert (a.float() - b.float()).abs().max() <= 0.1 * b.float().abs().max()


def test_subclasses_overriding_step_get_the_loop() -> None:
    class DoubledALIF(AdaptiveLIF):
        def step(self, x_t: Tensor, state: ALIFState) -> tuple[Tensor, ALIFState]:
            return super().step(2 * x_t, state)

    class DoubledSyn(SynapticLIF):
        def step(self, x_t: Tensor, state: SynapticLIFState) -> tuple[Tensor, SynapticLIFState]:
            return super().step(2 * x_t, state)

    x = torch.rand(6, 2, 3)
    for n in (DoubledALIF(decay=0.5, adapt_strength=0.5), DoubledSyn(decay=0.5, syn_decay=0.5)):
        stepped = torch.stack([n(x_t, init=(t == 0)) for t, x_t in enumerate(x)])
        assert torch.equal(n.scan(x)[0], stepped)
        assert stepped.sum() > 0


def test_module_scan_continues_from_a_state() -> None:
    x = 1.3 * torch.rand(10, 4, 6, dtype=F64)
    neurons: list[Any] = [AdaptiveLIF(adapt_strength=0.4).double(), SynapticLIF().double()]
    for neuron in neurons:
        whole, end = neuron.scan(x)
        first, mid = neuron.scan(x[:4])
        second, end2 = neuron.scan(x[4:], mid)
        assert torch.equal(torch.cat([first, second]), whole)
        assert all(torch.equal(a, b) for a, b in zip(end, end2, strict=True))


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", list(MODELS))
def test_shape_errors_are_clear(model: str) -> None:
    scan = MODELS[model].scan
    kw: dict[str, Any] = {"decay": 0.8}
    kw.update({"adapt_decay": 0.9, "adapt_strength": 0.2} if model == "alif" else {})
    kw.update({"syn_decay": 0.7} if model == "synaptic" else {})
    name = "alif_scan" if model == "alif" else "synaptic_lif_scan"
    with pytest.raises(ValueError, match=rf"{name} expects a time-first input .* got \(0, 2\)"):
        scan(torch.zeros(0, 2), **kw)
    with pytest.raises(ValueError, match="time-first"):
        scan(torch.zeros(5), **kw)
    with pytest.raises(
        ValueError, match=r"threshold of shape \(3,\) does not broadcast .*\(2, 4\)"
    ):
        scan(torch.zeros(5, 2, 4), **{**kw, "threshold": torch.ones(3)})
    with pytest.raises(ValueError, match=r"decay of shape \(2, 2, 4\) does not broadcast"):
        scan(torch.zeros(5, 2, 4), **{**kw, "decay": torch.full((2, 2, 4), 0.5)})
    bad_state = MODELS[model].state.zeros_like(torch.zeros(3, 4))
    with pytest.raises(ValueError, match=r"state\.\w of shape \(3, 4\) does not broadcast"):
        scan(torch.zeros(5, 2, 4), bad_state, **kw)
    with pytest.raises(TypeError, match="floating-point"):
        scan(torch.zeros(5, 2, 4, dtype=torch.int64), **kw)
    with pytest.raises(ValueError, match="reset must be one of"):
        scan(torch.zeros(5, 2, 4), reset="bogus", **kw)


@pytest.mark.parametrize("neuron", [AdaptiveLIF(), SynapticLIF()], ids=["alif", "synaptic"])
def test_module_scan_errors(neuron: nn.Module) -> None:
    with pytest.raises(ValueError, match="time-first"):
        neuron.scan(torch.zeros(0, 2))  # type: ignore[operator]
    with pytest.raises(ValueError, match="does not broadcast"):
        type(neuron)(threshold=torch.ones(3)).scan(torch.zeros(4, 2, 5))  # type: ignore[operator]


# -- the networks in sequence mode ------------------------------------------------------------


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("neuron", ["alif", "synaptic_lif"])
def test_conv_net_sequence_mode_equals_step_mode(neuron: str, reset: str) -> None:
    torch.manual_seed(0)
    params: dict[str, Any] = {"reset": reset, "decay": 0.9}
    params.update({"adapt_strength": 0.3, "learn_tau_adapt": True} if neuron == "alif" else {})
    params.update({"learn_tau_syn": True} if neuron == "synaptic_lif" else {})
    net = convnet((1, 10, 10), 3, channels=(4, 6), neuron=neuron, neuron_params=params).double()
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith(("weight", "bias")):
                p.mul_(6.0)  # enough drive for spikes in every layer
    step = SpikingNet(net, (3,), batch_first=True)
    seq = SpikingNet(copy.deepcopy(net), (3,), batch_first=True, mode="sequence")
    x = (torch.rand(5, 7, 1, 10, 10) < 0.4).double()
    lengths = [7, 3, 5, 7, 1]
    y_step, y_seq = step(x, lengths), seq(x, lengths)
    assert torch.equal(y_step, y_seq) and y_step.sum() > 0
    w = torch.randn(y_step.shape, dtype=F64)
    (y_step * w).sum().backward()
    (y_seq * w).sum().backward()
    for (name, a), b in zip(step.named_parameters(), seq.parameters(), strict=True):
        assert a.grad is not None and b.grad is not None, name
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-5, atol=1e-10)
    assert step.check_sequence_mode(x, lengths)


@pytest.mark.parametrize("batch_first", [True, False])
def test_sequential_net_sequence_mode_equals_step_mode(batch_first: bool) -> None:
    """Both neurons in one stack (with per-neuron and learned parameters), both layouts."""
    torch.manual_seed(1)
    tau = torch.linspace(3.0, 12.0, 16)
    net = nn.Sequential(
        nn.Linear(8, 16),
        AdaptiveLIF(tau=tau, adapt_strength=0.4, reset="subtract", learn_tau=True),
        nn.Linear(16, 12),
        SynapticLIF(tau_syn=3.0, learn_tau_syn=True, learn_threshold=True),
        nn.Linear(12, 4),
        AdaptiveLIF(tau_adapt=20.0, learn_tau_adapt=True, detach_reset=True),
    ).double()
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith(("weight", "bias")):
                p.mul_(2.5)
    step = SpikingNet(net, (4,), batch_first=batch_first)
    seq = SpikingNet(copy.deepcopy(net), (4,), batch_first=batch_first, mode="sequence")
    x = 2.0 * torch.rand(6, 9, 8, dtype=F64)
    y_step, y_seq = step(x), seq(x)
    assert torch.equal(y_step, y_seq) and y_step.sum() > 0
    y_step.sum().backward()
    y_seq.sum().backward()
    for (name, a), b in zip(step.named_parameters(), seq.parameters(), strict=True):
        assert a.grad is not None and b.grad is not None, name
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-5, atol=1e-10)
