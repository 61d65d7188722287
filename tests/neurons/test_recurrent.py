"""The RecurrentLIF layer (learned spike feedback): trajectories, gradients, learning, errors."""

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
from spikingtorch_neurons import RecurrentLIF
from spikingtorch_neurons.functional import (
    RecurrentLIFState,
    recurrent_input,
    recurrent_lif_step,
)

RESETS = ["zero", "subtract", "none"]


def recurrent_reference(
    x: np.ndarray,
    weight: np.ndarray,
    *,
    dense: bool,
    decay: Any,
    threshold: Any = 1.0,
    scale: Any = 1.0,
    reset: str = "zero",
) -> tuple[np.ndarray, np.ndarray]:
    """Independent numpy recurrent LIF for time-first ``x`` (T, N, ...): membranes and spikes.

    v_t = a r(v_{t-1}, s_{t-1}) + b x_t + W s_{t-1}, with W s = s @ W.T (dense) or W * s;
    s_t = [v_t > theta].
    """
    v = np.zeros(x.shape[1:])
    s = np.zeros(x.shape[1:])
    vs, ss = [], []
    for xt in x:
        if reset == "zero":
            r = np.where(s > 0, 0.0, v)
        elif reset == "subtract":
            r = np.where(s > 0, v - threshold, v)
        else:
            r = v
        feedback = s @ weight.T if dense else weight * s
        v = decay * r + scale * xt + feedback
        s = np.where(v > threshold, 1.0, 0.0)
        vs.append(v)
        ss.append(s)
    return np.stack(vs), np.stack(ss)


def run(neuron: RecurrentLIF, x: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Step ``neuron`` over time-first ``x``; stack the membranes and spikes."""
    vs, ss = [], []
    for t, x_t in enumerate(x.unbind(0)):
        s = neuron(x_t, init=(t == 0))
        assert isinstance(neuron.state, RecurrentLIFState) and torch.equal(s, neuron.state.s)
        vs.append(neuron.state.v.detach())
        ss.append(s.detach())
    return torch.stack(vs).numpy(), torch.stack(ss).numpy()


def _inputs(seed: int = 0, shape: tuple[int, ...] = (30, 3, 5)) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=gen, dtype=torch.float64) * 1.1 - 0.2


def _set_weight(neuron: RecurrentLIF, seed: int, scale: float = 0.6) -> np.ndarray:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        w = neuron.recurrent_weight
        w.copy_((torch.rand(w.shape, generator=gen) * 2 - 1) * scale)
    return neuron.recurrent_weight.detach().double().numpy()


def _check(got: tuple[np.ndarray, np.ndarray], want: tuple[np.ndarray, np.ndarray]) -> None:
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got[1], want[1])
    assert 0 < want[1].mean() < 1


def test_by_hand_dense() -> None:
    # a = 0.5, theta = 1, W = [[0, .5], [-1, 0]], x = (1.25, 0.75) each step, zero reset:
    # t0: v = (1.25, .75), s = (1, 0)
    # t1: v0 = 0 + 1.25 + 0 = 1.25 (spike);  v1 = .375 + .75 - 1 = .125
    # t2: v0 = 1.25 (spike);  v1 = .0625 + .75 - 1 = -.1875
    neuron = RecurrentLIF(2, decay=0.5)
    with torch.no_grad():
        neuron.recurrent_weight.copy_(torch.tensor([[0.0, 0.5], [-1.0, 0.0]]))
    x = torch.tensor([1.25, 0.75], dtype=torch.float64).expand(3, 1, 2)
    v, s = run(neuron, x)
    assert v[:, 0].tolist() == [[1.25, 0.75], [1.25, 0.125], [1.25, -0.1875]]
    assert s[:, 0].tolist() == [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("input_scale", [None, 0.75])
def test_dense_matches_reference(reset: str, input_scale: float | None) -> None:
    x = _inputs()
    neuron = RecurrentLIF(5, tau=4.0, threshold=0.8, reset=reset, input_scale=input_scale)
    weight = _set_weight(neuron, 1)
    want = recurrent_reference(
        x.numpy(),
        weight,
        dense=True,
        decay=math.exp(-1 / 4),
        threshold=0.8,
        scale=1.0 if input_scale is None else input_scale,
        reset=reset,
    )
    _check(run(neuron, x), want)


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("recurrent", ["dense", "one_to_one"])
def test_per_neuron_parameters(reset: str, recurrent: str) -> None:
    x = _inputs(2)
    tau = torch.tensor([1.0, 2.0, 4.0, 8.0, 100.0], dtype=torch.float64)
    theta = torch.tensor([0.3, 0.6, 1.0, 0.8, 1.5], dtype=torch.float64)
    scale = torch.tensor([1.0, 0.5, 2.0, 1.0, 1.5], dtype=torch.float64)
    neuron = RecurrentLIF(5, recurrent, tau=tau, threshold=theta, input_scale=scale, reset=reset)
    weight = _set_weight(neuron, 3)
    want = recurrent_reference(
        x.numpy(),
        weight,
        dense=recurrent == "dense",
        decay=np.exp(-1 / tau.numpy()),
        threshold=theta.numpy(),
        scale=scale.numpy(),
        reset=reset,
    )
    _check(run(neuron, x), want)


@pytest.mark.parametrize("reset", RESETS)
def test_one_to_one_any_feature_shape(reset: str) -> None:
    x = _inputs(4, (24, 2, 3, 2, 2))  # (T, N, C, H, W)
    theta = torch.tensor([0.5, 0.8, 1.2], dtype=torch.float64).view(3, 1, 1)  # per channel
    neuron = RecurrentLIF((3, 2, 2), "one_to_one", decay=0.7, threshold=theta, reset=reset)
    assert neuron.recurrent_weight.shape == (3, 2, 2)
    assert torch.equal(neuron.recurrent_weight, torch.zeros(3, 2, 2))  # starts as a LIF
    weight = _set_weight(neuron, 5, scale=1.0)
    want = recurrent_reference(
        x.numpy(),
        weight,
        dense=False,
        decay=0.7,
        threshold=theta.numpy(),
        reset=reset,
    )
    _check(run(neuron, x), want)


def test_one_to_one_weight_is_created_at_the_first_step() -> None:
    neuron = RecurrentLIF(recurrent="one_to_one", decay=0.5)
    assert isinstance(neuron.recurrent_weight, nn.parameter.UninitializedParameter)
    optimizer = torch.optim.SGD(neuron.parameters(), lr=0.5)  # before the shape is known
    x = torch.rand(6, 2, 3, 4, generator=torch.Generator().manual_seed(0)) * 1.5
    out = torch.stack([neuron(x_t, init=(t == 0)) for t, x_t in enumerate(x)])
    weight = neuron.recurrent_weight
    assert not isinstance(weight, nn.parameter.UninitializedParameter)
    assert weight.shape == (3, 4) and torch.equal(weight, torch.zeros(3, 4))
    out.sum().backward()
    assert weight.grad is not None and float(weight.grad.abs().sum()) > 0
    optimizer.step()
    assert float(weight.detach().abs().sum()) > 0
    # An uninitialised state_dict loads into a fresh lazy layer, an initialised one too.
    restored = RecurrentLIF(recurrent="one_to_one", decay=0.5)
    restored.load_state_dict(neuron.state_dict())
    assert torch.equal(restored.recurrent_weight, weight)
    np.testing.assert_array_equal(run(restored, x)[0], run(neuron, x)[0])


def test_dense_weight_init_and_reset_parameters() -> None:
    torch.manual_seed(0)
    neuron = RecurrentLIF(100)
    assert neuron.recurrent_weight.requires_grad
    w = neuron.recurrent_weight.detach()
    assert w.shape == (100, 100)
    assert float(w.abs().max()) <= 0.1 and float(w.std()) > 0.05  # uniform(-1/10, 1/10)
    before = w.detach().clone()
    neuron.reset_parameters()
    assert not torch.equal(before, neuron.recurrent_weight)


def test_recurrent_input_and_functional_step() -> None:
    s = torch.tensor([[1.0, 0.0, 1.0]])
    w = torch.arange(9.0).view(3, 3)
    assert recurrent_input(s, w).tolist() == [[2.0, 8.0, 14.0]]  # rows 0+2, 3+5, 6+8
    assert recurrent_input(s, torch.tensor([2.0, 3.0, 4.0]), "one_to_one").tolist() == [
        [2.0, 0.0, 4.0]
    ]
    with pytest.raises(ValueError, match="recurrent must be one of"):
        recurrent_input(s, w, "sparse")
    x = _inputs(6, (8, 2, 3))
    neuron = RecurrentLIF(3, decay=0.6, reset="subtract")
    state = RecurrentLIFState.zeros_like(x[0])
    weight = neuron.recurrent_weight.detach().double()
    for t, x_t in enumerate(x):
        s, state = recurrent_lif_step(x_t, state, weight=weight, decay=0.6, reset="subtract")
        assert torch.equal(neuron(x_t, init=(t == 0)), s)


def test_dense_accepts_leading_dimensions() -> None:
    neuron = RecurrentLIF(4, decay=0.5)
    x = torch.rand(5, 2, 7, 4)  # (T, N, L, F): recurrence over the last dimension
    out = torch.stack([neuron(x_t, init=(t == 0)) for t, x_t in enumerate(x)])
    flat = RecurrentLIF(4, decay=0.5)
    flat.load_state_dict(neuron.state_dict())
    ref = torch.stack([flat(x_t.reshape(14, 4), init=(t == 0)) for t, x_t in enumerate(x)])
    assert torch.equal(out.reshape(5, 14, 4), ref)


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


def ref_layer(
    xs: list[Tensor], p: Mapping[str, Tensor], reset: str, dense: bool, k: float
) -> list[Tensor]:
    """The recurrent LIF in plain torch ops over per-step inputs ``xs``."""
    a, theta, w = torch.sigmoid(p["decay_logit"]), p["threshold"], p["recurrent_weight"]
    v = s = torch.zeros_like(xs[0])
    out = []
    for x in xs:
        r = {"zero": v * (1 - s), "subtract": v - theta * s, "none": v}[reset]
        feedback = torch.einsum("jk,nk->nj", w, s) if dense else w * s
        v = a * r + x + feedback
        s = RefSpike.apply(v - theta, k)
        out.append(s)
    return out


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("recurrent", ["dense", "one_to_one"])
def test_bptt_gradients_match_a_plain_torch_loop(reset: str, recurrent: str) -> None:
    torch.manual_seed(0)
    k = 4.0

    def neuron(size: int) -> RecurrentLIF:
        layer = RecurrentLIF(
            size,
            recurrent,
            tau=torch.linspace(2.0, 6.0, size),
            threshold=torch.linspace(0.5, 1.0, size),
            reset=reset,
            surrogate=Sigmoid(slope=k),
            learn_tau=True,
            learn_threshold=True,
        )
        _set_weight(layer, size, scale=0.5)
        return layer

    fc1, n1, fc2, n2 = nn.Linear(4, 6), neuron(6), nn.Linear(6, 3), neuron(3)
    with torch.no_grad():  # enough drive for the second layer to spike now and then
        fc2.weight.mul_(2.0).add_(0.3)
    net = SpikingNet(nn.Sequential(fc1, n1, fc2, n2), 3).double()
    x = (torch.rand(5, 10, 4, dtype=torch.float64) * 1.5).requires_grad_()
    weights = torch.randn(5, 10, 3, dtype=torch.float64)
    leaves = [x, *net.parameters()]
    assert len(leaves) == 1 + 2 * 2 + 2 * 3  # input, 2 linear layers, 3 learned per layer

    out = net(x)
    got = torch.autograd.grad((out * weights).sum(), leaves)

    dense = recurrent == "dense"
    p1, p2 = dict(n1.named_parameters()), dict(n2.named_parameters())
    h = ref_layer([fc1(x_t) for x_t in x.unbind(1)], p1, reset, dense, k)
    ref_out = torch.stack(ref_layer([fc2(s) for s in h], p2, reset, dense, k), 1)
    want = torch.autograd.grad((ref_out * weights).sum(), leaves)

    assert torch.equal(out, ref_out)
    assert 0.05 < float(torch.stack(h).detach().mean()) < 0.95
    assert 0.05 < float(out.detach().mean()) < 0.95
    for g, r in zip(got, want, strict=True):
        assert float(r.abs().sum()) > 0
        assert float((g - r).norm() / r.norm()) <= 1e-6


# -- learning ------------------------------------------------------------------------------


@pytest.mark.parametrize("recurrent", ["dense", "one_to_one"])
def test_learned_parameters_get_gradients_and_move(recurrent: str) -> None:
    neuron = RecurrentLIF(
        3, recurrent, tau=torch.tensor([2.0, 4.0, 8.0]), learn_tau=True, learn_threshold=True
    )
    _set_weight(neuron, 0, scale=0.5)
    names = sorted(n for n, _ in neuron.named_parameters())
    assert names == ["decay_logit", "recurrent_weight", "threshold"]
    before = {n: p.detach().clone() for n, p in neuron.named_parameters()}
    optimizer = torch.optim.SGD(neuron.parameters(), lr=0.1)
    x = torch.rand(12, 4, 3, generator=torch.Generator().manual_seed(0)) * 1.2
    out = torch.stack([neuron(x_t, init=(t == 0)) for t, x_t in enumerate(x)])
    out.sum().backward()
    for name, p in neuron.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name
    optimizer.step()
    for name, p in neuron.named_parameters():
        assert not torch.equal(p, before[name]), name


def test_decay_stays_in_open_interval_under_huge_steps() -> None:
    torch.manual_seed(0)
    neuron = RecurrentLIF(3, tau=4.0, learn_tau=True, learn_threshold=True)
    optimizer = torch.optim.SGD(neuron.parameters(), lr=1e3)
    gen = torch.Generator().manual_seed(0)
    for step in range(100):
        x = torch.rand(6, 4, 3, generator=gen)
        out = torch.stack([neuron(x_t, init=(t == 0)) for t, x_t in enumerate(x)])
        sign = 1.0 if step % 3 else -1.0  # push both ways
        optimizer.zero_grad()
        (sign * out.sum() + sign * neuron.state.v.sum()).backward()
        optimizer.step()
        decay = neuron.decay
        assert isinstance(decay, Tensor) and 0 < float(decay.detach()) < 1
    assert torch.isfinite(neuron.state.v).all()


# -- parameters, dtypes, repr --------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_dtype_follows_input(dtype: torch.dtype) -> None:
    neurons = [
        RecurrentLIF(3),
        RecurrentLIF(3, "one_to_one", tau=torch.tensor([2.0, 4.0, 8.0])),
        RecurrentLIF(recurrent="one_to_one", learn_tau=True, learn_threshold=True),
    ]
    for neuron in neurons:
        x = torch.full((2, 3), 0.75, dtype=dtype, requires_grad=True)
        s = sum(neuron(x, init=(t == 0)) for t in range(4))
        assert isinstance(s, Tensor) and s.dtype == dtype
        assert all(t.dtype == dtype for t in neuron.state)
        s.sum().backward()
        assert x.grad is not None and x.grad.dtype == dtype
        assert neuron.recurrent_weight.grad is not None


def test_to_moves_buffers_and_state_dict_round_trip() -> None:
    neuron = RecurrentLIF(2, tau=torch.tensor([2.0, 4.0]), threshold=torch.tensor([1.0, 0.5]))
    assert set(dict(neuron.named_buffers())) == {"_decay", "threshold"}
    neuron.to(torch.float64)
    assert all(t.dtype == torch.float64 for t in [*neuron.buffers(), *neuron.parameters()])
    clone = RecurrentLIF(2, tau=torch.ones(2), threshold=torch.ones(2))
    clone.load_state_dict(neuron.state_dict())
    assert torch.equal(clone.recurrent_weight, neuron.recurrent_weight.float())
    x = _inputs(7, (10, 3, 2)).float()
    np.testing.assert_array_equal(run(clone, x)[0], run(neuron.float(), x)[0])


def test_repr() -> None:
    assert repr(RecurrentLIF(5, tau=4.0)) == (
        "RecurrentLIF(size=5, recurrent='dense', tau=4.0, decay=0.7788, threshold=1.0, "
        "reset='zero', surrogate=Sigmoid(slope=5.0))"
    )
    text = repr(RecurrentLIF((2, 3), "one_to_one", learn_tau=True))
    assert text.startswith("RecurrentLIF(size=(2, 3), recurrent='one_to_one', tau=8.0")
    assert text.endswith("learn_tau=True)")


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((), {}, ValueError, r"RecurrentLIF\(recurrent='dense'\) needs size=F"),
        ((None, "dense"), {}, ValueError, r"needs size=F"),
        ((0,), {}, ValueError, r"size must be a positive int, got 0"),
        ((2.5,), {}, ValueError, r"size must be a positive int, got 2.5"),
        (((2, 3),), {}, ValueError, r"size must be a positive int, got \(2, 3\)"),
        (
            ((2, -1), "one_to_one"),
            {},
            ValueError,
            r"size must be a positive int or a tuple of them, got \(2, -1\)",
        ),
        ((4, "sparse"), {}, ValueError, "recurrent must be one of 'dense', 'one_to_one'"),
        ((4,), {"tau": -1.0}, ValueError, "tau must be positive, got -1.0"),
        ((4,), {"decay": 1.5}, ValueError, r"decay must lie in \(0, 1\], got 1.5"),
        ((4,), {"surrogate": "erf"}, ValueError, "unknown surrogate 'erf'"),
        ((4,), {"reset": "soft"}, ValueError, "reset must be one of"),
        (
            (4,),
            {"threshold": torch.ones(3)},
            ValueError,
            r"RecurrentLIF: threshold of shape \(3,\) does not broadcast to the feature shape "
            r"\(4,\)",
        ),
        (
            ((2, 3), "one_to_one"),
            {"tau": torch.ones(2)},
            ValueError,
            r"decay of shape \(2,\) does not broadcast to the feature shape \(2, 3\)",
        ),
    ],
)
def test_bad_parameters(
    args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        RecurrentLIF(*args, **kwargs)


def test_input_shape_errors() -> None:
    with pytest.raises(
        ValueError,
        match=r"RecurrentLIF\(size=5, recurrent='dense'\) expects features \(N, 5\): the "
        r"input's last dimension must be 5, got shape \(2, 7\)",
    ):
        RecurrentLIF(5)(torch.zeros(2, 7))
    with pytest.raises(ValueError, match=r"recurrent_weight of shape \(3,\) does not broadcast"):
        RecurrentLIF(3, "one_to_one")(torch.zeros(2, 4))
    lazy = RecurrentLIF(recurrent="one_to_one")
    lazy(torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"recurrent_weight of shape \(4,\) does not broadcast"):
        lazy(torch.zeros(2, 5))
    with pytest.raises(TypeError, match="expects a floating-point input"):
        RecurrentLIF(3)(torch.zeros(2, 3, dtype=torch.long))
