"""The original package's models: McPitts, CoarseLIF, BioLIF, SpikingDecay.

Trajectories are checked against independent numpy loops, gradients against reference loops in
plain torch with a sigmoid surrogate written here (neither calls the package).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
import torch
from torch import Tensor, nn

import spikingtorch
import spikingtorch_neurons
from spikingtorch.neuron import Neuron
from spikingtorch.surrogate import ATan, Sigmoid
from spikingtorch_neurons import BioLIF, CoarseLIF, McPitts, SpikingDecay
from spikingtorch_neurons.functional import (
    BioLIFState,
    CoarseLIFState,
    McPittsState,
    SpikingDecayState,
    coarse_lif_coefficients,
)

RESETS = ["zero", "subtract", "none"]
F64 = torch.float64

# -- independent references ----------------------------------------------------------------


def np_reset(v: np.ndarray, s: np.ndarray, theta: Any, reset: str) -> np.ndarray:
    if reset == "zero":
        return np.where(s > 0, 0.0, v)
    if reset == "subtract":
        return np.where(s > 0, v - theta, v)
    assert reset == "none"
    return v


def np_mcpitts(x: np.ndarray, theta: Any) -> tuple[np.ndarray, np.ndarray]:
    return x.copy(), np.where(x > theta, 1.0, 0.0)


def np_coarse(x: np.ndarray, tau: Any, theta: Any) -> tuple[np.ndarray, np.ndarray]:
    """The original's update: v = (1 - s)(a v + b x) + s c x, with H(0) = 0."""
    a = np.exp(-1.0 / np.asarray(tau, dtype=np.float64))
    b = tau * (1 - a)
    c = tau * (1 - b)
    v, s = np.zeros(x.shape[1:]), np.zeros(x.shape[1:])
    vs, ss = [], []
    for xt in x:
        v = (1 - s) * (a * v + b * xt) + s * c * xt
        s = np.where(v > theta, 1.0, 0.0)
        vs.append(v)
        ss.append(s)
    return np.stack(vs), np.stack(ss)


def np_biolif(
    ge: np.ndarray, gi: np.ndarray, tau: Any, theta: Any, reset: str
) -> tuple[np.ndarray, np.ndarray]:
    """Exact relaxation towards ge / nu at the rate nu / tau, nu = 1 + ge + gi."""
    v, s = np.zeros(ge.shape[1:]), np.zeros(ge.shape[1:])
    vs, ss = [], []
    for e, i in zip(ge, gi, strict=True):
        nu = 1 + e + i
        a = np.exp(-nu / tau)
        v = a * np_reset(v, s, theta, reset) + (1 - a) * e / nu
        s = np.where(v > theta, 1.0, 0.0)
        vs.append(v)
        ss.append(s)
    return np.stack(vs), np.stack(ss)


def np_decay(x: np.ndarray, tau: Any, theta: Any, reset: str) -> tuple[np.ndarray, np.ndarray]:
    """v = (1/tau) r(v, s) + x; returns this step's spikes."""
    v, s = np.zeros(x.shape[1:]), np.zeros(x.shape[1:])
    vs, ss = [], []
    for xt in x:
        v = np_reset(v, s, theta, reset) / tau + xt
        s = np.where(v > theta, 1.0, 0.0)
        vs.append(v)
        ss.append(s)
    return np.stack(vs), np.stack(ss)


def run(neuron: nn.Module, xs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Step through ``xs`` (tensors or (x_exc, x_inh) pairs); return membranes and spikes."""
    vs, ss = [], []
    for t, x in enumerate(xs):
        s = neuron(*x, init=(t == 0)) if isinstance(x, tuple) else neuron(x, init=(t == 0))
        vs.append(neuron.state.v.detach().numpy())
        ss.append(s.detach().numpy())
    return np.stack(vs), np.stack(ss)


def uniform(shape: tuple[int, ...], low: float, high: float, seed: int = 0) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    return low + (high - low) * torch.rand(*shape, generator=gen, dtype=F64)


def check(v: np.ndarray, s: np.ndarray, v_ref: np.ndarray, s_ref: np.ndarray) -> None:
    np.testing.assert_allclose(v, v_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(s, s_ref)
    assert 0.02 < s_ref.mean() < 0.98, "the test input should spike sometimes, not always"


T = 24
THETA = torch.tensor([0.3, 0.6, 0.9, 1.2, 1.5], dtype=F64)  # per-neuron thresholds


# -- (a) trajectories ---------------------------------------------------------------------------


def test_mcpitts_matches_reference() -> None:
    x = uniform((T, 3, 5), -0.5, 2.0)
    v, s = run(McPitts(threshold=THETA), x.unbind(0))
    check(v, s, *np_mcpitts(x.numpy(), THETA.numpy()))
    # exactly at the threshold: no spike (the original gave 0.5)
    assert McPitts(0.5)(torch.tensor([[0.5]])).item() == 0.0


@pytest.mark.parametrize(
    "tau",
    [
        3.0,
        torch.tensor([1.0, 2.0, 4.0, 8.0, 40.0], dtype=F64),  # 40: c by its Taylor series
        30.0,
    ],
)
def test_coarse_lif_matches_reference(tau: float | Tensor) -> None:
    x = uniform((T, 3, 5), -0.2, 0.9, seed=1)
    v, s = run(CoarseLIF(tau, threshold=THETA), x.unbind(0))
    t = tau.numpy() if isinstance(tau, Tensor) else tau
    check(v, s, *np_coarse(x.numpy(), t, THETA.numpy()))


def test_coarse_lif_by_hand() -> None:
    # tau = 1 / log(2): a = 1/2, b = tau / 2, c = tau (1 - b)
    tau = 1 / math.log(2)
    a, b, c = 0.5, tau / 2, tau * (1 - tau / 2)
    neuron = CoarseLIF(decay=0.5, threshold=1.0)
    assert neuron.coefficients == pytest.approx((a, b, c), rel=1e-14)
    x = torch.full((1, 1), 1.2, dtype=F64)
    v1 = b * 1.2
    v2 = a * v1 + b * 1.2  # > 1: spike
    v3 = c * 1.2  # restarted inside the step
    v, s = run(neuron, [x, x, x])
    np.testing.assert_allclose(v.ravel(), [v1, v2, v3], rtol=1e-14)
    assert s.ravel().tolist() == [0.0, 1.0, 0.0]


@pytest.mark.parametrize("u", [1e-6, 1e-3, 0.049, 0.051, 0.5, 3.0])
def test_coarse_lif_coefficients_are_accurate(u: float) -> None:
    # c = (u + expm1(-u)) / u^2 evaluated in high precision by its alternating series
    series = sum((-u) ** k / math.factorial(k + 2) for k in range(30))
    b_exact = -math.expm1(-u) / u
    b, c = coarse_lif_coefficients(math.exp(-u))
    assert b == pytest.approx(b_exact, rel=1e-12)
    assert c == pytest.approx(series, rel=1e-12)
    bt, ct = coarse_lif_coefficients(torch.tensor(math.exp(-u), dtype=F64))
    assert float(bt) == pytest.approx(b_exact, rel=1e-12)
    assert float(ct) == pytest.approx(series, rel=1e-12)
    _, c32 = coarse_lif_coefficients(torch.tensor(math.exp(-u), dtype=torch.float32))
    assert float(c32) == pytest.approx(series, rel=2e-3)  # no catastrophic cancellation


@pytest.mark.parametrize("reset", RESETS)
def test_biolif_two_inputs_match_reference(reset: str) -> None:
    ge = uniform((T, 3, 5), 0.0, 3.0, seed=2)
    gi = uniform((T, 3, 5), 0.0, 1.0, seed=3)
    tau = torch.tensor([1.0, 2.0, 4.0, 8.0, 16.0], dtype=F64)
    theta = torch.tensor([0.2, 0.3, 0.4, 0.5, 0.6], dtype=F64)
    neuron = BioLIF(tau, threshold=theta, reset=reset)
    v, s = run(neuron, list(zip(ge.unbind(0), gi.unbind(0), strict=True)))
    check(v, s, *np_biolif(ge.numpy(), gi.numpy(), tau.numpy(), theta.numpy(), reset))


@pytest.mark.parametrize("reset", RESETS)
def test_biolif_signed_input_matches_reference(reset: str) -> None:
    x = uniform((T, 3, 5), -1.0, 3.0, seed=4)
    neuron = BioLIF(3.0, threshold=0.45, reset=reset)
    v, s = run(neuron, x.unbind(0))
    xn = x.numpy()
    check(v, s, *np_biolif(np.maximum(xn, 0), np.maximum(-xn, 0), 3.0, 0.45, reset))


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("tau", [1.0, 2.5, torch.tensor([1.0, 1.5, 2.0, 4.0, 10.0], dtype=F64)])
def test_spiking_decay_matches_reference(reset: str, tau: float | Tensor) -> None:
    x = uniform((T, 3, 5), -0.3, 1.0, seed=5)
    v, s = run(SpikingDecay(tau, threshold=THETA, reset=reset), x.unbind(0))
    t = tau.numpy() if isinstance(tau, Tensor) else tau
    check(v, s, *np_decay(x.numpy(), t, THETA.numpy(), reset))


def test_spiking_decay_returns_the_current_spikes() -> None:
    # v = .75, .375 + .75 = 1.125 (spike now, not one step later), 0 + .75
    x = torch.full((3, 1, 1), 0.75)
    _, s = run(SpikingDecay(2.0), x.unbind(0))
    assert s.ravel().tolist() == [0.0, 1.0, 0.0]


# -- (b) BPTT gradients against reference loops ------------------------------------------------


class RefSpike(torch.autograd.Function):
    """Heaviside forward, k sigma(kx)(1 - sigma(kx)) backward."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, k: float) -> Tensor:
        ctx.save_for_backward(x)
        ctx.k = k
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        sig = torch.sigmoid(ctx.k * x)
        return grad * ctx.k * sig * (1 - sig), None


K = 3.0  # surrogate slope


def spike(x: Tensor) -> Tensor:
    return RefSpike.apply(x, K)  # type: ignore[no-any-return]


def t_reset(v: Tensor, s: Tensor, theta: Any, reset: str) -> Tensor:
    return {"zero": (1 - s) * v, "subtract": v - theta * s, "none": v}[reset]


RefStep = Callable[[Any, tuple[Tensor, Tensor], Neuron], tuple[Tensor, tuple[Tensor, Tensor]]]


def _decay(n: Any) -> Any:
    """The module's decay as a plain expression of its parameter (or its fixed value)."""
    return torch.sigmoid(n.decay_logit) if n.learn_tau else n._decay


def ref_mcpitts(x: Any, state: tuple[Tensor, Tensor], n: Any) -> Any:
    s = spike(x - n.threshold)
    return s, (x, s)


def ref_coarse(x: Any, state: tuple[Tensor, Tensor], n: Any) -> Any:
    v, s = state
    a = _decay(n)
    tau = -1 / torch.log(a) if isinstance(a, Tensor) else -1 / math.log(a)
    b = tau * (1 - a)
    c = tau * (1 - b)
    v = (1 - s) * (a * v + b * x) + s * c * x
    s = spike(v - n.threshold)
    return s, (v, s)


def ref_biolif(x: Any, state: tuple[Tensor, Tensor], n: Any) -> Any:
    v, s = state
    ge, gi = x if isinstance(x, tuple) else (torch.relu(x), torch.relu(-x))
    a0 = _decay(n)
    tau = -1 / torch.log(a0) if isinstance(a0, Tensor) else -1 / math.log(a0)
    nu = 1 + ge + gi
    a = torch.exp(-nu / tau)
    if n.detach_decay:
        a = a.detach()
    v = a * t_reset(v, s, n.threshold, n.reset) + (1 - a) * ge / nu
    s = spike(v - n.threshold)
    return s, (v, s)


def ref_decay(x: Any, state: tuple[Tensor, Tensor], n: Any) -> Any:
    v, s = state
    v = _decay(n) * t_reset(v, s, n.threshold, n.reset) + x
    s = spike(v - n.threshold)
    return s, (v, s)


class TwoLayer(nn.Module):
    """x -> linear -> neuron -> linear -> neuron; two linears per layer for two-input BioLIF."""

    def __init__(self, make: Callable[[], Neuron], two_inputs: bool = False) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.two = two_inputs
        self.fc = nn.ModuleList([nn.Linear(4, 6), nn.Linear(6, 3)])
        self.inh = nn.ModuleList([nn.Linear(4, 6), nn.Linear(6, 3)]) if two_inputs else None
        for layer in [*self.fc, *(self.inh or [])]:
            nn.init.uniform_(layer.weight, -0.1, 0.7)
            nn.init.constant_(layer.bias, 0.05)
        self.n = nn.ModuleList([make(), make()])
        self.double()

    def drives(self, i: int, h: Tensor) -> Any:
        if not self.two:
            return self.fc[i](h)
        assert self.inh is not None  # conductances: non-negative weights
        lin = nn.functional.linear
        return (
            lin(h, self.fc[i].weight.abs(), self.fc[i].bias.abs()),
            lin(h, self.inh[i].weight.abs(), self.inh[i].bias.abs()),
        )

    def forward_module(self, x: Tensor) -> Tensor:
        out = []
        for t, x_t in enumerate(x):
            h = x_t
            for i in range(2):
                d = self.drives(i, h)
                h = self.n[i](*d, init=t == 0) if self.two else self.n[i](d, init=t == 0)
            out.append(h)
        return torch.stack(out)

    def forward_reference(self, x: Tensor, ref: RefStep) -> Tensor:
        states = [(torch.zeros(x.shape[1], m, dtype=F64),) * 2 for m in (6, 3)]
        out = []
        for x_t in x:
            h = x_t
            for i in range(2):
                h, states[i] = ref(self.drives(i, h), states[i], self.n[i])
            out.append(h)
        return torch.stack(out)


def compare_bptt(
    make: Callable[[], Neuron], ref: RefStep, *, two_inputs: bool = False, scale: float = 1.5
) -> None:
    net = TwoLayer(make, two_inputs)
    x = (torch.rand(10, 2, 4, dtype=F64) * scale).requires_grad_()
    weights = torch.rand(10, 2, 3, dtype=F64) - 0.3
    leaves = [x, *net.parameters()]
    out = net.forward_module(x)
    grads = torch.autograd.grad((out * weights).sum(), leaves)
    out_ref = net.forward_reference(x, ref)
    grads_ref = torch.autograd.grad((out_ref * weights).sum(), leaves)
    torch.testing.assert_close(out, out_ref, rtol=0, atol=0)
    assert 0 < out.mean() < 1, "the output layer should spike sometimes"
    names = ["x", *(n for n, _ in net.named_parameters())]
    for name, g, g_ref in zip(names, grads, grads_ref, strict=True):
        torch.testing.assert_close(g, g_ref, rtol=1e-6, atol=1e-12, msg=name)
        if not name.endswith("bias"):
            assert g.abs().sum() > 0, name


SIG = Sigmoid(slope=K)


def test_mcpitts_bptt() -> None:
    compare_bptt(lambda: McPitts(0.5, SIG, learn_threshold=True), ref_mcpitts)


@pytest.mark.parametrize("learn", [False, True])
def test_coarse_lif_bptt(learn: bool) -> None:
    compare_bptt(
        lambda: CoarseLIF(
            3.0, threshold=0.8, surrogate=SIG, learn_tau=learn, learn_threshold=learn
        ),
        ref_coarse,
    )


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("two_inputs", [True, False])
@pytest.mark.parametrize(("learn", "detach_decay"), [(False, True), (True, False)])
def test_biolif_bptt(reset: str, two_inputs: bool, learn: bool, detach_decay: bool) -> None:
    compare_bptt(
        lambda: BioLIF(
            2.0,
            threshold=0.3,
            reset=reset,
            surrogate=SIG,
            learn_tau=learn,
            learn_threshold=learn,
            detach_decay=detach_decay,
        ),
        ref_biolif,
        two_inputs=two_inputs,
        scale=3.0 if two_inputs else 1.0,
    )


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("learn", [False, True])
def test_spiking_decay_bptt(reset: str, learn: bool) -> None:
    compare_bptt(
        lambda: SpikingDecay(
            2.0,
            threshold=2.5 if reset == "none" else 0.9,  # without reset v -> x / (1 - a)
            reset=reset,
            surrogate=SIG,
            learn_tau=learn,
            learn_threshold=learn,
        ),
        ref_decay,
    )


def test_biolif_detach_decay_changes_only_the_gradient() -> None:
    ge = uniform((6, 2, 3), 0.0, 3.0, seed=6).requires_grad_()
    outs, grads = [], []
    for detach in (False, True):
        neuron = BioLIF(2.0, threshold=0.3, detach_decay=detach)
        s = torch.stack([neuron(g, torch.zeros_like(g), init=t == 0) for t, g in enumerate(ge)])
        outs.append(s)
        grads.append(torch.autograd.grad(s.sum(), ge)[0])
    torch.testing.assert_close(outs[0], outs[1])
    assert not torch.allclose(grads[0], grads[1])


# -- (c) learning ----------------------------------------------------------------------------

LEARNABLE: dict[str, Callable[..., Neuron]] = {
    "coarse_lif": lambda **kw: CoarseLIF(torch.tensor([2.0, 4.0, 8.0]), threshold=0.7, **kw),
    "biolif": lambda **kw: BioLIF(torch.tensor([2.0, 4.0, 8.0]), threshold=0.3, **kw),
    "spiking_decay": lambda **kw: SpikingDecay(torch.tensor([1.5, 2.0, 4.0]), **kw),
}


def _sequence(neuron: Neuron, x: Tensor) -> Tensor:
    return torch.stack([neuron(x_t, init=(t == 0)) for t, x_t in enumerate(x)])


@pytest.mark.parametrize("name", sorted(LEARNABLE))
def test_learned_tau_and_threshold_train(name: str) -> None:
    neuron = LEARNABLE[name](learn_tau=True, learn_threshold=True)
    assert sorted(n for n, _ in neuron.named_parameters()) == ["decay_logit", "threshold"]
    before = {n: p.detach().clone() for n, p in neuron.named_parameters()}
    optimizer = torch.optim.SGD(neuron.parameters(), lr=0.1)
    x = uniform((8, 4, 3), 0.0, 2.0, seed=7).float()
    _sequence(neuron, x).mean().backward()
    for n, p in neuron.named_parameters():
        assert p.grad is not None and (p.grad != 0).all(), n
    optimizer.step()
    for n, p in neuron.named_parameters():
        assert not torch.equal(p, before[n]), n


@pytest.mark.parametrize("name", sorted(LEARNABLE))
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_learned_decay_stays_in_open_interval(name: str, sign: float) -> None:
    neuron = LEARNABLE[name](learn_tau=True)
    optimizer = torch.optim.SGD(neuron.parameters(), lr=1e4)
    x = uniform((5, 2, 3), 0.0, 2.0, seed=8).float()
    for _ in range(100):
        optimizer.zero_grad()
        (sign * _sequence(neuron, x).sum() + sign * 1e3 * neuron.decay.sum()).backward()  # type: ignore[union-attr]
        optimizer.step()
        a = neuron.decay
        assert isinstance(a, Tensor) and bool(((a > 0) & (a < 1)).all())
    s = _sequence(neuron, x)
    assert torch.isfinite(neuron.state.v).all() and set(s.unique().tolist()) <= {0.0, 1.0}


def test_mcpitts_learns_threshold() -> None:
    unit = McPitts(torch.tensor([0.5, 1.0]), learn_threshold=True)
    unit(torch.tensor([[0.4, 1.2]])).sum().backward()
    assert isinstance(unit.threshold, nn.Parameter)
    assert unit.threshold.grad is not None and (unit.threshold.grad < 0).all()


# -- protocol, dtype, repr, state_dict -----------------------------------------------------------


def test_mcpitts_protocol_is_harmless() -> None:
    unit = McPitts(0.5)
    x = torch.tensor([[0.2, 0.7]], requires_grad=True)
    assert unit(x).tolist() == [[0.0, 1.0]]  # no init flag needed
    assert isinstance(unit.state, McPittsState) and unit.state.v is x
    unit.detach_state()
    assert unit.state.v.grad_fn is None and not unit.state.v.requires_grad
    assert unit(x, init=True).tolist() == [[0.0, 1.0]]
    unit.reset_state()
    assert unit.state is None
    spikes, state = unit.scan(torch.stack([x.detach(), -x.detach()]))
    assert spikes.tolist() == [[[0.0, 1.0]], [[0.0, 0.0]]] and isinstance(state, McPittsState)
    with torch.no_grad():
        assert unit.step(x, None)[0].tolist() == [[0.0, 1.0]]


def test_biolif_call_forms() -> None:
    ge = uniform((5, 2, 3), 0.0, 3.0, seed=9)
    gi = uniform((5, 2, 3), 0.0, 1.0, seed=10)
    pairs = list(zip(ge.unbind(0), gi.unbind(0), strict=True))
    ref = run(BioLIF(), pairs)[1]
    a, b, c = BioLIF(), BioLIF(), BioLIF()
    got_a = [a(e, i, t == 0) for t, (e, i) in enumerate(pairs)]  # original: (xe, xi, init)
    got_b = [b((e, i), init=t == 0) for t, (e, i) in enumerate(pairs)]  # one pair
    scanned, state = c.scan((ge, gi))
    np.testing.assert_array_equal(torch.stack(got_a).numpy(), ref)
    np.testing.assert_array_equal(torch.stack(got_b).numpy(), ref)
    np.testing.assert_array_equal(scanned.numpy(), ref)
    assert isinstance(state, BioLIFState)
    # one signed drive: positional init as for any neuron
    x = ge - gi
    d = BioLIF()
    one = torch.stack([d(x_t, t == 0) for t, x_t in enumerate(x)])
    split = run(BioLIF(), [(torch.relu(x_t), torch.relu(-x_t)) for x_t in x])[1]
    np.testing.assert_array_equal(one.numpy(), split)
    np.testing.assert_array_equal(BioLIF().scan(x)[0].numpy(), split)


def test_biolif_input_errors() -> None:
    neuron = BioLIF()
    with pytest.raises(ValueError, match=r"x_exc of shape \(2, 3\) and x_inh of shape \(2, 4\)"):
        neuron(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(TypeError, match="x_exc is torch.float32 but x_inh is torch.float64"):
        neuron(torch.zeros(2, 3), torch.zeros(2, 3, dtype=F64))
    with pytest.raises(TypeError, match="a tensor .* or a pair"):
        neuron.step([torch.zeros(1)], BioLIFState.zeros_like(torch.zeros(1)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="time-first"):
        neuron.scan((torch.zeros(3), torch.zeros(3)))


def test_states_are_named_tuples() -> None:
    x = torch.ones(2, 3)
    for neuron, kind in [
        (CoarseLIF(), CoarseLIFState),
        (BioLIF(), BioLIFState),
        (SpikingDecay(), SpikingDecayState),
        (McPitts(), McPittsState),
    ]:
        neuron(x, init=True)
        assert isinstance(neuron.state, kind)


ALL: dict[str, Callable[..., Neuron]] = {
    "mcpitts": lambda **kw: McPitts(torch.tensor([0.5, 1.0, 1.5]), **kw),
    **LEARNABLE,
}


@pytest.mark.parametrize("name", sorted(ALL))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("learn", [False, True])
def test_dtype_follows_input(name: str, dtype: torch.dtype, learn: bool) -> None:
    kw = {"learn_threshold": learn} | ({"learn_tau": learn} if name != "mcpitts" else {})
    neuron = ALL[name](**kw)
    x = torch.full((2, 3), 1.75, dtype=dtype, requires_grad=True)
    s = neuron(x, init=True) + neuron(x)
    assert s.dtype == dtype
    assert all(t.dtype == dtype for t in neuron.state)
    s.sum().backward()
    assert x.grad is not None and x.grad.dtype == dtype


@pytest.mark.parametrize("name", sorted(ALL))
def test_state_dict_round_trip(name: str) -> None:
    kw = {"learn_threshold": True} | ({"learn_tau": True} if name != "mcpitts" else {})
    trained = ALL[name](**kw)
    with torch.no_grad():
        for p in trained.parameters():
            p.mul_(0.8)
    restored = ALL[name](**kw)
    restored.load_state_dict(trained.state_dict())
    x = uniform((6, 4, 3), 0.0, 2.0, seed=11).float()
    torch.testing.assert_close(_sequence(restored, x), _sequence(trained, x))
    fixed = ALL[name]()  # per-neuron tensors are buffers
    assert dict(fixed.named_buffers()) and not list(fixed.parameters())
    clone = copy.deepcopy(fixed)
    clone.load_state_dict(fixed.state_dict())


def test_repr() -> None:
    assert repr(McPitts()) == "McPitts(threshold=1.0, surrogate=Sigmoid(slope=5.0))"
    assert repr(CoarseLIF(learn_tau=True, detach_reset=True)) == (
        "CoarseLIF(tau=8.0, decay=0.8825, threshold=1.0, surrogate=Sigmoid(slope=5.0), "
        "detach_reset=True, learn_tau=True)"
    )
    assert repr(BioLIF(reset="subtract", detach_decay=True, learn_threshold=True)) == (
        "BioLIF(tau=4.0, decay=0.7788, threshold=0.5, reset='subtract', "
        "surrogate=Sigmoid(slope=5.0), detach_decay=True, learn_threshold=True)"
    )
    assert repr(SpikingDecay(4.0, surrogate="atan")) == (
        "SpikingDecay(tau=4.0, decay=0.25, threshold=1.0, reset='zero', surrogate=ATan(alpha=2.0))"
    )
    assert "threshold=tensor(shape=(3,))" in repr(ALL["mcpitts"]())


def test_defaults_and_properties() -> None:
    assert CoarseLIF().decay == math.exp(-1 / 8) and CoarseLIF(decay=0.5).tau == pytest.approx(
        1 / math.log(2)
    )
    assert BioLIF().decay == math.exp(-1 / 4) and BioLIF().threshold == 0.5
    assert SpikingDecay().decay == 0.5 and SpikingDecay(decay=0.25).tau == 4.0
    assert SpikingDecay(1.0).decay == 1.0  # no leak: an IF neuron
    assert isinstance(McPitts(surrogate="atan").surrogate, ATan)


# -- (g) construction errors ------------------------------------------------------------------


@pytest.mark.parametrize("cls", [CoarseLIF, BioLIF])
def test_exponential_decay_errors(cls: type[Neuron]) -> None:
    with pytest.raises(ValueError, match="tau must be positive, got -2.0"):
        cls(-2.0)
    with pytest.raises(ValueError, match="tau must be positive"):
        cls(torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"decay must lie in \(0, 1\]"):
        cls(decay=1.5)
    with pytest.raises(ValueError, match=r"decay must lie in \(0, 1\]"):
        cls(decay=0.0)
    with pytest.raises(ValueError, match=r"needs a decay strictly inside \(0, 1\)"):
        cls(decay=1.0)
    with pytest.raises(ValueError, match="give tau or decay, not both"):
        cls(2.0, decay=0.5)
    with pytest.raises(ValueError, match="tau must be finite"):
        cls(math.inf)


def test_spiking_decay_errors() -> None:
    with pytest.raises(ValueError, match=r"tau must be >= 1 \(the decay 1/tau"):
        SpikingDecay(-2.0)
    with pytest.raises(ValueError, match="tau must be >= 1"):
        SpikingDecay(0.5)
    with pytest.raises(ValueError, match="tau must be >= 1"):
        SpikingDecay(torch.tensor([2.0, 0.9]))
    with pytest.raises(ValueError, match=r"decay must lie in \(0, 1\]"):
        SpikingDecay(decay=1.01)
    with pytest.raises(ValueError, match="learn_tau needs tau > 1"):
        SpikingDecay(1.0, learn_tau=True)
    with pytest.raises(ValueError, match="give tau or decay, not both"):
        SpikingDecay(2.0, decay=0.5)


CLASSES: list[type[Any]] = [McPitts, CoarseLIF, BioLIF, SpikingDecay]


@pytest.mark.parametrize("cls", CLASSES)
def test_common_errors(cls: type[Any]) -> None:
    with pytest.raises(ValueError, match="unknown surrogate 'erf'"):
        cls(surrogate="erf")
    with pytest.raises(TypeError, match="surrogate must be a SurrogateFunction or a name"):
        cls(surrogate=2.0)
    with pytest.raises(ValueError, match="threshold must be finite"):
        cls(threshold=math.nan)
    with pytest.raises(TypeError, match="threshold must be a float or a tensor, got str"):
        cls(threshold="1")


@pytest.mark.parametrize("cls", CLASSES[1:])
def test_shape_errors(cls: type[Any]) -> None:
    tau = torch.tensor([1.5, 2.0, 4.0])
    with pytest.raises(ValueError, match=r"threshold of shape \(4,\) and decay of shape \(3,\)"):
        cls(tau, threshold=torch.ones(4))
    neuron = cls(tau)
    with pytest.raises(ValueError, match=r"of shape \(3,\) does not broadcast to .*\(2, 4\)"):
        neuron(torch.zeros(2, 4))


def test_other_construction_errors() -> None:
    for cls in (BioLIF, SpikingDecay):
        with pytest.raises(ValueError, match="reset must be one of 'zero', 'subtract', 'none'"):
            cls(reset="to_zero")
    with pytest.raises(TypeError, match="unexpected keyword argument 'reset'"):
        CoarseLIF(reset="zero")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="learn_tau needs the gradient through the decay"):
        BioLIF(learn_tau=True, detach_decay=True)
    with pytest.raises(TypeError, match="McPitts expects a floating-point input"):
        McPitts()(torch.ones(2, 3, dtype=torch.long))


# -- registry and exports -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("mcpitts", McPitts),
        ("coarse_lif", CoarseLIF),
        ("biolif", BioLIF),
        ("spiking_decay", SpikingDecay),
    ],
)
def test_registered(name: str, cls: type) -> None:
    neuron = spikingtorch.get_neuron(name, threshold=0.25)
    assert type(neuron) is cls and neuron.threshold == 0.25
    assert spikingtorch.get_registry("neurons").lookup(name).summary
    assert getattr(spikingtorch_neurons, cls.__name__) is cls
    assert cls.__name__ in spikingtorch_neurons.__all__


def test_top_level_import() -> None:
    from spikingtorch import BioLIF as TopBioLIF
    from spikingtorch import McPitts as TopMcPitts

    assert TopMcPitts is McPitts and TopBioLIF is BioLIF
