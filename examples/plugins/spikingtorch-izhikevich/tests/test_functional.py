"""The pure step function: a hand-computed trajectory, the reset, and each preset's behaviour."""

from __future__ import annotations

import itertools

import pytest
import torch

from spikingtorch_izhikevich.functional import (
    PRESETS,
    IzhikevichState,
    izhikevich_step,
    preset,
)


def _run(name: str, current: float, steps: int, dt: float = 1.0) -> list[int]:
    """Spike times of one neuron of preset ``name`` under a constant current."""
    p = PRESETS[name]
    x = torch.tensor([current], dtype=torch.float64)
    state = IzhikevichState.resting(x, b=p.b)
    times = []
    for t in range(steps):
        s, state = izhikevich_step(x, state, a=p.a, b=p.b, c=p.c, d=p.d, dt=dt)
        if s.item():
            times.append(t)
    return times


def test_hand_computed_trajectory() -> None:
    # Regular spiking (a, b, c, d) = (0.02, 0.2, -65, 8), I = 10, dt = 1 ms, from v = -65, u = -13:
    #   v1 = -65 + (0.04 * 4225 - 325 + 140 + 13 + 10)                 = -58
    #   u1 = -13 + 0.02 * (0.2 * -65 + 13)                             = -13
    #   v2 = -58 + (0.04 * 3364 - 290 + 140 + 13 + 10)                 = -50.44
    #   u2 = -13 + 0.02 * (0.2 * -58 + 13)                             = -12.972
    #   v3 = -50.44 + (0.04 * 2544.1936 - 252.2 + 140 + 12.972 + 10)   = -37.900256
    #   u3 = -12.972 + 0.02 * (0.2 * -50.44 + 12.972)                  = -12.91432
    x = torch.tensor([10.0], dtype=torch.float64)
    state = IzhikevichState.resting(x, b=0.2)
    assert (state.v.item(), state.u.item()) == (-65.0, -13.0)
    expected = [(-58.0, -13.0), (-50.44, -12.972), (-37.900256, -12.91432)]
    for v, u in expected:
        s, state = izhikevich_step(x, state, a=0.02, b=0.2, c=-65.0, d=8.0)
        assert s.item() == 0.0
        assert state.v.item() == pytest.approx(v, abs=1e-9)
        assert state.u.item() == pytest.approx(u, abs=1e-9)


def test_spike_resets_v_to_c_and_bumps_u_by_d() -> None:
    # From v = 20, u = 0 with no input: v' = 20 + (16 + 100 + 140) = 276 > 30, a spike.
    x = torch.zeros(1, dtype=torch.float64)
    state = IzhikevichState(torch.tensor([20.0], dtype=torch.float64), torch.zeros(1).double())
    s, new = izhikevich_step(x, state, a=0.02, b=0.2, c=-50.0, d=2.0)
    assert s.item() == 1.0
    assert new.v.item() == -50.0
    assert new.u.item() == pytest.approx(0.02 * 0.2 * 20.0 + 2.0)  # u' = dt a (b v - u), + d


def test_dt_and_input_scale() -> None:
    x = torch.tensor([5.0], dtype=torch.float64)
    state = IzhikevichState.resting(x, b=0.2)
    _, half = izhikevich_step(x, state, dt=0.5, input_scale=2.0)
    assert half.v.item() == pytest.approx(-65.0 + 0.5 * (-3.0 + 10.0))


def test_below_rheobase_stays_silent_and_settles() -> None:
    assert _run("regular_spiking", 0.0, 300) == []
    assert _run("regular_spiking", 3.0, 300) == []


def test_fast_spiking_fires_more_than_regular_spiking() -> None:
    rs = _run("regular_spiking", 10.0, 200)
    fs = _run("fast_spiking", 10.0, 200)
    assert len(rs) >= 3
    assert len(fs) > 2 * len(rs)


def test_regular_spiking_adapts() -> None:
    times = _run("regular_spiking", 10.0, 200)
    isi = [b - a for a, b in itertools.pairwise(times)]
    assert isi[0] < isi[-1]  # the first interval is the shortest: spike-frequency adaptation


def _bursts(times: list[int], gap: int = 10) -> list[list[int]]:
    groups: list[list[int]] = []
    for t in times:
        if groups and t - groups[-1][-1] <= gap:
            groups[-1].append(t)
        else:
            groups.append([t])
    return groups


def test_chattering_fires_bursts() -> None:
    bursts = _bursts(_run("chattering", 10.0, 200))
    assert len(bursts) >= 3
    assert all(len(b) >= 3 for b in bursts[:3])  # repeated bursts of several spikes ...
    intervals = [b[0] - a[-1] for a, b in itertools.pairwise(bursts)]
    assert min(intervals) > 30  # ... separated by long pauses


def test_intrinsically_bursting_starts_with_a_burst_then_single_spikes() -> None:
    bursts = _bursts(_run("intrinsically_bursting", 10.0, 200))
    assert len(bursts[0]) >= 2
    assert all(len(b) == 1 for b in bursts[1:])
    assert len(bursts) >= 3


def test_every_preset_spikes_under_a_strong_current() -> None:
    for name in PRESETS:
        assert _run(name, 10.0, 100), name


def test_preset_lookup() -> None:
    assert preset("FS") is PRESETS["fast_spiking"]
    assert preset("low-threshold-spiking") is PRESETS["low_threshold_spiking"]
    assert (preset("rz").a, preset("rz").b) == (0.1, 0.26)
    with pytest.raises(ValueError, match=r"unknown Izhikevich preset 'chatering'.*'chattering'"):
        preset("chatering")
    with pytest.raises(TypeError, match="preset must be a string"):
        preset(3)  # type: ignore[arg-type]


def test_paper_table() -> None:
    table = {name: (p.a, p.b, p.c, p.d) for name, p in PRESETS.items()}
    assert table == {
        "regular_spiking": (0.02, 0.2, -65.0, 8.0),
        "intrinsically_bursting": (0.02, 0.2, -55.0, 4.0),
        "chattering": (0.02, 0.2, -50.0, 2.0),
        "fast_spiking": (0.1, 0.2, -65.0, 2.0),
        "low_threshold_spiking": (0.02, 0.25, -65.0, 2.0),
        "thalamo_cortical": (0.02, 0.25, -65.0, 0.05),
        "resonator": (0.1, 0.26, -65.0, 2.0),
    }


def test_gradient_flows_through_the_surrogate() -> None:
    x = torch.full((4,), 10.0, dtype=torch.float64, requires_grad=True)
    state = IzhikevichState.resting(x.detach())
    total = torch.zeros((), dtype=torch.float64)
    for _ in range(10):
        s, state = izhikevich_step(x, state)
        total = total + s.sum()
    total.backward()
    assert x.grad is not None
    assert torch.isfinite(x.grad).all()
    assert (x.grad != 0).all()
