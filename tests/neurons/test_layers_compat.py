"""``spikingtorch.layers``: the original package's spellings and semantics on the new models."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
import torch
from torch import Tensor

import spikingtorch_neurons
from spikingtorch import layers
from spikingtorch.surrogate import Sigmoid

F64 = torch.float64


def uniform(shape: tuple[int, ...], low: float, high: float, seed: int = 0) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    return low + (high - low) * torch.rand(*shape, generator=gen, dtype=F64)


def run(neuron: Any, xs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    vs, ss = [], []
    for t, x in enumerate(xs):
        s = neuron(*x, t == 0) if isinstance(x, tuple) else neuron(x, t == 0)
        vs.append(neuron.v.detach().numpy())
        ss.append(s.detach().numpy())
    return np.stack(vs), np.stack(ss)


def no_warning(factory: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return factory(*args, **kwargs)


# -- numpy loops of the original formulas (with the H(0) = 0 fix) ----------------------------------


def np_original_lif(x: np.ndarray, a: float, b: float, v0: float) -> tuple[np.ndarray, ...]:
    v, s = np.zeros(x.shape[1:]), np.zeros(x.shape[1:])
    vs, ss = [], []
    for xt in x:
        v = (1 - s) * a * v + b * xt
        s = np.where(v > v0, 1.0, 0.0)
        vs.append(v)
        ss.append(s)
    return np.stack(vs), np.stack(ss)


def np_original_biolif(
    xe: np.ndarray, xi: np.ndarray, nudt: float, v0: float
) -> tuple[np.ndarray, ...]:
    v, s = np.zeros(xe.shape[1:]), np.zeros(xe.shape[1:])
    vs, ss = [], []
    for e, i in zip(xe, xi, strict=True):
        nu = 1 + e + i
        a = np.exp(-nudt * nu)
        v = (1 - s) * v * a + e / nu * (1 - a)
        s = np.where(v > v0, 1.0, 0.0)
        vs.append(v)
        ss.append(s)
    return np.stack(vs), np.stack(ss)


def np_original_coarse(x: np.ndarray, tau: float, v0: float) -> tuple[np.ndarray, ...]:
    a = np.exp(-1.0 / tau)
    b = tau * (1 - a)
    c = tau * (1 - b)
    v, s = np.zeros(x.shape[1:]), np.zeros(x.shape[1:])
    vs, ss = [], []
    for xt in x:
        v = (1 - s) * (a * v + b * xt) + s * c * xt
        s = np.where(v > v0, 1.0, 0.0)
        vs.append(v)
        ss.append(s)
    return np.stack(vs), np.stack(ss)


def check(got: tuple[np.ndarray, ...], ref: tuple[np.ndarray, ...]) -> None:
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got[1], ref[1])
    assert 0.02 < ref[1].mean() < 0.98


# -- imports ---------------------------------------------------------------------------------------


def test_imports() -> None:
    from spikingtorch.layers import (  # noqa: F401
        IF,
        LIF,
        BioLIF,
        CoarseLIF,
        McPitts,
        SpikingDecay,
        SpikingLayer,
    )

    assert issubclass(IF, spikingtorch_neurons.IF)
    assert issubclass(LIF, spikingtorch_neurons.LIF)
    assert issubclass(McPitts, spikingtorch_neurons.McPitts)
    assert issubclass(BioLIF, spikingtorch_neurons.BioLIF)
    assert SpikingLayer is CoarseLIF
    assert set(dir(layers)) >= set(layers.__all__)
    with pytest.raises(AttributeError, match="has no attribute 'Step'"):
        layers.Step  # noqa: B018


def test_missing_plugin_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "spikingtorch_neurons._compat", None)  # type: ignore[arg-type]
    with pytest.raises(ImportError, match="pip install spikingtorch-neurons"):
        from spikingtorch.layers import IF  # noqa: F401
    # a fresh process without the plugin at all
    code = (
        "import sys; sys.modules['spikingtorch_neurons'] = None\n"
        "try:\n    from spikingtorch.layers import LIF\n"
        "except ImportError as exc:\n    print(exc)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (
        "spikingtorch.layers.LIF is provided by the 'spikingtorch-neurons' plugin, which is not "
        "installed. Install it with: pip install spikingtorch-neurons"
    )


def test_core_import_does_not_load_the_plugin() -> None:
    code = "import sys, spikingtorch.layers; print('spikingtorch_neurons' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- IF --------------------------------------------------------------------------------------------


def test_if_old_spelling_warns_and_matches_the_new_class() -> None:
    with pytest.warns(
        DeprecationWarning,
        match=r"IF\(v0=0.5, beta=3\) .* write spikingtorch_neurons.IF\(threshold=0.5, "
        r"surrogate=Sigmoid\(slope=3.0\)\)",
    ):
        old = layers.IF(v0=0.5, beta=3)
    new = spikingtorch_neurons.IF(threshold=0.5, surrogate=Sigmoid(slope=3))
    assert repr(old) == repr(new)
    x = uniform((20, 3, 4), -0.2, 0.6).requires_grad_()
    outs, grads = [], []
    for neuron in (old, new):
        s = torch.stack([neuron(x_t, init=t == 0) for t, x_t in enumerate(x)])
        outs.append(s)
        grads.append(torch.autograd.grad((s * torch.linspace(0, 1, 4, dtype=F64)).sum(), x)[0])
    assert torch.equal(outs[0], outs[1]) and 0 < outs[0].mean() < 1
    assert torch.equal(grads[0], grads[1])


def test_if_positional_and_new_spellings() -> None:
    assert no_warning(layers.IF, 0.5).threshold == 0.5  # same meaning as the new IF(0.5)
    neuron = no_warning(layers.IF, threshold=0.5, reset="subtract", surrogate="atan")
    assert neuron.reset == "subtract"
    with pytest.warns(DeprecationWarning, match=r"IF\(beta=2\)"):
        assert layers.IF(0.5, 2).surrogate == Sigmoid(slope=2.0)  # original positional order


# -- LIF -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tau", [4.0, 8.0, None])
def test_lif_tau_keeps_the_input_scale(tau: float | None) -> None:
    neuron = no_warning(layers.LIF) if tau is None else no_warning(layers.LIF, tau=tau)
    t = 8.0 if tau is None else tau
    a = np.exp(-1.0 / t)
    b = t * (1 - a)
    assert neuron.input_scale == pytest.approx(b, rel=1e-15)
    x = uniform((24, 3, 5), -0.1, 0.5, seed=1)
    check(run(neuron, x.unbind(0)), np_original_lif(x.numpy(), a, b, 1.0))


def test_lif_decay_has_unit_input_scale() -> None:
    neuron = no_warning(layers.LIF, decay=0.8)
    assert neuron.input_scale is None and neuron.decay == 0.8
    x = uniform((24, 3, 5), -0.1, 0.5, seed=2)
    check(run(neuron, x.unbind(0)), np_original_lif(x.numpy(), 0.8, 1.0, 1.0))


def test_lif_old_spelling() -> None:
    with pytest.warns(
        DeprecationWarning,
        match=r"LIF\(v0=0.6, beta=2\) .* spikingtorch_neurons.LIF\(tau=4, threshold=0.6, "
        r"surrogate=Sigmoid\(slope=2.0\), input_scale=0.88479686",
    ):
        neuron = layers.LIF(4, 0.6, 2)  # the original's positional order
    x = uniform((24, 3, 5), -0.1, 0.5, seed=3)
    a = np.exp(-1 / 4)
    check(run(neuron, x.unbind(0)), np_original_lif(x.numpy(), a, 4 * (1 - a), 0.6))
    with pytest.warns(DeprecationWarning, match=r"tau=4 is ignored when decay is given"):
        assert layers.LIF(tau=4, decay=0.5).decay == 0.5
    with pytest.warns(DeprecationWarning, match=r"LIF\(v0=0.5\)"):
        assert layers.LIF(decay=0.5, v0=0.5).input_scale is None


def test_lif_per_neuron_tau() -> None:
    tau = torch.tensor([2.0, 4.0, 8.0], dtype=F64)
    neuron = no_warning(layers.LIF, tau)
    assert isinstance(neuron.input_scale, Tensor)
    torch.testing.assert_close(neuron.input_scale, tau * (1 - torch.exp(-1 / tau)))


# -- McPitts, CoarseLIF, SpikingDecay --------------------------------------------------------------


def test_mcpitts() -> None:
    unit = no_warning(layers.McPitts, 0.1)
    assert unit.surrogate == Sigmoid(slope=3.0)  # the original's default slope
    x = torch.tensor([[0.0, 0.1, 0.2]], requires_grad=True)
    s = unit(x)  # the original's one-argument call
    assert s.tolist() == [[0.0, 0.0, 1.0]]
    s.sum().backward()
    assert x.grad is not None
    torch.testing.assert_close(x.grad, Sigmoid(slope=3.0).derivative(x.detach() - 0.1))
    with pytest.warns(
        DeprecationWarning,
        match=r"McPitts\(thr=0.1, beta=5\) .* spikingtorch_neurons.McPitts\(threshold=0.1, "
        r"surrogate=Sigmoid\(slope=5.0\)\)",
    ):
        assert layers.McPitts(thr=0.1, beta=5).threshold == 0.1


def test_coarse_lif_old_spelling() -> None:
    with pytest.warns(DeprecationWarning, match=r"CoarseLIF\(v0=0.8, beta=3\)"):
        neuron = layers.CoarseLIF(4, v0=0.8, beta=3)
    x = uniform((24, 3, 5), -0.2, 0.9, seed=4)
    check(run(neuron, x.unbind(0)), np_original_coarse(x.numpy(), 4.0, 0.8))
    with pytest.warns(DeprecationWarning, match=r"CoarseLIF\(v0=0.8\)"):
        layers.SpikingLayer(4, 0.8)


def test_spiking_decay_returns_current_spikes() -> None:
    with pytest.warns(DeprecationWarning, match=r"SpikingDecay\(v0=1.0\)"):
        neuron = layers.SpikingDecay(2, v0=1.0)
    x = torch.full((3, 1, 1), 0.75)
    v, s = run(neuron, x.unbind(0))
    assert v.ravel().tolist() == [0.75, 1.125, 0.75]
    assert s.ravel().tolist() == [0.0, 1.0, 0.0]  # the original returned [0, 0, 1]


# -- BioLIF ----------------------------------------------------------------------------------------


def test_biolif_old_spelling_and_trajectory() -> None:
    with pytest.warns(
        DeprecationWarning,
        match=r"BioLIF\(nudt=0.25, v0=0.4\) .* spikingtorch_neurons.BioLIF\(tau=4.0, "
        r"threshold=0.4, detach_decay=True\)",
    ):
        neuron = layers.BioLIF(0.25, v0=0.4)
    xe = uniform((24, 3, 5), 0.0, 3.0, seed=5)
    xi = uniform((24, 3, 5), 0.0, 1.0, seed=6)
    pairs = list(zip(xe.unbind(0), xi.unbind(0), strict=True))
    check(run(neuron, pairs), np_original_biolif(xe.numpy(), xi.numpy(), 0.25, 0.4))


def test_biolif_detaches_its_decay_like_the_original() -> None:
    with pytest.warns(DeprecationWarning, match=r"BioLIF\(nudt=0.5, beta=3\)"):
        old = layers.BioLIF(0.5, beta=3)
    assert old.detach_decay
    xe = uniform((6, 2, 3), 0.0, 3.0, seed=7).requires_grad_()
    xi = torch.zeros(6, 2, 3, dtype=F64)
    s = torch.stack([old(e, i, t == 0) for t, (e, i) in enumerate(zip(xe, xi, strict=True))])
    (g,) = torch.autograd.grad(s.sum(), xe)
    # reference: the original's loop, a detached, sigmoid-slope-3 surrogate
    v = torch.zeros(2, 3, dtype=F64)
    sp = torch.zeros(2, 3, dtype=F64)
    out = []
    for e, i in zip(xe, xi, strict=True):
        nu = 1 + e + i
        a = torch.exp(-0.5 * nu).detach()
        v = (1 - sp) * v * a + e / nu * (1 - a)
        x = v - 0.5
        hard = (x > 0).to(x.dtype)
        soft = torch.sigmoid(3 * x)
        sp = hard + soft - soft.detach()  # value H(x), gradient of sigmoid(3 x)
        out.append(sp)
    (g_ref,) = torch.autograd.grad(torch.stack(out).sum(), xe)
    torch.testing.assert_close(g, g_ref, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(s, torch.stack(out).detach(), rtol=0, atol=1e-12)
    assert 0 < s.mean() < 1


def test_biolif_track_act() -> None:
    with pytest.warns(DeprecationWarning, match="sum the returned spikes instead of track_act"):
        neuron = layers.BioLIF(0.25, track_act=True)
    xe = uniform((8, 2, 3), 0.0, 3.0, seed=8)
    xi = torch.zeros_like(xe)
    total = sum(neuron(e, i, t == 0) for t, (e, i) in enumerate(zip(xe, xi, strict=True)))
    assert neuron.act is not None and torch.equal(neuron.act, total)
    assert total.sum() > 0
    neuron(xe[0], xi[0], True)  # a new sequence restarts the count
    assert torch.equal(neuron.act, neuron.s)


# -- the rest --------------------------------------------------------------------------------------


def test_v_and_s_read_the_state() -> None:
    neuron = no_warning(layers.IF)
    assert neuron.v is None and neuron.s is None
    neuron(torch.full((1, 2), 1.5), init=True)
    assert neuron.v.tolist() == [[1.5, 1.5]] and neuron.s.tolist() == [[1.0, 1.0]]


def test_errors() -> None:
    with pytest.raises(TypeError, match=r"IF\(\) takes at most 2 positional arguments"):
        layers.IF(1.0, 5, 3)
    with pytest.raises(TypeError, match="give v0 .* or threshold, not both"):
        layers.IF(v0=0.5, threshold=0.5)
    with pytest.raises(TypeError, match="give beta .* or surrogate, not both"):
        layers.IF(beta=3, surrogate="atan")
    with pytest.raises(TypeError, match="multiple values for 'threshold'"):
        layers.IF(0.5, threshold=0.5)
    with pytest.raises(ValueError, match=r"beta \(the sigmoid slope\) must be positive"):
        layers.IF(beta=-1)
    with pytest.raises(ValueError, match=r"nudt \(1 / tau\) must be positive"):
        layers.BioLIF(0.0)
    with pytest.raises(TypeError, match="give nudt .* or tau, not both"):
        layers.BioLIF(0.25, tau=4.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'thr'"):
        layers.IF(thr=0.5)


def test_state_dict_and_dtypes() -> None:
    with pytest.warns(DeprecationWarning, match=r"BioLIF\(nudt=tensor\(shape=\(2,\)\), v0=0.3\)"):
        trained = layers.BioLIF(torch.tensor([0.25, 0.5]), v0=0.3, learn_threshold=True)
    with torch.no_grad():
        trained.threshold.mul_(0.5)  # type: ignore[union-attr]
    restored = no_warning(layers.BioLIF, tau=torch.tensor([1.0, 1.0]), learn_threshold=True)
    restored.load_state_dict(trained.state_dict())
    x = uniform((5, 3, 2), 0.0, 3.0, seed=9).float()
    torch.testing.assert_close(
        torch.stack([restored(x_t, t == 0) for t, x_t in enumerate(x)]),
        torch.stack([trained(x_t, t == 0) for t, x_t in enumerate(x)]),
    )
    for dtype in (torch.float32, torch.float64, torch.bfloat16):
        neuron = no_warning(layers.LIF, 4.0)
        assert neuron(torch.ones(2, 3, dtype=dtype), init=True).dtype == dtype


def test_reload_is_harmless() -> None:
    module = importlib.reload(layers)
    assert module.IF is spikingtorch_neurons._compat.IF  # type: ignore[attr-defined]
