"""The LIF module: trajectories, time constants, learning, errors, dtypes."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch

from spikingtorch.surrogate import FastSigmoid
from spikingtorch_neurons import LIF
from spikingtorch_neurons.functional import LIFState

RESETS = ["zero", "subtract", "none"]
Reference = Callable[..., tuple[np.ndarray, np.ndarray]]  # the `ref` fixture (conftest.py)
Runner = Callable[[torch.nn.Module, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def _inputs(seed: int = 0, shape: tuple[int, ...] = (24, 3, 5)) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=gen, dtype=torch.float64) * 0.9 - 0.1


def test_by_hand(run_neuron: Runner) -> None:
    # a = 0.5, theta = 1, subtract reset, constant x = 1 (exact in binary):
    # v = 1.0 (no spike: not > 1), .5 + 1 = 1.5 (spike), .5 * (1.5 - 1) + 1 = 1.25 (spike),
    #     .5 * .25 + 1 = 1.125 (spike)
    x = torch.ones(4, 1, 1, dtype=torch.float64)
    s, v = run_neuron(LIF(decay=0.5, reset="subtract"), x)
    assert v.flatten().tolist() == [1.0, 1.5, 1.25, 1.125]
    assert s.flatten().tolist() == [0.0, 1.0, 1.0, 1.0]
    # zero reset, theta = 0.75, input_scale 0.5, x = 1: v = .5, .25 + .5 = .75 (not > .75),
    #     .375 + .5 = .875 (spike), 0 + .5 = .5
    s, v = run_neuron(LIF(decay=0.5, threshold=0.75, input_scale=0.5), x)
    assert v.flatten().tolist() == [0.5, 0.75, 0.875, 0.5]
    assert s.flatten().tolist() == [0.0, 0.0, 1.0, 0.0]


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize(("tau", "decay"), [(5.0, None), (None, 0.7), (None, 1.0)])
@pytest.mark.parametrize("input_scale", [None, 0.5])
def test_matches_reference(
    reset: str,
    tau: float | None,
    decay: float | None,
    input_scale: float | None,
    ref: Reference,
    run_neuron: Runner,
) -> None:
    x = _inputs()
    neuron = LIF(tau, decay=decay, threshold=0.8, reset=reset, input_scale=input_scale)
    a = np.exp(-1.0 / tau) if tau is not None else decay
    b = 1.0 if input_scale is None else input_scale
    s, v = run_neuron(neuron, x)
    v_ref, s_ref = ref(x.numpy(), decay=a, scale=b, threshold=0.8, reset=reset)
    np.testing.assert_allclose(v.numpy(), v_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(s.numpy(), s_ref)
    assert 0 < s_ref.mean() < 1


@pytest.mark.parametrize("reset", RESETS)
def test_per_neuron_parameters(reset: str, ref: Reference, run_neuron: Runner) -> None:
    x = _inputs(1)
    tau = torch.tensor([1.0, 2.0, 4.0, 8.0, 100.0], dtype=torch.float64)
    theta = torch.tensor([0.2, 0.5, 1.0, 1.5, 3.0], dtype=torch.float64)
    scale = torch.tensor([[1.0], [0.5], [2.0]], dtype=torch.float64)  # broadcasts to (3, 5)
    neuron = LIF(tau, threshold=theta, reset=reset, input_scale=scale)
    s, v = run_neuron(neuron, x)
    v_ref, s_ref = ref(
        x.numpy(),
        decay=np.exp(-1.0 / tau.numpy()),
        scale=scale.numpy(),
        threshold=theta.numpy(),
        reset=reset,
    )
    np.testing.assert_allclose(v.numpy(), v_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(s.numpy(), s_ref)


def test_default_tau_and_decay() -> None:
    neuron = LIF()
    assert neuron.decay == math.exp(-1 / 8)
    assert neuron.tau == pytest.approx(8.0)
    assert LIF(decay=0.25).decay == 0.25
    assert LIF(decay=1.0).tau == math.inf
    assert LIF(2.0).decay == math.exp(-0.5)
    t = LIF(torch.tensor([2.0, 4.0])).tau
    assert isinstance(t, torch.Tensor) and torch.allclose(t, torch.tensor([2.0, 4.0]))


def test_init_resets_state() -> None:
    neuron = LIF(decay=0.5)
    x = torch.ones(2, 3)
    neuron(x, init=True)
    assert neuron(x).sum() == 6  # v = 1.5
    neuron(x, init=True)
    assert torch.equal(neuron.state.v, x)  # fresh: v = x
    assert isinstance(neuron.state, LIFState)


def test_gradient_flows_to_input() -> None:
    surrogate = FastSigmoid(slope=2.0)
    x = torch.tensor([[0.3, 1.4]], requires_grad=True)
    neuron = LIF(decay=0.5, input_scale=3.0, threshold=1.0, surrogate=surrogate)
    neuron(x, init=True).sum().backward()
    assert x.grad is not None
    assert torch.allclose(x.grad, 3.0 * surrogate.derivative(3.0 * x.detach() - 1.0))


def test_learn_tau_and_threshold_get_gradients() -> None:
    neuron = LIF(torch.tensor([2.0, 4.0, 8.0]), learn_tau=True, learn_threshold=True)
    assert sorted(n for n, _ in neuron.named_parameters()) == ["decay_logit", "threshold"]
    assert torch.allclose(neuron.tau, torch.tensor([2.0, 4.0, 8.0]))  # type: ignore[arg-type]
    x = torch.rand(6, 4, 3) * 0.8
    out = torch.stack([neuron(x_t, init=(t == 0)) for t, x_t in enumerate(x)])
    out.sum().backward()
    assert neuron.decay_logit.grad is not None and (neuron.decay_logit.grad != 0).all()
    assert neuron.threshold.grad is not None  # type: ignore[union-attr]


@pytest.mark.parametrize("push", [1e6, -1e6, 1e30, -1e30])
def test_learned_decay_stays_in_open_interval(push: float) -> None:
    neuron = LIF(tau=4.0, learn_tau=True)
    optimizer = torch.optim.SGD(neuron.parameters(), lr=1.0)
    # A real loss first: more spikes wanted, which pushes the decay up.
    x = torch.full((5, 2, 3), 0.3)
    out = torch.stack([neuron(x_t, init=(t == 0)) for t, x_t in enumerate(x)])
    (-out.sum() * 1e4).backward()
    optimizer.step()
    decay = neuron.decay
    assert isinstance(decay, torch.Tensor) and 0 < decay.item() < 1
    # Then an absurd step in either direction.
    neuron.decay_logit.grad = torch.tensor(push)
    optimizer.step()
    decay = neuron.decay
    assert isinstance(decay, torch.Tensor) and 0 < decay.item() < 1
    s = neuron(torch.ones(2, 3), init=True)
    assert torch.isfinite(neuron.state.v).all() and s.shape == (2, 3)


def test_buffers_and_state_dict() -> None:
    neuron = LIF(
        torch.tensor([2.0, 4.0]), threshold=torch.tensor([1.0, 0.5]), input_scale=torch.ones(2)
    )
    assert set(dict(neuron.named_buffers())) == {"_decay", "threshold", "input_scale"}
    neuron.to(torch.float64)
    assert neuron.decay.dtype == torch.float64  # type: ignore[union-attr]
    clone = LIF(torch.tensor([1.0, 1.0]), threshold=torch.zeros(2), input_scale=torch.zeros(2))
    clone.load_state_dict(neuron.state_dict())
    assert torch.equal(clone.threshold, torch.tensor([1.0, 0.5]))  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_dtype_follows_input(dtype: torch.dtype) -> None:
    neurons = [
        LIF(),
        LIF(torch.tensor([2.0, 4.0, 8.0]), threshold=torch.tensor([0.5, 1.0, 2.0])),
        LIF(learn_tau=True, learn_threshold=True, input_scale=2.0),
    ]
    for neuron in neurons:
        x = torch.full((2, 3), 0.75, dtype=dtype, requires_grad=True)
        s1 = neuron(x, init=True)
        s2 = neuron(x)
        assert s1.dtype == s2.dtype == dtype
        assert neuron.state.v.dtype == neuron.state.s.dtype == dtype
        (s1 + s2).sum().backward()
        assert x.grad is not None and x.grad.dtype == dtype


def test_float64_input_with_float32_per_neuron_tau(ref: Reference, run_neuron: Runner) -> None:
    x = _inputs(3)
    tau = torch.tensor([1.0, 2.0, 4.0, 8.0, 16.0])  # float32: decay rounded to float32
    _, v = run_neuron(LIF(tau, reset="subtract", threshold=0.5), x)
    assert v.dtype == torch.float64
    a = np.exp(-1.0 / tau.numpy().astype(np.float64))
    v_ref, _ = ref(x.numpy(), decay=a, threshold=0.5, reset="subtract")
    np.testing.assert_allclose(v.numpy(), v_ref, rtol=1e-5, atol=1e-6)


def test_repr() -> None:
    assert repr(LIF()) == (
        "LIF(tau=8.0, decay=0.8825, threshold=1.0, reset='zero', surrogate=Sigmoid(slope=5.0))"
    )
    text = repr(LIF(decay=0.5, input_scale=2.0, learn_tau=True, detach_reset=True))
    assert text == (
        "LIF(tau=1.443, decay=0.5, threshold=1.0, reset='zero', surrogate=Sigmoid(slope=5.0), "
        "input_scale=2.0, detach_reset=True, learn_tau=True)"
    )


# -- errors --------------------------------------------------------------------------------


def test_tau_and_decay_both() -> None:
    with pytest.raises(ValueError, match=r"give tau or decay, not both \(got tau=4.0, decay=0.5\)"):
        LIF(4.0, decay=0.5)


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_non_positive_tau(bad: float) -> None:
    with pytest.raises(ValueError, match=f"tau must be positive, got {bad!r}"):
        LIF(bad)
    with pytest.raises(ValueError, match="tau must be positive"):
        LIF(torch.tensor([1.0, bad]))


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_tau(bad: float) -> None:
    with pytest.raises(ValueError, match="tau must be finite"):
        LIF(bad)


@pytest.mark.parametrize("bad", [0.0, -0.5, 1.5, math.nan, math.inf])
def test_decay_outside_unit_interval(bad: float) -> None:
    with pytest.raises(ValueError, match=r"decay must (lie in \(0, 1\]|be finite)"):
        LIF(decay=bad)
    with pytest.raises(ValueError, match=r"decay must (lie in \(0, 1\]|be finite)"):
        LIF(decay=torch.tensor([0.5, bad]))


def test_learn_tau_needs_leak() -> None:
    with pytest.raises(ValueError, match=r"learn_tau needs a decay strictly inside \(0, 1\)"):
        LIF(decay=1.0, learn_tau=True)


def test_bad_types() -> None:
    with pytest.raises(TypeError, match="tau must be a float or a tensor, got str"):
        LIF("8")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="decay must be a float or a tensor, got list"):
        LIF(decay=[0.5])  # type: ignore[arg-type]


def test_other_bad_arguments() -> None:
    with pytest.raises(ValueError, match="reset must be one of 'zero', 'subtract', 'none'"):
        LIF(reset="reset_to_zero")
    with pytest.raises(ValueError, match="threshold must be finite"):
        LIF(threshold=math.nan)
    with pytest.raises(ValueError, match="input_scale must be finite"):
        LIF(input_scale=math.inf)
    with pytest.raises(ValueError, match="unknown surrogate 'erf'"):
        LIF(surrogate="erf")
    with pytest.raises(TypeError, match="surrogate must be a SurrogateFunction or a name"):
        LIF(surrogate=1.0)  # type: ignore[arg-type]


def test_parameter_shape_mismatch() -> None:
    neuron = LIF(torch.tensor([2.0, 4.0, 8.0]))
    with pytest.raises(ValueError, match=r"decay of shape \(3,\) does not broadcast to .*\(2, 4\)"):
        neuron(torch.zeros(2, 4))
