"""The pure step functions of spikingtorch_neurons.functional."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from spikingtorch.surrogate import ATan, Sigmoid
from spikingtorch_neurons.functional import (
    RESET_MODES,
    IFState,
    LIFState,
    check_reset,
    if_step,
    lif_step,
    reset_membrane,
)

RESETS = ["zero", "subtract", "none"]
Reference = Callable[..., tuple[np.ndarray, np.ndarray]]  # the `ref` fixture (conftest.py)


def _if_run(x: torch.Tensor, **kw: object) -> tuple[list[float], list[float]]:
    state = IFState.zeros_like(x[0])
    vs, ss = [], []
    for x_t in x:
        s, state = if_step(x_t, state, **kw)  # type: ignore[arg-type]
        vs.append(state.v.item())
        ss.append(s.item())
    return vs, ss


def _lif_run(x: torch.Tensor, **kw: object) -> tuple[list[float], list[float]]:
    state = LIFState.zeros_like(x[0])
    vs, ss = [], []
    for x_t in x:
        s, state = lif_step(x_t, state, **kw)  # type: ignore[arg-type]
        vs.append(state.v.item())
        ss.append(s.item())
    return vs, ss


def test_if_by_hand() -> None:
    # theta = 1, constant x = 0.75 (all values exact in binary):
    # zero:     v = .75, 1.5 (spike), 0 + .75, 1.5 (spike)
    # subtract: v = .75, 1.5 (spike), 1.5 - 1 + .75 = 1.25 (spike), .25 + .75 = 1.0 (v == theta:
    #           no spike), 1.75 (spike), .75 + .75 = 1.5 (spike)
    # none:     v = .75, 1.5, 2.25, ... spiking from the second step on
    x = torch.full((6,), 0.75, dtype=torch.float64)
    assert _if_run(x[:4], reset="zero") == ([0.75, 1.5, 0.75, 1.5], [0, 1, 0, 1])
    assert _if_run(x, reset="subtract") == (
        [0.75, 1.5, 1.25, 1.0, 1.75, 1.5],
        [0, 1, 1, 0, 1, 1],
    )
    assert _if_run(x[:3], reset="none") == ([0.75, 1.5, 2.25], [0, 1, 1])


def test_lif_by_hand() -> None:
    # a = 0.5, theta = 1, x = 1.0 (exact in binary):
    # zero:     v = 1.0 (no spike: not > 1), .5 + 1 = 1.5 (spike), 0 + 1 = 1.0, 1.5 (spike)
    # subtract: v = 1.0, 1.5 (spike), .5 * (1.5 - 1) + 1 = 1.25 (spike), .5 * .25 + 1 = 1.125
    #           (spike), .5 * .125 + 1 = 1.0625 (spike)
    # none, theta = 1.5: v = 1, 1.5 (not > 1.5), 1.75 (spike), 1.875 (spike)
    x = torch.ones(5, dtype=torch.float64)
    assert _lif_run(x[:4], decay=0.5) == ([1.0, 1.5, 1.0, 1.5], [0, 1, 0, 1])
    assert _lif_run(x, decay=0.5, reset="subtract") == (
        [1.0, 1.5, 1.25, 1.125, 1.0625],
        [0, 1, 1, 1, 1],
    )
    assert _lif_run(x[:4], decay=0.5, threshold=1.5, reset="none") == (
        [1.0, 1.5, 1.75, 1.875],
        [0, 0, 1, 1],
    )
    # input_scale b = 2, x = 0.5, zero reset: v = 1.0, .5 + 1 = 1.5 (spike), 1.0, 1.5 (spike)
    assert _lif_run(x[:4] / 2, decay=0.5, input_scale=2.0) == ([1.0, 1.5, 1.0, 1.5], [0, 1, 0, 1])


@pytest.mark.parametrize("reset", RESETS)
def test_steps_match_numpy_reference(reset: str, ref: Reference) -> None:
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(20, 3, 4, generator=gen, dtype=torch.float64) * 1.2 - 0.1
    theta = torch.tensor([0.5, 1.0, 1.5, 2.0], dtype=torch.float64)  # per neuron
    decay = torch.tensor([0.3, 0.9, 1.0, 0.6], dtype=torch.float64)
    v_ref, s_ref = ref(
        x.numpy(), decay=decay.numpy(), scale=0.7, threshold=theta.numpy(), reset=reset
    )
    st = LIFState.zeros_like(x[0])
    vs, ss = [], []
    for x_t in x:
        s, st = lif_step(x_t, st, decay=decay, threshold=theta, input_scale=0.7, reset=reset)
        vs.append(st.v)
        ss.append(s)
    np.testing.assert_allclose(torch.stack(vs).numpy(), v_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(torch.stack(ss).numpy(), s_ref)
    assert s_ref.sum() > 10  # the test exercises resets

    v_ref, s_ref = ref(x.numpy(), threshold=0.8, reset=reset)
    ist = IFState.zeros_like(x[0])
    vs, ss = [], []
    for x_t in x:
        s, ist = if_step(x_t, ist, threshold=0.8, reset=reset)
        vs.append(ist.v)
        ss.append(s)
    np.testing.assert_allclose(torch.stack(vs).numpy(), v_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(torch.stack(ss).numpy(), s_ref)


def test_state_keeps_pre_reset_membrane() -> None:
    s, st = if_step(torch.tensor([1.5]), IFState.zeros_like(torch.zeros(1)))
    assert s.item() == 1.0 and st.v.item() == 1.5 and st.s.item() == 1.0


def test_reset_membrane() -> None:
    v = torch.tensor([2.0, 0.5])
    s = torch.tensor([1.0, 0.0])
    assert reset_membrane(v, s, 1.5, "zero").tolist() == [0.0, 0.5]
    assert reset_membrane(v, s, 1.5, "subtract").tolist() == [0.5, 0.5]
    assert reset_membrane(v, s, 1.5, "none").tolist() == [2.0, 0.5]
    with pytest.raises(ValueError, match="reset must be one of"):
        reset_membrane(v, s, 1.5, "hard")


@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_detach_reset(reset: str) -> None:
    # two IF steps, x2 = 0: v2 = r(v1, s1) with v1 = x1 > theta.
    # zero:      v2 = (1 - s1) v1        -> dv2/dx1 = (1 - s1) - v1 d(v1 - theta)
    # subtract:  v2 = v1 - theta s1      -> dv2/dx1 = 1 - theta d(v1 - theta)
    # detach_reset drops the d(...) term.
    f = ATan()
    theta, x1 = 1.0, 1.2
    d = f.derivative(torch.tensor(x1 - theta, dtype=torch.float64)).item()
    for detach in (False, True):
        x = torch.tensor([x1], dtype=torch.float64, requires_grad=True)
        state = IFState.zeros_like(x)
        _, state = if_step(x, state, threshold=theta, reset=reset, surrogate=f)
        _, state = if_step(
            torch.zeros_like(x), state, reset=reset, surrogate=f, detach_reset=detach
        )
        state.v.sum().backward()
        assert x.grad is not None
        term = 0.0 if detach else d
        expected = (0.0 - x1 * term) if reset == "zero" else (1.0 - theta * term)
        assert x.grad.item() == pytest.approx(expected)


def test_surrogate_by_name_and_gradient() -> None:
    x = torch.tensor([0.3], requires_grad=True)
    s, _ = lif_step(x, LIFState.zeros_like(x), decay=0.5, surrogate="sigmoid", input_scale=2.0)
    s.backward()
    assert x.grad is not None
    assert x.grad.item() == pytest.approx(2.0 * Sigmoid().derivative(torch.tensor(-0.4)).item())


def test_check_reset() -> None:
    assert RESET_MODES == ("zero", "subtract", "none")
    for mode in RESET_MODES:
        assert check_reset(mode) == mode
    with pytest.raises(ValueError, match="'zero', 'subtract', 'none', got 'Zero'"):
        check_reset("Zero")
    with pytest.raises(TypeError, match="reset must be one of .* got int"):
        check_reset(0)


def test_states_are_namedtuples() -> None:
    x = torch.zeros(2, 3, dtype=torch.bfloat16)
    st = LIFState.zeros_like(x)
    assert st._fields == ("v", "s")
    assert st.v.shape == (2, 3) and st.v.dtype == torch.bfloat16
    assert IFState.zeros_like(x).s.dtype == torch.bfloat16
