"""The IF module: trajectories, state protocol, gradients, parameters, errors, dtypes."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch

from spikingtorch.surrogate import ATan, Sigmoid
from spikingtorch_neurons import IF
from spikingtorch_neurons.functional import IFState

RESETS = ["zero", "subtract", "none"]
Reference = Callable[..., tuple[np.ndarray, np.ndarray]]  # the `ref` fixture (conftest.py)
Runner = Callable[[torch.nn.Module, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def _inputs(seed: int = 0, shape: tuple[int, ...] = (16, 3, 5)) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=gen, dtype=torch.float64) * 1.1 - 0.1


def test_by_hand(run_neuron: Runner) -> None:
    # theta = 0.5, zero reset, x = 0.25, 0.5, 0.125, 0.5 (exact in binary):
    # v = .25, .75 (spike), 0 + .125 = .125, .625 (spike)
    x = torch.tensor([0.25, 0.5, 0.125, 0.5], dtype=torch.float64).view(4, 1, 1)
    s, v = run_neuron(IF(threshold=0.5), x)
    assert v.flatten().tolist() == [0.25, 0.75, 0.125, 0.625]
    assert s.flatten().tolist() == [0.0, 1.0, 0.0, 1.0]


@pytest.mark.parametrize("reset", RESETS)
@pytest.mark.parametrize("threshold", [1.0, 0.7])
def test_matches_reference(
    reset: str, threshold: float, ref: Reference, run_neuron: Runner
) -> None:
    x = _inputs()
    s, v = run_neuron(IF(threshold=threshold, reset=reset), x)
    v_ref, s_ref = ref(x.numpy(), threshold=threshold, reset=reset)
    np.testing.assert_allclose(v.numpy(), v_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(s.numpy(), s_ref)
    assert 0 < s_ref.mean() < 1


@pytest.mark.parametrize("reset", RESETS)
def test_per_neuron_threshold(reset: str, ref: Reference, run_neuron: Runner) -> None:
    x = _inputs(1)
    theta = torch.tensor([0.3, 0.6, 1.0, 1.5, 2.5])
    s, v = run_neuron(IF(threshold=theta, reset=reset), x)
    v_ref, s_ref = ref(x.numpy(), threshold=theta.double().numpy(), reset=reset)
    np.testing.assert_allclose(v.numpy(), v_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(s.numpy(), s_ref)


def test_init_resets_state() -> None:
    neuron = IF()
    x = torch.full((2, 3), 0.6)
    assert neuron(x, init=True).sum() == 0  # v = .6
    assert neuron(x).sum() == 6  # v = 1.2
    assert neuron(x, init=True).sum() == 0  # fresh start again: v = .6
    assert torch.equal(neuron.state.v, x)
    neuron.reset_state()
    assert neuron.state is None
    assert neuron(x).sum() == 0  # no state: starts fresh


def test_new_shape_reinitialises() -> None:
    neuron = IF()
    neuron(torch.full((2, 3), 0.6))
    assert neuron(torch.full((4, 3), 0.6)).sum() == 0
    assert neuron.state.v.shape == (4, 3)


def test_state_type() -> None:
    neuron = IF()
    neuron(torch.zeros(2, 3))
    assert isinstance(neuron.state, IFState)


def test_gradient_flows_to_input() -> None:
    surrogate = ATan()
    x = torch.tensor([[0.3, 1.4]], requires_grad=True)
    s = IF(threshold=1.0, surrogate=surrogate)(x, init=True)
    s.sum().backward()
    assert x.grad is not None
    assert torch.allclose(x.grad, surrogate.derivative(x.detach() - 1.0))


def test_gradient_through_time() -> None:
    x = torch.rand(8, 4, 6, requires_grad=True)
    neuron = IF(threshold=0.8)
    out = torch.stack([neuron(x_t, init=(t == 0)) for t, x_t in enumerate(x.unbind(0))])
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert (x.grad[0] != 0).any()  # the first step's input influences later spikes


def test_learn_threshold() -> None:
    neuron = IF(threshold=torch.tensor([0.5, 1.0]), learn_threshold=True)
    assert [n for n, _ in neuron.named_parameters()] == ["threshold"]
    neuron(torch.full((3, 2), 0.6)).sum().backward()
    assert neuron.threshold.grad is not None and (neuron.threshold.grad != 0).all()


def test_buffers_move_with_to() -> None:
    neuron = IF(threshold=torch.tensor([0.5, 1.0]))
    assert dict(neuron.named_buffers())["threshold"].dtype == torch.float32
    neuron.to(torch.float64)
    assert neuron.threshold.dtype == torch.float64  # type: ignore[union-attr]
    assert "threshold" in neuron.state_dict()


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_dtype_follows_input(dtype: torch.dtype) -> None:
    for neuron in (IF(), IF(threshold=torch.tensor([0.5, 1.0, 2.0])), IF(learn_threshold=True)):
        x = torch.full((2, 3), 0.75, dtype=dtype, requires_grad=True)
        s1 = neuron(x, init=True)
        s2 = neuron(x)
        assert s1.dtype == s2.dtype == dtype
        assert neuron.state.v.dtype == neuron.state.s.dtype == dtype
        (s1 + s2).sum().backward()
        assert x.grad is not None and x.grad.dtype == dtype


def test_bfloat16_matches_float32() -> None:
    x = (torch.arange(8 * 4, dtype=torch.float32).view(8, 1, 4) % 5) / 4  # exact in bfloat16
    out = {}
    for dtype in (torch.float32, torch.bfloat16):
        neuron = IF(reset="subtract")
        out[dtype] = [neuron(x_t.to(dtype), init=(t == 0)).float() for t, x_t in enumerate(x)]
    assert all(
        torch.equal(a, b) for a, b in zip(out[torch.float32], out[torch.bfloat16], strict=True)
    )


def test_scan_matches_steps(run_neuron: Runner) -> None:
    x = _inputs(2)
    neuron = IF(reset="subtract", threshold=0.6)
    s_seq, state = neuron.scan(x)
    s_steps, v_steps = run_neuron(neuron, x)
    assert torch.equal(s_seq, s_steps)
    assert torch.equal(state.v, v_steps[-1])


def test_repr() -> None:
    assert repr(IF()) == "IF(threshold=1.0, reset='zero', surrogate=Sigmoid(slope=5.0))"
    text = repr(IF(torch.ones(4), "subtract", "atan", True, learn_threshold=True))
    assert text == (
        "IF(threshold=tensor(shape=(4,)), reset='subtract', surrogate=ATan(alpha=2.0), "
        "detach_reset=True, learn_threshold=True)"
    )


def test_surrogate_argument() -> None:
    assert IF().surrogate == Sigmoid(slope=5.0)
    assert IF(surrogate="superspike").surrogate.get_params() == {"slope": 25.0}
    s = ATan(alpha=4.0)
    assert IF(surrogate=s).surrogate is s


# -- errors --------------------------------------------------------------------------------


def test_bad_reset() -> None:
    with pytest.raises(
        ValueError, match="reset must be one of 'zero', 'subtract', 'none', got 'hard'"
    ):
        IF(reset="hard")
    with pytest.raises(TypeError, match="reset must be one of .* got NoneType"):
        IF(reset=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_threshold(bad: float) -> None:
    with pytest.raises(ValueError, match="threshold must be finite"):
        IF(threshold=bad)
    with pytest.raises(ValueError, match="threshold must be finite"):
        IF(threshold=torch.tensor([1.0, bad]))


def test_bad_threshold_type() -> None:
    with pytest.raises(TypeError, match="threshold must be a float or a tensor, got str"):
        IF(threshold="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="threshold must be a real tensor, got dtype torch.bool"):
        IF(threshold=torch.tensor([True]))


def test_integer_threshold_tensor_becomes_float() -> None:
    neuron = IF(threshold=torch.tensor([1, 2]))
    assert neuron.threshold.dtype == torch.get_default_dtype()  # type: ignore[union-attr]


def test_bad_surrogate() -> None:
    with pytest.raises(ValueError, match="unknown surrogate 'gauss'"):
        IF(surrogate="gauss")
    with pytest.raises(TypeError, match="SurrogateFunction or a name"):
        IF(surrogate=torch.sigmoid)  # type: ignore[arg-type]


def test_threshold_shape_mismatch() -> None:
    neuron = IF(threshold=torch.ones(3))
    with pytest.raises(
        ValueError, match=r"threshold of shape \(3,\) does not broadcast to .*\(2, 4\)"
    ):
        neuron(torch.zeros(2, 4))


def test_integer_input() -> None:
    with pytest.raises(TypeError, match="floating-point input, got dtype torch.int64"):
        IF()(torch.ones(2, 3, dtype=torch.long))
