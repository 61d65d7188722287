"""Decoders (readouts): hand-computed values, gradients, validation, registry entries."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import Tensor

import spikingtorch
import spikingtorch_encoders
from spikingtorch_encoders import plugin
from spikingtorch_encoders.decoders import (
    FirstSpikeDecoder,
    MaxMembraneDecoder,
    RateDecoder,
    SumDecoder,
    first_spike_time,
    max_over_time,
    mean_rate,
    spike_count,
)
from tests.encoders._readout_nets import tiny_net

# (N=2, T=4, C=3) spike trains; sample 0 output 2 and sample 1 output 0 never fire.
SPIKES = torch.tensor(
    [
        [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]],
        [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
    ]
)
COUNTS = torch.tensor([[2.0, 3.0, 0.0], [0.0, 1.0, 3.0]])
FIRST = torch.tensor([[1.0, 0.0, 4.0], [4.0, 2.0, 0.0]])

ALL_DECODERS = (SumDecoder, RateDecoder, MaxMembraneDecoder, FirstSpikeDecoder)


# -- hand-computed values -----------------------------------------------------------------------


def test_sum_decoder_counts() -> None:
    assert torch.equal(SumDecoder()(SPIKES), COUNTS)
    assert torch.equal(spike_count(SPIKES), COUNTS)


def test_sum_decoder_scale_and_offset() -> None:
    # 0.5 * (count - 1)
    expected = torch.tensor([[0.5, 1.0, -0.5], [-0.5, 0.0, 1.0]])
    assert torch.allclose(SumDecoder(scale=0.5, offset=1.0)(SPIKES), expected)
    # center: subtract T / 2 = 2 as well: 2 * (count - 0.5 - 2)
    expected = torch.tensor([[-1.0, 1.0, -5.0], [-5.0, -3.0, 1.0]])
    assert torch.allclose(SumDecoder(scale=2.0, offset=0.5, center=True)(SPIKES), expected)


def test_sum_decoder_maps_the_original_offset() -> None:
    """The original SumDecoder(nsteps, scale, offset=True) = scale * (sum - 0.5 * nsteps)."""
    nsteps, scale = 4, 0.3
    original = scale * (SPIKES.sum(dim=1) - 0.5 * nsteps)
    assert torch.allclose(SumDecoder(scale=scale, offset=0.5 * nsteps)(SPIKES), original)
    assert torch.allclose(SumDecoder(scale=scale, center=True)(SPIKES), original)
    assert torch.allclose(SumDecoder(scale=scale)(SPIKES), scale * SPIKES.sum(dim=1))


def test_rate_decoder() -> None:
    expected = torch.tensor([[0.5, 0.75, 0.0], [0.0, 0.25, 0.75]])
    assert torch.equal(RateDecoder()(SPIKES), expected)
    assert torch.equal(mean_rate(SPIKES), expected)


def test_max_membrane_decoder() -> None:
    v = torch.tensor(
        [[[0.1, -0.2], [0.7, -0.1], [0.4, -0.5]], [[-1.0, 0.0], [-2.0, 3.0], [-0.5, 2.0]]]
    )
    expected = torch.tensor([[0.7, -0.1], [-0.5, 3.0]])
    assert torch.equal(MaxMembraneDecoder()(v), expected)
    assert torch.equal(max_over_time(v), expected)


def test_max_membrane_gradient_goes_to_the_maximum() -> None:
    v = torch.tensor([[[0.1, -0.2], [0.7, -0.1], [0.4, -0.5]]], requires_grad=True)
    MaxMembraneDecoder()(v).sum().backward()
    assert v.grad is not None
    assert torch.equal(v.grad, torch.tensor([[[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]))


def test_first_spike_decoder_times() -> None:
    assert torch.equal(FirstSpikeDecoder()(SPIKES), FIRST)
    assert torch.equal(first_spike_time(SPIKES), FIRST)


def test_first_spike_gradient_hand_computed() -> None:
    """d t_first / d s_j: -(t* - j) before the first spike, -(t' - t*) at it, 0 after."""
    s = torch.tensor([[[0.0], [0.0], [1.0], [0.0], [1.0], [0.0]]], requires_grad=True)  # T = 6
    t = FirstSpikeDecoder()(s)
    assert t.item() == 2.0
    t.sum().backward()
    assert s.grad is not None
    assert torch.equal(s.grad.flatten(), torch.tensor([-2.0, -1.0, -2.0, 0.0, 0.0, 0.0]))


def test_first_spike_never_spiking_is_t_with_finite_gradient() -> None:
    s = torch.zeros(1, 4, 1, requires_grad=True)
    t = FirstSpikeDecoder()(s)
    assert t.item() == 4.0
    t.sum().backward()
    assert s.grad is not None
    assert torch.equal(s.grad.flatten(), torch.tensor([-4.0, -3.0, -2.0, -1.0]))


def _reference_first(train: list[float]) -> float:
    return float(next((t for t, v in enumerate(train) if v), len(train)))


def test_first_spike_gradient_is_the_exact_flip_difference() -> None:
    """Every binary train of length 5: value = index of first spike, grad = t(s_j=1) - t(s_j=0)."""
    trains = torch.tensor(list(itertools.product([0.0, 1.0], repeat=5)), dtype=torch.float64)
    s = trains.unsqueeze(-1).clone().requires_grad_(True)  # (32, 5, 1)
    t = first_spike_time(s)
    t.sum().backward()
    assert s.grad is not None
    for n, train in enumerate(trains.tolist()):
        assert t[n, 0].item() == _reference_first(train)
        for j in range(5):
            up, down = list(train), list(train)
            up[j], down[j] = 1.0, 0.0
            assert s.grad[n, j, 0].item() == _reference_first(up) - _reference_first(down)


def test_first_spike_gradcheck_on_probabilities() -> None:
    torch.manual_seed(0)
    s = torch.rand(2, 5, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(first_spike_time, (s,))
    # for values in [0, 1] it is the expected first-spike time of independent Bernoulli steps
    p = torch.tensor([[[0.5], [0.5]]], dtype=torch.float64)  # T = 2
    expected = 0 * 0.5 + 1 * 0.25 + 2 * 0.25
    assert first_spike_time(p).item() == pytest.approx(expected)


def test_first_spike_rejects_values_outside_unit_interval() -> None:
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        FirstSpikeDecoder()(torch.tensor([[[0.0], [2.0]]]))
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        FirstSpikeDecoder()(torch.tensor([[[float("nan")], [0.0]]]))


@pytest.mark.parametrize("cls", ALL_DECODERS)
def test_time_first_layout(cls: type[torch.nn.Module]) -> None:
    decoder, time_first = cls(), cls(batch_first=False)
    assert torch.equal(time_first(SPIKES.transpose(0, 1)), decoder(SPIKES))
    assert "batch_first=False" in repr(time_first)


def test_center_uses_the_time_axis_of_the_layout() -> None:
    x = torch.ones(2, 6, 3)  # T = 6 (batch_first), or N = 6, T = 2 (time first)
    assert torch.equal(SumDecoder(center=True)(x), torch.full((2, 3), 3.0))
    assert torch.equal(SumDecoder(center=True, batch_first=False)(x), torch.full((6, 3), 1.0))


def test_extra_dims_are_kept() -> None:
    x = torch.ones(2, 3, 4, 5)  # (N, T, C, H)
    for cls in ALL_DECODERS:
        assert cls()(x).shape == (2, 4, 5)


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_DECODERS)
def test_rejects_wrong_rank(cls: type[torch.nn.Module]) -> None:
    with pytest.raises(ValueError, match=r"\(N, T, \*out\).*got shape \(4,\)"):
        cls()(torch.zeros(4))
    with pytest.raises(ValueError, match=r"\(T, N, \*out\)"):
        cls(batch_first=False)(torch.zeros(4))


@pytest.mark.parametrize("cls", ALL_DECODERS)
def test_rejects_non_floating(cls: type[torch.nn.Module]) -> None:
    with pytest.raises(TypeError, match="floating-point.*torch.int64"):
        cls()(torch.zeros(2, 3, 4, dtype=torch.long))
    with pytest.raises(TypeError, match="expects a tensor"):
        cls()([[0.0, 1.0]])


@pytest.mark.parametrize("cls", ALL_DECODERS)
def test_rejects_zero_steps(cls: type[torch.nn.Module]) -> None:
    with pytest.raises(ValueError, match=r"T > 0.*\(2, 0, 3\)"):
        cls()(torch.zeros(2, 0, 3))


def test_sum_decoder_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="scale must be finite"):
        SumDecoder(scale=float("inf"))
    with pytest.raises(TypeError, match="offset must be a real number"):
        SumDecoder(offset=True)


def test_repr() -> None:
    assert repr(SumDecoder()) == "SumDecoder(scale=1, offset=0)"
    assert repr(SumDecoder(0.5, 4.0, center=True)) == "SumDecoder(scale=0.5, offset=4, center=True)"
    assert repr(RateDecoder()) == "RateDecoder()"
    assert repr(FirstSpikeDecoder(batch_first=False)) == "FirstSpikeDecoder(batch_first=False)"


# -- gradients reach the network ----------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_DECODERS)
def test_gradients_flow_to_the_network(cls: type[torch.nn.Module]) -> None:
    net, inner = tiny_net(membrane=cls is MaxMembraneDecoder)
    torch.manual_seed(1)
    out = net(torch.rand(5, 10, 4))
    y = cls()(out)
    assert y.shape == (5, 3)
    y.sum().backward()
    for layer in (inner.fc1, inner.fc2):
        grad = layer.weight.grad
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_first_spike_of_a_silent_output_neuron_has_finite_gradient() -> None:
    """An output neuron that never fires reads T; its gradient is finite and says: fire."""
    net, inner = tiny_net()
    with torch.no_grad():
        inner.fc2.weight.zero_()
        inner.fc2.bias.fill_(-0.2)  # the output membrane only goes down: no spike ever
    torch.manual_seed(1)
    out = net(torch.rand(5, 10, 4))
    assert out.sum() == 0
    t = FirstSpikeDecoder()(out)
    assert torch.equal(t, torch.full((5, 3), 10.0))
    t.sum().backward()
    for param in (inner.fc2.weight, inner.fc2.bias, inner.fc1.weight):
        assert param.grad is not None and torch.isfinite(param.grad).all()
    bias_grad: Tensor = inner.fc2.bias.grad  # type: ignore[assignment]
    assert (bias_grad < 0).all()  # raising the bias makes the outputs fire earlier


# -- registry -----------------------------------------------------------------------------------


EXPECTED = {
    "sum": ("SumDecoder", {"count"}),
    "rate": ("RateDecoder", {"mean_rate"}),
    "max_membrane": ("MaxMembraneDecoder", set()),
    "first_spike": ("FirstSpikeDecoder", set()),
}


def test_every_decoder_is_registered_with_a_summary() -> None:
    entries = {
        e.name: e
        for e in spikingtorch.get_registry("decoders").entries()
        if e.provider == "spikingtorch-encoders"
    }
    assert set(entries) == set(EXPECTED)
    for name, (cls_name, aliases) in EXPECTED.items():
        entry = entries[name]
        assert entry.summary
        assert entry.factory == f"spikingtorch_encoders.decoders:{cls_name}"
        assert set(entry.aliases) == aliases
        assert type(spikingtorch.get_decoder(name)).__name__ == cls_name
    assert isinstance(spikingtorch.get_decoder("count", scale=2.0), SumDecoder)
    assert isinstance(spikingtorch.get_decoder("mean_rate"), RateDecoder)


def test_plugin_hook_registers_strings() -> None:
    added: dict[str, tuple[object, str | None]] = {}

    class Recorder:
        def add(self, name: str, factory: object, *, summary: str | None = None, aliases=()):  # type: ignore[no-untyped-def]
            added[name] = (factory, summary)

    plugin.register_decoders(Recorder())  # type: ignore[arg-type]
    assert set(added) == set(EXPECTED)
    assert all(isinstance(f, str) and s for f, s in added.values())


def test_package_exports_resolve_lazily() -> None:
    assert spikingtorch_encoders.FirstSpikeDecoder is FirstSpikeDecoder
    assert spikingtorch_encoders.first_spike_time is first_spike_time
    assert {"SumDecoder", "RateDecoder", "MaxMembraneDecoder", "FirstSpikeDecoder"} <= set(
        spikingtorch_encoders.__all__
    )
    from spikingtorch import FirstSpikeDecoder as Exported

    assert Exported is FirstSpikeDecoder
