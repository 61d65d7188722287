"""PopulationEncoder: Gaussian receptive fields, hand-computed periodic trains, Bernoulli rates."""

from __future__ import annotations

import math

import pytest
import torch

from spikingtorch_encoders import PopulationEncoder
from spikingtorch_encoders.functional import gaussian_fields, population_encode

E_HALF = math.exp(-0.5)  # 0.60653..., a field one sigma away
E_TWO = math.exp(-2.0)  # 0.13533..., two sigmas away


def test_fields_by_hand() -> None:
    # neurons = 3 over [0, 1]: centres 0, .5, 1; sigma = spacing = .5
    a = gaussian_fields(torch.tensor([[0.0, 0.5, 1.0, 0.25]]), neurons=3)
    expected = torch.tensor(
        [
            [1.0, E_HALF, E_TWO],
            [E_HALF, 1.0, E_HALF],
            [E_TWO, E_HALF, 1.0],
            [math.exp(-0.125), math.exp(-0.125), math.exp(-1.125)],  # distances .25, .25, .75
        ]
    )
    assert a.shape == (1, 4, 3)
    assert torch.allclose(a[0], expected, rtol=0, atol=1e-7)
    # custom range and width: centres -1, 0, 1; sigma 2 -> distance 1 gives exp(-1/8)
    b = gaussian_fields(torch.tensor([[0.0]]), neurons=3, low=-1.0, high=1.0, sigma=2.0)
    assert torch.allclose(b[0, 0], torch.tensor([math.exp(-0.125), 1.0, math.exp(-0.125)]))


def test_periodic_trains_by_hand() -> None:
    # x = (0, .5) in [0, 1] with 3 fields, T = 8; periodic: s_t = floor((t+1) p) - floor(t p)
    #   p = 1:        every step
    #   p = .60653:   (t+1)p = .61 1.21 1.82 2.43 3.03 3.64 4.25 4.85 -> spikes at t = 1,3,4,6
    #   p = .13533:   (t+1)p < 1 until t = 7 (8p = 1.08)           -> spike at t = 7
    x = torch.tensor([[0.0, 0.5]])
    out = PopulationEncoder(8, neurons=3, spikes="periodic")(x)
    assert out.shape == (1, 8, 2, 3)  # (N, T, D, neurons)
    every = [1.0] * 8
    one_sigma = [0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0]
    two_sigma = [0.0] * 7 + [1.0]
    assert out[0, :, 0].T.tolist() == [every, one_sigma, two_sigma]
    assert out[0, :, 1].T.tolist() == [one_sigma, every, one_sigma]
    # max_rate scales the probabilities: .5 at the centre spikes every other step
    half = PopulationEncoder(4, neurons=3, spikes="periodic", max_rate=0.5)(x)
    assert half[0, :, 1, 1].tolist() == [0.0, 1.0, 0.0, 1.0]


def test_bernoulli_rates_match_the_fields_within_5_sigma() -> None:
    x = torch.tensor([[0.2, 0.7]]).expand(2000, -1)
    encoder = PopulationEncoder(50, neurons=4, generator=torch.Generator().manual_seed(0))
    s = encoder(x)
    assert s.shape == (2000, 50, 2, 4) and set(s.unique().tolist()) == {0.0, 1.0}
    p = gaussian_fields(x[:1], neurons=4)[0].double()  # (2, 4)
    rate = s.double().mean(dim=(0, 1))
    assert torch.all((rate - p).abs() <= 5 * torch.sqrt(p * (1 - p) / 100_000))
    # same seed, same train; functional twin draws the same numbers
    again = population_encode(x, 50, neurons=4, generator=torch.Generator().manual_seed(0))
    assert torch.equal(s, again)


def test_shapes_flatten_and_layout() -> None:
    x = torch.rand(5, 3, generator=torch.Generator().manual_seed(1))
    assert PopulationEncoder(6, neurons=4)(x).shape == (5, 6, 3, 4)
    flat = PopulationEncoder(6, neurons=4, spikes="periodic", flatten=True)(x)
    full = PopulationEncoder(6, neurons=4, spikes="periodic")(x)
    assert flat.shape == (5, 6, 12) and torch.equal(flat, full.reshape(5, 6, 12))
    assert PopulationEncoder(6, neurons=4)(x[:, 0]).shape == (5, 6, 4)  # (N,) -> (N, T, M)
    assert PopulationEncoder(6, neurons=4, flatten=True)(x[:, 0]).shape == (5, 6, 4)
    tf = PopulationEncoder(6, neurons=4, spikes="periodic", batch_first=False)(x)
    assert torch.equal(tf, full.transpose(0, 1))


def test_population_errors() -> None:
    with pytest.raises(ValueError, match="neurons must be at least 2"):
        PopulationEncoder(4, neurons=1)
    with pytest.raises(TypeError, match="neurons must be an int"):
        PopulationEncoder(4, neurons=3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="low must be smaller than high"):
        PopulationEncoder(4, neurons=3, low=1.0, high=1.0)
    with pytest.raises(ValueError, match="sigma must be positive"):
        PopulationEncoder(4, neurons=3, sigma=0.0)
    with pytest.raises(ValueError, match=r"max_rate must lie in \(0, 1\]"):
        PopulationEncoder(4, neurons=3, max_rate=0.0)
    with pytest.raises(ValueError, match="spikes must be one of"):
        PopulationEncoder(4, neurons=3, spikes="latency")
    with pytest.raises(
        ValueError, match=r"the input must be <= 1, but the largest value is 1\.5 \(low=0, high=1\)"
    ):
        PopulationEncoder(4, neurons=3)(torch.tensor([[0.5, 1.5]]))
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'neurons'"):
        PopulationEncoder(4)  # type: ignore[call-arg]
