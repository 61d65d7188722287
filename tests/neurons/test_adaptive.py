"""The AdaptiveLIF module (threshold adaptation): trajectories, gradients, learning, errors."""

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
from spikingtorch_neurons import LIF, AdaptiveLIF
from spikingtorch_neurons.functional import ALIFState, alif_step

RESETS = ["zero", "subtract", "none"]


def alif_reference(
    x: np.ndarray,
    *,
    decay: Any,
    adapt_decay: Any,
    beta: Any,
    theta0: Any = 1.0,
    scale: Any = 1.0,
    reset: str = "zero",
) -> dict[str, np.ndarray]:
    """Independent numpy ALIF for time-first ``x`` (T, ...): v, w, theta and spike trajectories.

    w_t = rho w_{t-1} + s_{t-1}; theta_t = theta0 + beta w_t;
    v_t = a r(v_{t-1}, s_{t-1}) + b x_t with r subtracting theta_{t-1} in "subtract" mode;
    s_t = [v_t > theta_t].
    """
    v = np.zeros(x.shape[1:])
    s = np.zeros(x.shape[1:])
    w = np.zeros(x.shape[1:])
    out: dict[str, list[np.ndarray]] = {"v": [], "w": [], "theta": [], "s": []}
    for xt in x:
        theta_prev = theta0 + beta * w
        if reset == "zero":
            r = np.where(s > 0, 0.0, v)
        elif reset == "subtract":
            r = np.where(s > 0, v - theta_prev, v)
        else:
            r = v
        v = decay * r + scale * xt
        w = adapt_decay * w + s
        theta = theta0 + beta * w
        s = np.where(v > theta, 1.0, 0.0)
        for key, value in (("v", v), ("w", w), ("theta", theta), ("s", s)):
            out[key].append(value)
    return {k: np.stack(v) for k, v in out.items()}


def run(neuron: AdaptiveLIF, x: Tensor) -> dict[str, np.ndarray]:
    """Step ``neuron`` over time-first ``x``; stack the spikes and the state's trajectories."""
    out: dict[str, list[Tensor]] = {"v": [], "w": [], "theta": [], "s": []}
    for t, x_t in enumerate(x.unbind(0)):
        s = neuron(x_t, init=(t == 0))
        state = neuron.state
        assert isinstance(state, ALIFState) and torch.equal(s, state.s)
        theta = neuron.effective_threshold
        assert theta is not None
        for key, value in (("v", state.v), ("w", state.w), ("theta", theta), ("s", s)):
            out[key].append(value.detach())
    return {k: torch.stack(v).numpy() for k, v in out.items()}


def _inputs(seed: int = 0, shape: tuple[int, ...] = (30, 3, 5)) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=gen, dtype=torch.float64) * 1.2 - 0.1


def _assert_matches(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    for key in ("v", "w", "theta"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-12, err_msg=key)
    np.testing.assert_array_equal(got["s"], want["s"])
    assert 0 < want["s"].mean() < 1
    assert want["w"].max() > 0


def test_by_hand() -> None:
    # a = rho = 0.5, beta = 0.5, theta0 = 1, x = 0.75, zero reset (exact in binary):
    # t0: v .75;  t1: v 1.125 > 1 (spike);  t2: w = 1, theta 1.5, v = .75;
    # t3: w .5, theta 1.25, v 1.125;  t4: w .25, theta 1.125, v 1.3125 (spike)
    neuron = AdaptiveLIF(decay=0.5, adapt_decay=0.5, adapt_strength=0.5)
    got = run(neuron, torch.full((5, 1, 1), 0.75, dtype=torch.float64))
    assert got["v"].flatten().tolist() == [0.75, 1.125, 0.75, 1.125, 1.3125]
    assert got["w"].flatten().tolist() == [0.0, 0.0, 1.0, 0.5, 0.25]
    assert got["theta"].flatten().tolist() == [1.0, 1.0, 1.5, 1.25, 1.125]
    assert got["s"].flatten().tolist() == [0.0, 1.0, 0.0, 0.0, 1.0]


def test_subtract_removes_the_effective_threshold() -> None:
    # a = 1, rho = 1, beta = 0.25, x = 1.5: t0 v 1.5 (spike, theta 1); t1 w 1, theta 1.25,
    # v = 1.5 - 1 (theta_0) + 1.5 = 2 (spike); t2 w 2, theta 1.5, v = 2 - 1.25 + 1.5 = 2.25
    neuron = AdaptiveLIF(decay=1.0, adapt_decay=1.0, adapt_strength=0.25, reset="subtract")
    got = run(neuron, torch.full((3, 1, 1), 1.5, dtype=torch.float64))
    assert got["v"].flatten().tolist() == [1.5, 2.0, 2.25]
    assert got["theta"].flatten().tolist() == [1.0, 1.25, 1.5]


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("input_scale", [None, 0.75])
def test_matches_reference(reset: str, input_scale: float | None) -> None:
    x = _inputs()
    neuron = AdaptiveLIF(
        tau=4.0,
        tau_adapt=20.0,
        adapt_strength=0.3,
        threshold=0.8,
        reset=reset,
        input_scale=input_scale,
    )
    want = alif_reference(
        x.numpy(),
        decay=math.exp(-1 / 4),
        adapt_decay=math.exp(-1 / 20),
        beta=0.3,
        theta0=0.8,
        scale=1.0 if input_scale is None else input_scale,
        reset=reset,
    )
    _assert_matches(run(neuron, x), want)


@pytest.mark.parametrize("reset", RESETS)
def test_per_neuron_parameters(reset: str) -> None:
    x = _inputs(1)
    tau = torch.tensor([1.0, 2.0, 4.0, 8.0, 100.0], dtype=torch.float64)
    rho = torch.tensor([[0.5], [0.9], [1.0]], dtype=torch.float64)  # per row: (3, 1)
    beta = torch.tensor([0.0, 0.1, 0.5, 1.0, 0.2], dtype=torch.float64)
    theta = torch.tensor([0.3, 0.6, 1.0, 0.8, 1.5], dtype=torch.float64)
    scale = torch.tensor([[1.0], [0.5], [2.0]], dtype=torch.float64)
    neuron = AdaptiveLIF(
        tau,
        adapt_decay=rho,
        adapt_strength=beta,
        threshold=theta,
        input_scale=scale,
        reset=reset,
    )
    want = alif_reference(
        x.numpy(),
        decay=np.exp(-1 / tau.numpy()),
        adapt_decay=rho.numpy(),
        beta=beta.numpy(),
        theta0=theta.numpy(),
        scale=scale.numpy(),
        reset=reset,
    )
    _assert_matches(run(neuron, x), want)


def test_zero_adaptation_is_a_lif() -> None:
    x = _inputs(2)
    got = run(AdaptiveLIF(tau=3.0, adapt_strength=0.0, reset="subtract"), x)
    lif = LIF(tau=3.0, reset="subtract")
    spikes = torch.stack([lif(x_t, init=(t == 0)) for t, x_t in enumerate(x)])
    np.testing.assert_array_equal(got["s"], spikes.numpy())


def test_threshold_remembers_a_burst() -> None:
    # A burst of spikes raises the threshold; it decays with tau_adapt, not with tau.
    neuron = AdaptiveLIF(tau=2.0, tau_adapt=50.0, adapt_strength=0.5)
    x = torch.zeros(60, 1, 1)
    x[:5] = 5.0
    got = run(neuron, x)
    assert got["s"][:5].sum() == 5
    raised = got["theta"][5:, 0, 0] - 1.0
    np.testing.assert_allclose(raised, raised[0] * math.exp(-1 / 50) ** np.arange(55), rtol=1e-5)
    assert raised[-1] > 0.5  # 55 steps = 27 membrane time constants later
    assert abs(got["v"][-1, 0, 0]) < 1e-10


def test_state_dtype_and_protocol() -> None:
    neuron = AdaptiveLIF()
    assert neuron.effective_threshold is None
    x = torch.ones(2, 3)
    neuron(x, init=True)
    assert isinstance(neuron.state, ALIFState)
    neuron.reset_state()
    assert neuron.state is None and neuron.effective_threshold is None


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
    """The ALIF recurrence in plain torch ops over per-step inputs ``xs``."""
    a, rho = torch.sigmoid(p["decay_logit"]), torch.sigmoid(p["adapt_decay_logit"])
    beta, theta0 = p["adapt_strength"], p["threshold"]
    v = s = w = torch.zeros_like(xs[0])
    out = []
    for x in xs:
        theta_prev = theta0 + beta * w
        r = {"zero": v * (1 - s), "subtract": v - theta_prev * s, "none": v}[reset]
        v = a * r + x
        w = rho * w + s
        s = RefSpike.apply(v - (theta0 + beta * w), k)
        out.append(s)
    return out


def _neuron_params(neuron: AdaptiveLIF) -> dict[str, Tensor]:
    params: dict[str, Tensor] = dict(neuron.named_parameters())
    beta = neuron.adapt_strength
    assert isinstance(beta, Tensor)
    params["adapt_strength"] = beta
    return params


@pytest.mark.parametrize("reset", RESETS)
def test_bptt_gradients_match_a_plain_torch_loop(reset: str) -> None:
    torch.manual_seed(0)
    k = 4.0

    def neuron(size: int) -> AdaptiveLIF:
        return AdaptiveLIF(
            torch.linspace(2.0, 6.0, size),
            tau_adapt=torch.linspace(5.0, 30.0, size),
            adapt_strength=torch.linspace(0.1, 0.6, size),
            threshold=torch.linspace(0.4, 0.9, size),
            reset=reset,
            surrogate=Sigmoid(slope=k),
            learn_tau=True,
            learn_tau_adapt=True,
            learn_threshold=True,
        )

    fc1, n1, fc2, n2 = nn.Linear(4, 6), neuron(6), nn.Linear(6, 3), neuron(3)
    with torch.no_grad():  # enough drive for the second layer to spike now and then
        fc2.weight.mul_(2.0).add_(0.3)
    net = SpikingNet(nn.Sequential(fc1, n1, fc2, n2), 3).double()
    x = (torch.rand(5, 10, 4, dtype=torch.float64) * 1.5).requires_grad_()
    weights = torch.randn(5, 10, 3, dtype=torch.float64)
    leaves = [x, *net.parameters()]
    assert len(leaves) == 1 + 2 * 2 + 2 * 3  # input, 2 linear layers, 3 learned per neuron

    out = net(x)
    got = torch.autograd.grad((out * weights).sum(), leaves)

    h = ref_layer([fc1(x_t) for x_t in x.unbind(1)], _neuron_params(n1), reset, k)
    ref_out = torch.stack(ref_layer([fc2(s) for s in h], _neuron_params(n2), reset, k), 1)
    want = torch.autograd.grad((ref_out * weights).sum(), leaves)

    assert torch.equal(out, ref_out)
    assert 0.05 < float(torch.stack(h).detach().mean()) < 0.95
    assert 0.05 < float(out.detach().mean()) < 0.95
    for g, r in zip(got, want, strict=True):
        assert float(r.abs().sum()) > 0
        assert float((g - r).norm() / r.norm()) <= 1e-6


# -- learning ------------------------------------------------------------------------------


def test_learned_parameters_get_gradients_and_move() -> None:
    neuron = AdaptiveLIF(
        torch.tensor([2.0, 4.0, 8.0]),
        tau_adapt=30.0,
        adapt_strength=0.3,
        learn_tau=True,
        learn_tau_adapt=True,
        learn_threshold=True,
    )
    names = sorted(n for n, _ in neuron.named_parameters())
    assert names == ["adapt_decay_logit", "decay_logit", "threshold"]
    assert torch.allclose(neuron.tau, torch.tensor([2.0, 4.0, 8.0]))  # type: ignore[arg-type]
    assert torch.allclose(neuron.tau_adapt, torch.tensor(30.0))  # type: ignore[arg-type]
    before = {n: p.detach().clone() for n, p in neuron.named_parameters()}
    optimizer = torch.optim.SGD(neuron.parameters(), lr=0.1)
    x = torch.rand(12, 4, 3, generator=torch.Generator().manual_seed(0)) * 1.5
    out = torch.stack([neuron(x_t, init=(t == 0)) for t, x_t in enumerate(x)])
    out.sum().backward()
    for name, p in neuron.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name
    optimizer.step()
    for name, p in neuron.named_parameters():
        assert not torch.equal(p, before[name]), name


def test_decays_stay_in_open_interval_under_huge_steps() -> None:
    neuron = AdaptiveLIF(tau=4.0, tau_adapt=20.0, learn_tau=True, learn_tau_adapt=True)
    optimizer = torch.optim.SGD(neuron.parameters(), lr=1e3)
    gen = torch.Generator().manual_seed(0)
    for i in range(100):
        x = torch.rand(6, 4, 3, generator=gen)
        out = torch.stack([neuron(x_t, init=(t == 0)) for t, x_t in enumerate(x)])
        sign = 1.0 if i % 3 else -1.0  # push both ways
        optimizer.zero_grad()
        (sign * out.sum() + sign * neuron.state.v.sum()).backward()
        optimizer.step()
        for decay in (neuron.decay, neuron.adapt_decay):
            assert isinstance(decay, Tensor) and 0 < float(decay.detach()) < 1
    assert torch.isfinite(neuron.state.v).all() and torch.isfinite(neuron.state.w).all()


# -- parameters, dtypes, repr --------------------------------------------------------------


def test_defaults() -> None:
    neuron = AdaptiveLIF()
    assert neuron.decay == math.exp(-1 / 8) and neuron.adapt_decay == math.exp(-1 / 100)
    assert neuron.tau == pytest.approx(8.0) and neuron.tau_adapt == pytest.approx(100.0)
    assert neuron.adapt_strength == 0.1 and neuron.threshold == 1.0
    assert AdaptiveLIF(adapt_decay=1.0).tau_adapt == math.inf


def test_functional_step_matches_module() -> None:
    x = _inputs(3, (8, 2, 4))
    neuron = AdaptiveLIF(decay=0.7, adapt_decay=0.9, adapt_strength=0.4, reset="subtract")
    state = ALIFState.zeros_like(x[0])
    for t, x_t in enumerate(x):
        s, state = alif_step(
            x_t, state, decay=0.7, adapt_decay=0.9, adapt_strength=0.4, reset="subtract"
        )
        assert torch.equal(neuron(x_t, init=(t == 0)), s)
        assert torch.equal(neuron.state.w, state.w)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_dtype_follows_input(dtype: torch.dtype) -> None:
    neurons = [
        AdaptiveLIF(),
        AdaptiveLIF(torch.tensor([2.0, 4.0, 8.0]), adapt_strength=torch.tensor([0.1, 0.2, 0.3])),
        AdaptiveLIF(learn_tau=True, learn_tau_adapt=True, learn_threshold=True, input_scale=2.0),
    ]
    for neuron in neurons:
        x = torch.full((2, 3), 0.75, dtype=dtype, requires_grad=True)
        s = sum(neuron(x, init=(t == 0)) for t in range(4))
        assert isinstance(s, Tensor) and s.dtype == dtype
        assert all(t.dtype == dtype for t in neuron.state)
        s.sum().backward()
        assert x.grad is not None and x.grad.dtype == dtype


def test_to_moves_buffers_and_state_dict_round_trip() -> None:
    kwargs: dict[str, Any] = {
        "tau_adapt": torch.tensor([10.0, 50.0]),
        "adapt_strength": torch.tensor([0.2, 0.4]),
        "threshold": torch.tensor([1.0, 0.5]),
    }
    neuron = AdaptiveLIF(torch.tensor([2.0, 4.0]), **kwargs)
    assert set(dict(neuron.named_buffers())) == {
        "_decay",
        "_adapt_decay",
        "adapt_strength",
        "threshold",
    }
    neuron.to(torch.float64)
    assert all(b.dtype == torch.float64 for b in neuron.buffers())
    ones: dict[str, Any] = {k: torch.ones(2) for k in kwargs}
    clone = AdaptiveLIF(torch.ones(2), **ones)
    clone.load_state_dict(neuron.state_dict())
    assert torch.equal(clone.adapt_strength, torch.tensor([0.2, 0.4]))  # type: ignore[arg-type]
    x = _inputs(4, (10, 3, 2))
    np.testing.assert_array_equal(run(clone, x)["v"], run(neuron, x)["v"])
    learned = AdaptiveLIF(learn_tau=True, learn_tau_adapt=True, learn_threshold=True)
    copy = AdaptiveLIF(
        tau=3.0, tau_adapt=7.0, learn_tau=True, learn_tau_adapt=True, learn_threshold=True
    )
    copy.load_state_dict(learned.state_dict())
    assert float(torch.as_tensor(copy.tau).detach()) == pytest.approx(8.0, rel=1e-5)
    assert float(torch.as_tensor(copy.tau_adapt).detach()) == pytest.approx(100.0, rel=1e-5)


def test_repr() -> None:
    assert repr(AdaptiveLIF(tau=4.0, tau_adapt=50.0)) == (
        "AdaptiveLIF(tau=4.0, decay=0.7788, tau_adapt=50.0, adapt_decay=0.9802, "
        "adapt_strength=0.1, threshold=1.0, reset='zero', surrogate=Sigmoid(slope=5.0))"
    )
    text = repr(AdaptiveLIF(adapt_strength=torch.ones(3), learn_tau_adapt=True))
    assert "adapt_strength=tensor(shape=(3,))" in text and text.endswith("learn_tau_adapt=True)")


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"tau": -1.0}, ValueError, "tau must be positive, got -1.0"),
        ({"decay": 1.5}, ValueError, r"decay must lie in \(0, 1\], got 1.5"),
        ({"tau_adapt": -2.0}, ValueError, "tau_adapt must be positive, got -2.0"),
        ({"tau_adapt": 0.0}, ValueError, "tau_adapt must be positive, got 0.0"),
        ({"tau_adapt": math.nan}, ValueError, "tau_adapt must be finite"),
        ({"adapt_decay": 0.0}, ValueError, r"adapt_decay must lie in \(0, 1\], got 0.0"),
        ({"adapt_decay": 1.01}, ValueError, r"adapt_decay must lie in \(0, 1\], got 1.01"),
        ({"adapt_decay": "0.5"}, TypeError, "adapt_decay must be a float or a tensor, got str"),
        (
            {"tau_adapt": 5.0, "adapt_decay": 0.5},
            ValueError,
            r"give tau_adapt or adapt_decay, not both \(got tau_adapt=5.0, adapt_decay=0.5\)",
        ),
        (
            {"adapt_decay": 1.0, "learn_tau_adapt": True},
            ValueError,
            r"learn_tau_adapt needs adapt_decay strictly inside \(0, 1\)",
        ),
        ({"adapt_strength": -0.5}, ValueError, "adapt_strength must be non-negative, got -0.5"),
        ({"adapt_strength": math.inf}, ValueError, "adapt_strength must be finite"),
        ({"threshold": math.nan}, ValueError, "threshold must be finite"),
        ({"surrogate": "erf"}, ValueError, "unknown surrogate 'erf'"),
        ({"reset": "soft"}, ValueError, "reset must be one of 'zero', 'subtract', 'none'"),
    ],
)
def test_bad_parameters(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        AdaptiveLIF(**kwargs)


def test_bad_per_neuron_tensors() -> None:
    with pytest.raises(ValueError, match=r"adapt_strength must be non-negative"):
        AdaptiveLIF(adapt_strength=torch.tensor([0.1, -0.1]))
    with pytest.raises(ValueError, match=r"tau_adapt must be positive"):
        AdaptiveLIF(tau_adapt=torch.tensor([10.0, -1.0]))
    with pytest.raises(
        ValueError,
        match=r"AdaptiveLIF: threshold of shape \(4,\) and decay of shape \(3,\) do not broadcast",
    ):
        AdaptiveLIF(torch.ones(3) * 2, threshold=torch.ones(4))
    neuron = AdaptiveLIF(threshold=torch.ones(4))  # fits some inputs: checked at the first step
    with pytest.raises(
        ValueError, match=r"threshold of shape \(4,\) does not broadcast to .*\(2, 3\)"
    ):
        neuron(torch.zeros(2, 3))
