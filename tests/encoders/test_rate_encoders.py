"""Rate codes: PoissonEncoder (statistics, reproducibility, dtypes, clipping), PeriodicEncoder
(exact hand-computed trains) and ConstantEncoder (values and gradients)."""

from __future__ import annotations

import math

import pytest
import torch

from spikingtorch_encoders import ConstantEncoder, PeriodicEncoder, PoissonEncoder
from spikingtorch_encoders.functional import periodic_encode, poisson_encode

# -- Poisson -------------------------------------------------------------------------------


def _assert_binomial(spikes: torch.Tensor, p: torch.Tensor, trials: int) -> None:
    """Each column of ``spikes.mean`` is the mean of ``trials`` Bernoulli(p) draws: it lies within
    5 binomial standard deviations sqrt(p (1 - p) / trials) of p (exactly p for p in {0, 1})."""
    rate = spikes.double().mean(dim=(0, 1))
    p = p.double()
    bound = 5 * torch.sqrt(p * (1 - p) / trials)
    assert torch.all((rate - p).abs() <= bound), (rate, p, bound)


@pytest.mark.parametrize(("rate", "scale"), [(1.0, 1.0), (0.5, 2.0)])
def test_poisson_empirical_rate_matches_within_5_sigma(rate: float, scale: float) -> None:
    # 1000 samples x 100 steps = 10^5 Bernoulli trials per input
    x = torch.tensor([0.0, 0.01, 0.1, 0.37, 0.5, 0.93, 1.0]) * scale
    batch = x.expand(1000, -1).contiguous()
    gen = torch.Generator().manual_seed(1234)
    spikes = PoissonEncoder(100, rate=rate, generator=gen)(batch)
    assert spikes.shape == (1000, 100, 7)
    _assert_binomial(spikes, x * rate, trials=100_000)
    assert spikes[..., 0].sum() == 0 and spikes[..., -1].min() == 1  # p = 0 and p = 1 are exact


def test_poisson_same_seed_gives_bit_identical_trains() -> None:
    x = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    a = PoissonEncoder(16, generator=torch.Generator().manual_seed(7))(x)
    b = PoissonEncoder(16, generator=torch.Generator().manual_seed(7))(x)
    c = PoissonEncoder(16, generator=torch.Generator().manual_seed(8))(x)
    assert torch.equal(a, b) and not torch.equal(a, c)
    # the global generator works the same way
    torch.manual_seed(3)
    d = PoissonEncoder(16)(x)
    torch.manual_seed(3)
    assert torch.equal(d, PoissonEncoder(16)(x))
    # the functional form draws the same numbers as the module
    e = poisson_encode(x, 16, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, e)


def test_poisson_module_generator_advances_between_calls() -> None:
    encoder = PoissonEncoder(8, generator=torch.Generator().manual_seed(0))
    x = torch.full((2, 50), 0.5)
    assert not torch.equal(encoder(x), encoder(x))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
def test_poisson_spikes_are_zero_one_in_the_input_dtype(dtype: torch.dtype) -> None:
    x = torch.tensor([[0.0, 0.25, 0.5, 0.75, 1.0]], dtype=dtype).expand(2000, -1)
    spikes = PoissonEncoder(50, generator=torch.Generator().manual_seed(0))(x)
    assert spikes.dtype == dtype
    assert set(spikes.unique().tolist()) == {0.0, 1.0}
    # probabilities are not coarsened by the low-precision dtype (uniforms are drawn in float32)
    _assert_binomial(spikes, x[0].float(), trials=100_000)


def test_poisson_out_of_range_is_an_error_never_a_silent_clip() -> None:
    with pytest.raises(ValueError, match=r"rate·x must be <= 1, but the largest value is 1\.2"):
        PoissonEncoder(4)(torch.tensor([[0.5, 1.2]]))
    with pytest.raises(ValueError, match=r"largest value is 1\.5.*max_rate="):
        PoissonEncoder(4, rate=3.0)(torch.tensor([[0.5]]))
    with pytest.raises(ValueError, match=r"rate·x must be >= 0, but the smallest value is -0\.1"):
        PoissonEncoder(4)(torch.tensor([[-0.1, 0.5]]))


def test_poisson_max_rate_clips_on_purpose() -> None:
    # p = clamp(rate * x, 0, max_rate): 2 * [-0.5, 0.1, 0.2, 0.4, 3.0] -> [0, 0.2, 0.4, 0.5, 0.5]
    x = torch.tensor([-0.5, 0.1, 0.2, 0.4, 3.0]).expand(2000, -1)
    encoder = PoissonEncoder(50, rate=2.0, max_rate=0.5, generator=torch.Generator().manual_seed(5))
    _assert_binomial(encoder(x), torch.tensor([0.0, 0.2, 0.4, 0.5, 0.5]), trials=100_000)
    # the original package's scale: rate=scale, max_rate=1 fires at every step once scale*x >= 1
    out = PoissonEncoder(5, rate=2.0, max_rate=1.0)(torch.tensor([[0.6, 0.0]]))
    assert torch.equal(out[0].T, torch.tensor([[1.0] * 5, [0.0] * 5]))


def test_poisson_has_no_gradient() -> None:
    x = torch.rand(2, 3, requires_grad=True)
    assert not PoissonEncoder(4)(x).requires_grad


# -- Periodic ------------------------------------------------------------------------------


def test_periodic_trains_by_hand() -> None:
    # accumulate r = rate * x from 0; spike and subtract 1 when the sum reaches 1:
    #   r = 1:    1 2 3 ...            -> spike every step
    #   r = 0.75: .75 1.5 1.25 1.0 .75 1.5 -> 0 1 1 1 0 1
    #   r = 0.5:  .5 1 .5 1 ...        -> 0 1 0 1 0 1
    #   r = 0.375: .375 .75 1.125 .5 .875 1.25 -> 0 0 1 0 0 1
    #   r = 0.25: spikes at t = 3 only; r = 0: never
    x = torch.tensor([[1.0, 0.75, 0.5, 0.375, 0.25, 0.0]])
    expected = torch.tensor(
        [
            [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
            [0.0, 1.0, 1.0, 1.0, 0.0, 1.0],
            [0.0, 1.0, 0.0, 1.0, 0.0, 1.0],
            [0.0, 0.0, 1.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, 0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        ]
    )
    out = PeriodicEncoder(6)(x)
    assert out.shape == (1, 6, 6)
    assert torch.equal(out[0].T, expected)
    # rate scales the input: rate 0.5 of x = 1 is r = 0.5
    assert torch.equal(PeriodicEncoder(6, rate=0.5)(x)[0, :, 0], expected[2])


def test_periodic_is_exact_over_long_trains() -> None:
    # the count after T steps is floor(T r) for the input's exact value (computed in float64 in
    # closed form: no rounding error accumulates over steps)
    x = torch.tensor([[0.1, 0.3, 1 / 3, 0.7, 0.01]], dtype=torch.float64)
    counts = PeriodicEncoder(1000)(x).sum(1)[0]
    assert counts.tolist() == [100.0, 300.0, 333.0, 700.0, 10.0]
    assert PeriodicEncoder(10)(x)[0, :, 0].tolist() == [0.0] * 9 + [1.0]  # r = 0.1: t = 9
    # float32 0.7 is 0.69999998...: its count over 1000 steps is exactly 699
    assert PeriodicEncoder(1000)(torch.tensor([[0.7, 0.75]])).sum().item() == 699 + 750


def test_periodic_validates_and_clips_like_poisson() -> None:
    with pytest.raises(ValueError, match="rate·x must be <= 1"):
        PeriodicEncoder(4)(torch.tensor([[1.5]]))
    out = PeriodicEncoder(4, rate=2.0, max_rate=0.5)(torch.tensor([[0.9, -1.0]]))
    assert torch.equal(out[0].T, torch.tensor([[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]]))
    assert torch.equal(periodic_encode(torch.tensor([[0.5]]), 4)[0, :, 0], out[0, :, 0])


# -- Constant ------------------------------------------------------------------------------


def test_constant_repeats_the_value_and_passes_gradients() -> None:
    x = torch.tensor([[0.25, -3.0, 7.5]], requires_grad=True)
    out = ConstantEncoder(4)(x)
    assert out.shape == (1, 4, 3) and out.dtype == torch.float32
    assert torch.equal(out[0], torch.tensor([[0.25, -3.0, 7.5]] * 4))
    assert out.is_contiguous()
    (out * torch.arange(4.0).view(1, 4, 1)).sum().backward()
    assert x.grad is not None and torch.equal(x.grad, torch.full((1, 3), 6.0))  # 0+1+2+3


def test_constant_output_is_a_copy() -> None:
    x = torch.zeros(2, 3)
    out = ConstantEncoder(2)(x)
    out[0, 0, 0] = 1.0  # writable, and writing does not touch x or the other steps
    assert x.sum() == 0 and out[0, 1, 0] == 0


def test_rate_of_one_step_and_steps_keyword() -> None:
    x = torch.tensor([[1.0, 0.0]])
    assert PoissonEncoder(steps=1)(x).shape == (1, 1, 2)
    assert PeriodicEncoder(steps=1)(x).tolist() == [[[1.0, 0.0]]]
    assert math.isclose(ConstantEncoder(steps=3)(x).sum().item(), 3.0)
