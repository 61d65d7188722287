"""The SynapticLIF module (current-based LIF): trajectories, gradients, learning, errors."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from spikingtorch import SpikingNet
from spikingtorch.surrogate import Sigmoid
from spikingtorch_neurons import LIF, SynapticLIF
from spikingtorch_neurons.functional import SynapticLIFState, synaptic_lif_step

RESETS = ["zero", "subtract", "none"]


def synaptic_reference(
    x: np.ndarray,
    *,
    decay: Any,
    syn_decay: Any,
    threshold: Any = 1.0,
    scale: Any = 1.0,
    reset: str = "zero",
) -> dict[str, np.ndarray]:
    """Independent numpy CUBA LIF for time-first ``x`` (T, ...): i, v and spike trajectories.

    i_t = alpha i_{t-1} + b x_t; v_t = a r(v_{t-1}, s_{t-1}) + i_t; s_t = [v_t > theta].
    """
    i = np.zeros(x.shape[1:])
    v = np.zeros(x.shape[1:])
    s = np.zeros(x.shape[1:])
    out: dict[str, list[np.ndarray]] = {"i": [], "v": [], "s": []}
    for xt in x:
        if reset == "zero":
            r = np.where(s > 0, 0.0, v)
        elif reset == "subtract":
            r = np.where(s > 0, v - threshold, v)
        else:
            r = v
        i = syn_decay * i + scale * xt
        v = decay * r + i
        s = np.where(v > threshold, 1.0, 0.0)
        for key, value in (("i", i), ("v", v), ("s", s)):
            out[key].append(value)
    return {k: np.stack(v) for k, v in out.items()}


def run(neuron: SynapticLIF, x: Tensor) -> dict[str, np.ndarray]:
    """Step ``neuron`` over time-first ``x``; stack the spikes and the state's trajectories."""
    out: dict[str, list[Tensor]] = {"i": [], "v": [], "s": []}
    for t, x_t in enumerate(x.unbind(0)):
        s = neuron(x_t, init=(t == 0))
        state = neuron.state
        assert isinstance(state, SynapticLIFState) and torch.equal(s, state.s)
        for key, value in (("i", state.i), ("v", state.v), ("s", s)):
            out[key].append(value.detach())
    return {k: torch.stack(v).numpy() for k, v in out.items()}


def _inputs(seed: int = 0, shape: tuple[int, ...] = (30, 3, 5)) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=gen, dtype=torch.float64) * 0.8 - 0.2


def _assert_matches(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    for key in ("i", "v"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-12, err_msg=key)
    np.testing.assert_array_equal(got["s"], want["s"])
    assert 0 < want["s"].mean() < 1


def test_by_hand() -> None:
    # a = alpha = 0.5, theta = 1, x = 1, 0, 0, 0, 1 (exact in binary), zero reset:
    # i = 1, .5, .25, .125, 1.0625;  v = 1 (not > 1), 1.0 (not), .75, .5, 1.3125 (spike)
    neuron = SynapticLIF(decay=0.5, syn_decay=0.5)
    x = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0], dtype=torch.float64).view(5, 1, 1)
    got = run(neuron, x)
    assert got["i"].flatten().tolist() == [1.0, 0.5, 0.25, 0.125, 1.0625]
    assert got["v"].flatten().tolist() == [1.0, 1.0, 0.75, 0.5, 1.3125]
    assert got["s"].flatten().tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]


def test_spike_resets_membrane_not_current() -> None:
    # alpha = 1, a = 0.5, x = 1.5 then 0: i stays 1.5; v = 1.5 (spike), 0 + 1.5 (spike), ...
    neuron = SynapticLIF(decay=0.5, syn_decay=1.0)
    x = torch.tensor([1.5, 0.0, 0.0]).view(3, 1, 1)
    got = run(neuron, x)
    assert got["i"].flatten().tolist() == [1.5, 1.5, 1.5]
    assert got["v"].flatten().tolist() == [1.5, 1.5, 1.5]
    assert got["s"].flatten().tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("input_scale", [None, 0.75])
def test_matches_reference(reset: str, input_scale: float | None) -> None:
    x = _inputs()
    neuron = SynapticLIF(tau=4.0, tau_syn=2.0, threshold=0.9, reset=reset, input_scale=input_scale)
    want = synaptic_reference(
        x.numpy(),
        decay=math.exp(-1 / 4),
        syn_decay=math.exp(-1 / 2),
        threshold=0.9,
        scale=1.0 if input_scale is None else input_scale,
        reset=reset,
    )
    _assert_matches(run(neuron, x), want)


@pytest.mark.parametrize("reset", RESETS)
def test_per_neuron_parameters(reset: str) -> None:
    x = _inputs(1)
    tau = torch.tensor([1.0, 2.0, 4.0, 8.0, 100.0], dtype=torch.float64)
    alpha = torch.tensor([[0.2], [0.6], [0.9]], dtype=torch.float64)  # per row: (3, 1)
    theta = torch.tensor([0.3, 0.6, 1.0, 1.5, 2.5], dtype=torch.float64)
    scale = torch.tensor([1.0, 0.5, 2.0, 1.0, 1.5], dtype=torch.float64)
    neuron = SynapticLIF(tau, syn_decay=alpha, threshold=theta, input_scale=scale, reset=reset)
    want = synaptic_reference(
        x.numpy(),
        decay=np.exp(-1 / tau.numpy()),
        syn_decay=alpha.numpy(),
        threshold=theta.numpy(),
        scale=scale.numpy(),
        reset=reset,
    )
    _assert_matches(run(neuron, x), want)


def test_fast_synapse_approaches_a_lif() -> None:
    # alpha -> 0: the current is the input itself, and the model is a LIF.
    x = _inputs(2)
    got = run(SynapticLIF(tau=3.0, syn_decay=1e-300, reset="subtract"), x)
    lif = LIF(tau=3.0, reset="subtract")
    spikes = torch.stack([lif(x_t, init=(t == 0)) for t, x_t in enumerate(x)])
    np.testing.assert_array_equal(got["s"], spikes.numpy())


def test_functional_step_matches_module() -> None:
    x = _inputs(3, (8, 2, 4))
    neuron = SynapticLIF(decay=0.7, syn_decay=0.6, reset="subtract")
    state = SynapticLIFState.zeros_like(x[0])
    for t, x_t in enumerate(x):
        s, state = synaptic_lif_step(x_t, state, decay=0.7, syn_decay=0.6, reset="subtract")
        assert torch.equal(neuron(x_t, init=(t == 0)), s)
        assert torch.equal(neuron.state.i, state.i)


# -- gradients through a two-layer network -------------------------------------------------


class RefSpike(torch.autograd.Function):
    """Heaviside forward, ``k sig(k x) (1 - sig(k x))`` backward: the test's own surrogate."""

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


def ref_layer(xs: list[Tensor], p: Mapping[str, Tensor], reset: str, k: float) -> list[Tensor]:
    """The CUBA LIF recurrence in plain torch ops over per-step inputs ``xs``."""
    a, alpha = torch.sigmoid(p["decay_logit"]), torch.sigmoid(p["syn_decay_logit"])
    theta = p["threshold"]
    i = v = s = torch.zeros_like(xs[0])
    out = []
    for x in xs:
        r = {"zero": v * (1 - s), "subtract": v - theta * s, "none": v}[reset]
        i = alpha * i + x
        v = a * r + i
        s = RefSpike.apply(v - theta, k)
        out.append(s)
    return out


@pytest.mark.parametrize("reset", RESETS)
def test_bptt_gradients_match_a_plain_torch_loop(reset: str) -> None:
    torch.manual_seed(0)
    k = 4.0

    def neuron(size: int) -> SynapticLIF:
        return SynapticLIF(
            torch.linspace(2.0, 6.0, size),
            tau_syn=torch.linspace(1.0, 4.0, size),
            threshold=torch.linspace(0.6, 1.2, size),
            reset=reset,
            surrogate=Sigmoid(slope=k),
            learn_tau=True,
            learn_tau_syn=True,
            learn_threshold=True,
        )

    fc1, n1, fc2, n2 = nn.Linear(4, 6), neuron(6), nn.Linear(6, 3), neuron(3)
    with torch.no_grad():  # enough drive for the second layer to spike now and then
        fc2.weight.mul_(2.0).add_(0.2)
    net = SpikingNet(nn.Sequential(fc1, n1, fc2, n2), 3).double()
    x = torch.rand(5, 10, 4, dtype=torch.float64).requires_grad_()
    weights = torch.randn(5, 10, 3, dtype=torch.float64)
    leaves = [x, *net.parameters()]
    assert len(leaves) == 1 + 2 * 2 + 2 * 3  # input, 2 linear layers, 3 learned per neuron

    out = net(x)
    got = torch.autograd.grad((out * weights).sum(), leaves)

    p1, p2 = dict(n1.named_parameters()), dict(n2.named_parameters())
    h = ref_layer([fc1(x_t) for x_t in x.unbind(1)], p1, reset, k)
    ref_out = torch.stack(ref_layer([fc2(s) for s in h], p2, reset, k), 1)
    want = torch.autograd.grad((ref_out * weights).sum(), leaves)

    assert torch.equal(out, ref_out)
    assert 0.05 < float(torch.stack(h).detach().mean()) < 0.95
    assert 0.05 < float(out.detach().mean()) < 0.95
    for g, r in zip(got, want, strict=True):
        assert float(r.abs().sum()) > 0
        assert float((g - r).norm() / r.norm()) <= 1e-6


# -- learning ------------------------------------------------------------------------------


def test_learned_parameters_get_gradients_and_move() -> None:
    neuron = SynapticLIF(
        torch.tensor([2.0, 4.0, 8.0]),
        tau_syn=3.0,
        learn_tau=True,
        learn_tau_syn=True,
        learn_threshold=True,
    )
    names = sorted(n for n, _ in neuron.named_parameters())
    assert names == ["decay_logit", "syn_decay_logit", "threshold"]
    assert torch.allclose(neuron.tau, torch.tensor([2.0, 4.0, 8.0]))  # type: ignore[arg-type]
    assert torch.allclose(neuron.tau_syn, torch.tensor(3.0))  # type: ignore[arg-type]
    before = {n: p.detach().clone() for n, p in neuron.named_parameters()}
    optimizer = torch.optim.SGD(neuron.parameters(), lr=0.1)
    x = torch.rand(12, 4, 3, generator=torch.Generator().manual_seed(0)) * 0.6
    out = torch.stack([neuron(x_t, init=(t == 0)) for t, x_t in enumerate(x)])
    out.sum().backward()
    for name, p in neuron.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name
    optimizer.step()
    for name, p in neuron.named_parameters():
        assert not torch.equal(p, before[name]), name


def test_decays_stay_in_open_interval_under_huge_steps() -> None:
    neuron = SynapticLIF(tau=4.0, tau_syn=2.0, learn_tau=True, learn_tau_syn=True)
    optimizer = torch.optim.SGD(neuron.parameters(), lr=1e3)
    gen = torch.Generator().manual_seed(0)
    for step in range(100):
        x = torch.rand(6, 4, 3, generator=gen) * 0.6
        out = torch.stack([neuron(x_t, init=(t == 0)) for t, x_t in enumerate(x)])
        sign = 1.0 if step % 3 else -1.0  # push both ways
        optimizer.zero_grad()
        (sign * out.sum() + sign * neuron.state.v.sum()).backward()
        optimizer.step()
        for decay in (neuron.decay, neuron.syn_decay):
            assert isinstance(decay, Tensor) and 0 < float(decay.detach()) < 1
    assert torch.isfinite(neuron.state.v).all() and torch.isfinite(neuron.state.i).all()


# -- parameters, dtypes, repr --------------------------------------------------------------


def test_defaults() -> None:
    neuron = SynapticLIF()
    assert neuron.decay == math.exp(-1 / 8) and neuron.syn_decay == math.exp(-1 / 4)
    assert neuron.tau == pytest.approx(8.0) and neuron.tau_syn == pytest.approx(4.0)
    assert SynapticLIF(syn_decay=1.0).tau_syn == math.inf


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_dtype_follows_input(dtype: torch.dtype) -> None:
    neurons = [
        SynapticLIF(),
        SynapticLIF(torch.tensor([2.0, 4.0, 8.0]), tau_syn=torch.tensor([1.0, 2.0, 3.0])),
        SynapticLIF(learn_tau=True, learn_tau_syn=True, learn_threshold=True, input_scale=2.0),
    ]
    for neuron in neurons:
        x = torch.full((2, 3), 0.75, dtype=dtype, requires_grad=True)
        s = sum(neuron(x, init=(t == 0)) for t in range(4))
        assert isinstance(s, Tensor) and s.dtype == dtype
        assert all(t.dtype == dtype for t in neuron.state)
        s.sum().backward()
        assert x.grad is not None and x.grad.dtype == dtype


def test_to_moves_buffers_and_state_dict_round_trip() -> None:
    neuron = SynapticLIF(
        torch.tensor([2.0, 4.0]),
        syn_decay=torch.tensor([0.3, 0.6]),
        threshold=torch.tensor([1.0, 0.5]),
        input_scale=torch.tensor([1.0, 2.0]),
    )
    assert set(dict(neuron.named_buffers())) == {
        "_decay",
        "_syn_decay",
        "threshold",
        "input_scale",
    }
    neuron.to(torch.float64)
    assert all(b.dtype == torch.float64 for b in neuron.buffers())
    clone = SynapticLIF(
        torch.ones(2), syn_decay=torch.ones(2), threshold=torch.ones(2), input_scale=torch.ones(2)
    )
    clone.load_state_dict(neuron.state_dict())
    assert torch.equal(clone.syn_decay, torch.tensor([0.3, 0.6]))  # type: ignore[arg-type]
    x = _inputs(4, (10, 3, 2)).float()
    np.testing.assert_array_equal(run(clone, x)["v"], run(neuron.float(), x)["v"])
    learned = SynapticLIF(tau_syn=7.0, learn_tau=True, learn_tau_syn=True)
    other = SynapticLIF(tau=2.0, tau_syn=1.5, learn_tau=True, learn_tau_syn=True)
    other.load_state_dict(learned.state_dict())
    assert float(torch.as_tensor(other.tau_syn).detach()) == pytest.approx(7.0, rel=1e-5)


def test_repr() -> None:
    assert repr(SynapticLIF(tau=4.0, tau_syn=2.0)) == (
        "SynapticLIF(tau=4.0, decay=0.7788, tau_syn=2.0, syn_decay=0.6065, threshold=1.0, "
        "reset='zero', surrogate=Sigmoid(slope=5.0))"
    )
    text = repr(SynapticLIF(learn_tau_syn=True, input_scale=0.5))
    assert text.endswith("input_scale=0.5, learn_tau_syn=True)")


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"tau": -1.0}, ValueError, "tau must be positive, got -1.0"),
        ({"decay": 0.0}, ValueError, r"decay must lie in \(0, 1\], got 0.0"),
        ({"tau_syn": -2.0}, ValueError, "tau_syn must be positive, got -2.0"),
        ({"tau_syn": math.inf}, ValueError, "tau_syn must be finite"),
        ({"syn_decay": 1.5}, ValueError, r"syn_decay must lie in \(0, 1\], got 1.5"),
        ({"syn_decay": -0.1}, ValueError, r"syn_decay must lie in \(0, 1\], got -0.1"),
        (
            {"tau_syn": 2.0, "syn_decay": 0.5},
            ValueError,
            r"give tau_syn or syn_decay, not both \(got tau_syn=2.0, syn_decay=0.5\)",
        ),
        (
            {"syn_decay": 1.0, "learn_tau_syn": True},
            ValueError,
            r"learn_tau_syn needs syn_decay strictly inside \(0, 1\)",
        ),
        ({"threshold": "1"}, TypeError, "threshold must be a float or a tensor, got str"),
        ({"surrogate": "erf"}, ValueError, "unknown surrogate 'erf'"),
        ({"reset": "soft"}, ValueError, "reset must be one of 'zero', 'subtract', 'none'"),
    ],
)
def test_bad_parameters(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        SynapticLIF(**kwargs)


def test_bad_per_neuron_tensors() -> None:
    with pytest.raises(ValueError, match=r"syn_decay must lie in \(0, 1\]"):
        SynapticLIF(syn_decay=torch.tensor([0.5, 1.5]))
    with pytest.raises(
        ValueError,
        match=r"SynapticLIF: threshold of shape \(4,\) and syn_decay of shape \(3,\) do not",
    ):
        SynapticLIF(tau_syn=torch.ones(3), threshold=torch.ones(4))
    neuron = SynapticLIF(tau_syn=torch.ones(4))
    with pytest.raises(ValueError, match=r"syn_decay of shape \(4,\) does not broadcast to"):
        neuron(torch.zeros(2, 3))
