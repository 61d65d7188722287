"""Fused IF/LIF scans: bit-identical forward, hand-written backward equal to autograd of steps."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest
import torch
from torch import Tensor, nn

from spikingtorch import SpikingNet
from spikingtorch.networks import convnet
from spikingtorch_neurons import IF, LIF
from spikingtorch_neurons._compat import LIF as CompatLIF
from spikingtorch_neurons.functional import IFState, LIFState, if_step, lif_step
from spikingtorch_neurons.functional.scan import if_scan, lif_scan

RESETS = ("zero", "subtract", "none")
SHAPES = {"dense": (3, 5), "conv": (2, 3, 4, 4)}


def _params(kind: str, shape: tuple[int, ...], learn: bool) -> dict[str, Any]:
    """Hyper-parameters: scalars, or per-neuron tensors (per channel for conv maps)."""
    if kind == "scalar":
        return {"threshold": 0.9, "decay": 0.8, "input_scale": None}
    pshape = shape[1:] if len(shape) == 2 else (shape[1], 1, 1)
    g = torch.Generator().manual_seed(1)
    p = {
        "threshold": 0.6 + torch.rand(pshape, generator=g, dtype=torch.float64),
        "decay": 0.5 + 0.4 * torch.rand(pshape, generator=g, dtype=torch.float64),
        "input_scale": 0.5 + torch.rand(pshape, generator=g, dtype=torch.float64),
    }
    return {k: v.requires_grad_(learn) for k, v in p.items()}


def _loss(spikes: Tensor, v_last: Tensor, s_last: Tensor) -> Tensor:
    g = torch.Generator().manual_seed(2)
    w = torch.randn(spikes.shape, generator=g, dtype=spikes.dtype)
    return (spikes * w).sum() + 1.3 * v_last.sum() - 0.7 * s_last.sum()


def _inputs(shape: tuple[int, ...], n_steps: int = 9) -> tuple[Tensor, Tensor, Tensor]:
    g = torch.Generator().manual_seed(0)
    x = 1.4 * torch.rand((n_steps, *shape), generator=g, dtype=torch.float64) - 0.2
    v0 = torch.rand(shape, generator=g, dtype=torch.float64)
    s0 = (torch.rand(shape, generator=g, dtype=torch.float64) > 0.5).double()
    return x, v0, s0


@pytest.mark.parametrize(
    ("family", "reset", "detach_reset", "kind", "layout", "surrogate"),
    [
        (f, r, d, k, layout, sg)
        for f, r, d, k, layout, sg in itertools.product(
            ("if", "lif"), RESETS, (False, True), ("scalar", "tensor"), SHAPES, ("sigmoid",)
        )
    ]
    + [("lif", "subtract", False, "tensor", "dense", sg) for sg in ("atan", "triangle", "ste")],
)
def test_hand_written_backward_equals_autograd_of_steps(
    family: str, reset: str, detach_reset: bool, kind: str, layout: str, surrogate: str
) -> None:
    shape = SHAPES[layout]
    p = _params(kind, shape, learn=True)
    x, v0, s0 = (t.requires_grad_() for t in _inputs(shape))
    common = {"reset": reset, "surrogate": surrogate, "detach_reset": detach_reset}

    # reference: autograd through the step functions
    out = []
    if family == "if":
        state: Any = IFState(v0, s0)
        for x_t in x.unbind(0):
            s, state = if_step(x_t, state, threshold=p["threshold"], **common)
            out.append(s)
        leaves = [x, v0, s0, *(t for t in [p["threshold"]] if isinstance(t, Tensor))]
    else:
        state = LIFState(v0, s0)
        for x_t in x.unbind(0):
            s, state = lif_step(x_t, state, **p, **common)
            out.append(s)
        leaves = [x, v0, s0, *(t for t in p.values() if isinstance(t, Tensor))]
    ref = torch.stack(out)
    ref_grads = torch.autograd.grad(
        _loss(ref, state.v, state.s), leaves, allow_unused=True, materialize_grads=True
    )

    if family == "if":
        spikes, fused = if_scan(x, IFState(v0, s0), threshold=p["threshold"], **common)
    else:
        spikes, fused = lif_scan(x, LIFState(v0, s0), **p, **common)
    assert torch.equal(spikes, ref)  # bit-identical forward
    assert torch.equal(fused.v, state.v) and torch.equal(fused.s, state.s)
    assert ref.sum() > 0 and ref.sum() < ref.numel()  # the test exercises spikes and silence
    grads = torch.autograd.grad(
        _loss(spikes, fused.v, fused.s), leaves, allow_unused=True, materialize_grads=True
    )
    for leaf_ref, leaf in zip(ref_grads, grads, strict=True):
        assert leaf is not None
        torch.testing.assert_close(leaf, leaf_ref, rtol=1e-5, atol=1e-10)


def test_only_the_last_state_used() -> None:
    x = (1.3 * torch.rand(6, 4, dtype=torch.float64)).requires_grad_()
    _, state = lif_scan(x, decay=0.7, reset="subtract")
    (g,) = torch.autograd.grad(state.v.sum(), x)
    x2 = x.detach().requires_grad_()
    st = LIFState.zeros_like(x2[0])
    for x_t in x2.unbind(0):
        _, st = lif_step(x_t, st, decay=0.7, reset="subtract")
    (g2,) = torch.autograd.grad(st.v.sum(), x2)
    torch.testing.assert_close(g, g2)


def _neurons() -> list[tuple[str, nn.Module]]:
    t = torch.tensor([0.8, 1.0, 1.2, 0.9, 1.1], dtype=torch.float64)
    made: list[tuple[str, nn.Module]] = []
    for reset in RESETS:
        made += [
            (f"IF-{reset}", IF(reset=reset)),
            (f"IF-{reset}-learn", IF(threshold=t, reset=reset, learn_threshold=True)),
            (f"LIF-{reset}", LIF(decay=0.8, reset=reset)),
            (
                f"LIF-{reset}-learn",
                LIF(tau=t * 4, reset=reset, learn_tau=True, learn_threshold=True),
            ),
            (f"LIF-{reset}-scaled", LIF(decay=t * 0.8, input_scale=t, reset=reset)),
        ]
    return made


@pytest.mark.parametrize(("label", "neuron"), _neurons(), ids=[n for n, _ in _neurons()])
def test_module_scan_equals_stepping(label: str, neuron: nn.Module) -> None:
    neuron = neuron.double()
    stepper = copy.deepcopy(neuron)
    x = (1.4 * torch.rand(8, 3, 5, dtype=torch.float64)).requires_grad_()
    out = [stepper(x_t, init=(t == 0)) for t, x_t in enumerate(x.unbind(0))]
    ref = torch.stack(out)
    loss = _loss(ref, stepper.state.v, stepper.state.s)
    ref_grads = torch.autograd.grad(loss, [x, *stepper.parameters()])
    spikes, state = neuron.scan(x)  # type: ignore[operator]
    assert torch.equal(spikes, ref)
    grads = torch.autograd.grad(_loss(spikes, state.v, state.s), [x, *neuron.parameters()])
    for a, b in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-10)


@pytest.mark.parametrize(("label", "neuron"), _neurons(), ids=[n for n, _ in _neurons()])
def test_merged_layout_scan_equals_scan(label: str, neuron: nn.Module) -> None:
    """``scan_merged`` (sequence mode's ``(T*N, *F)``) gives what ``scan`` gives, with and
    without autograd, from rest and from a given state."""
    neuron = neuron.double()
    x = (1.4 * torch.rand(8, 3, 5, dtype=torch.float64)).requires_grad_()
    for start in (None, "given"):
        state = None
        if start is not None:
            with torch.no_grad():
                _, state = neuron.scan(x[:3])  # type: ignore[operator]
        spikes, last = neuron.scan(x, state)  # type: ignore[operator]
        merged, m_last = neuron.scan_merged(x.flatten(0, 1), 8, state)  # type: ignore[operator]
        assert merged.shape == (24, 5) and torch.equal(merged.view(8, 3, 5), spikes)
        assert torch.equal(m_last.v, last.v) and torch.equal(m_last.s, last.s)
        assert m_last.s._base is None
        leaves = [x, *neuron.parameters()]
        want = torch.autograd.grad(_loss(spikes, last.v, last.s), leaves)
        got = torch.autograd.grad(_loss(merged.view(8, 3, 5), m_last.v, m_last.s), leaves)
        for a, b in zip(got, want, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
        with torch.no_grad():
            quiet, q_last = neuron.scan_merged(x.flatten(0, 1), 8, state)  # type: ignore[operator]
        assert torch.equal(quiet, merged) and torch.equal(q_last.v, last.v)


def test_float32_spikes_are_bit_identical() -> None:
    x = 1.5 * torch.rand(16, 32, 20)
    for neuron in (IF(reset="subtract"), LIF(decay=0.9), CompatLIF(tau=3.0)):
        stepped = torch.stack([neuron(x_t, init=(t == 0)) for t, x_t in enumerate(x)])
        v = neuron.state.v
        spikes, state = neuron.scan(x)
        assert torch.equal(spikes, stepped) and torch.equal(state.v, v)


def test_subclass_overriding_step_gets_the_loop() -> None:
    class Doubler(LIF):
        def step(self, x_t: Tensor, state: LIFState) -> tuple[Tensor, LIFState]:
            return super().step(2 * x_t, state)

    x = torch.rand(5, 2, 3)
    n = Doubler(decay=0.5)
    stepped = torch.stack([n(x_t, init=(t == 0)) for t, x_t in enumerate(x)])
    assert torch.equal(n.scan(x)[0], stepped)


def test_scan_validates_its_input() -> None:
    with pytest.raises(ValueError, match="time-first"):
        lif_scan(torch.zeros(0, 2), decay=0.5)
    with pytest.raises(ValueError, match="time-first"):
        LIF().scan(torch.zeros(0, 2))
    with pytest.raises(ValueError, match="reset must be one of"):
        if_scan(torch.zeros(3, 2), reset="bogus")


def test_scan_follows_the_device_meta() -> None:
    x = torch.empty(4, 3, 5, device="meta", requires_grad=True)
    threshold = torch.ones(5, device="meta", requires_grad=True)
    spikes, state = lif_scan(x, decay=0.9, threshold=threshold, reset="subtract")
    assert spikes.device.type == "meta" and spikes.shape == x.shape
    assert state.v.device.type == "meta"
    gx, gt = torch.autograd.grad(spikes.sum() + state.v.sum(), [x, threshold])
    assert gx.device.type == "meta" and gx.shape == x.shape and gt.shape == threshold.shape


# -- the networks in sequence mode ------------------------------------------------------------


@pytest.mark.parametrize(("batch_first", "time_chunk"), [(True, None), (False, None), (True, 3)])
@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("neuron", ["if", "lif"])
def test_conv_net_sequence_mode_equals_step_mode(
    neuron: str, reset: str, batch_first: bool, time_chunk: int | None
) -> None:
    torch.manual_seed(0)
    params: dict[str, Any] = {"reset": reset}
    if neuron == "lif":
        params["decay"] = 0.9
    net = convnet((1, 12, 12), 3, channels=(4, 6), neuron=neuron, neuron_params=params).double()
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(3.0)  # enough drive for spikes in every layer
    step = SpikingNet(net, (3,), batch_first=batch_first)
    seq = SpikingNet(
        copy.deepcopy(net), (3,), batch_first=batch_first, mode="sequence", time_chunk=time_chunk
    )  # time_chunk=3: the later chunks resume from (and back-propagate into) the kept state
    x = (torch.rand(6, 7, 1, 12, 12) < 0.4).double()
    if not batch_first:
        x = x.transpose(0, 1)
    lengths = [7, 3, 5, 7, 1, 6]
    y_step, y_seq = step(x, lengths), seq(x, lengths)
    assert torch.equal(y_step, y_seq) and y_step.sum() > 0
    for name, m in net.named_modules():  # every neuron ends in the state of the last step
        if hasattr(m, "state") and m.state is not None:
            other = dict(seq.net.named_modules())[name]  # type: ignore[union-attr]
            assert torch.equal(m.state.v, other.state.v)
    w = torch.randn(y_step.shape, dtype=torch.float64)
    (y_step * w).sum().backward()
    (y_seq * w).sum().backward()
    for (name, a), b in zip(step.named_parameters(), seq.parameters(), strict=True):
        assert a.grad is not None and b.grad is not None, name
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-5, atol=1e-10)
    assert step.check_sequence_mode(x, lengths)


@pytest.mark.parametrize("chunk_steps", [1, 2, 4, 9])
@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("detach_reset", [False, True])
def test_chunked_backward_equals_autograd_for_any_chunk_length(
    monkeypatch: pytest.MonkeyPatch, chunk_steps: int, reset: str, detach_reset: bool
) -> None:
    from spikingtorch_neurons.functional import scan as scan_module

    shape = SHAPES["dense"]
    x, v0, s0 = (t.requires_grad_() for t in _inputs(shape))  # T = 9
    step_bytes = x[0].numel() * x.element_size()
    monkeypatch.setattr(scan_module, "CPU_CHUNK_BYTES", chunk_steps * step_bytes)
    kw: dict[str, Any] = {"decay": 0.8, "threshold": 0.9, "reset": reset}
    kw |= {"detach_reset": detach_reset, "surrogate": "sigmoid"}
    state = LIFState(v0, s0)
    out = []
    for x_t in x.unbind(0):
        s, state = lif_step(x_t, state, **kw)
        out.append(s)
    ref = torch.stack(out)
    expected = torch.autograd.grad(_loss(ref, state.v, state.s), [x, v0, s0], allow_unused=True)
    spikes, fused = lif_scan(x, LIFState(v0, s0), **kw)
    got = torch.autograd.grad(_loss(spikes, fused.v, fused.s), [x, v0, s0], allow_unused=True)
    for a, b in zip(got, expected, strict=True):
        if b is None:
            assert a is None or torch.count_nonzero(a) == 0
        else:
            assert a is not None
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-10)
