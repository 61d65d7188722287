"""MarkovEncoder: stationary rate and lag-1 autocorrelation within statistical bounds.

Bounds (all at 5 standard deviations; the generators are seeded, so the tests are deterministic):

* Rate. ``p_hat`` averages ``n = M T`` spikes of ``M`` independent stationary chains of length
  ``T`` whose autocorrelation at lag ``k`` is ``ρ^k``. For one chain,
  ``Var(mean) = p(1-p)/T · [1 + 2 Σ_{k=1}^{T-1} (1 - k/T) ρ^k]``, and the bracket is at most
  ``1 + 2 Σ_k |ρ|^k = (1 + |ρ|) / (1 - |ρ|)``; the ``M`` chains are independent, so
  ``SE(p_hat) <= sqrt(p (1-p) / n · (1 + |ρ|) / (1 - |ρ|))``.
* Lag-1 autocorrelation, from transition counts. For a two-state chain,
  ``corr(s_t, s_{t+1}) = P(1|1) - P(1|0)``, estimated by ``ρ_hat = n11/n1 - n01/n0`` (``n1``,
  ``n0``: steps in state 1 / 0 that have a successor; ``n11``, ``n01``: those followed by a
  spike). Given the predecessors, the successors are independent Bernoulli draws (the Markov
  property), so each ratio is a martingale average with variance ``q (1-q) / n_from`` and the two
  are uncorrelated: ``SE(ρ_hat) = sqrt(q11 (1-q11) / n1 + q01 (1-q01) / n0)``.
* Lag-1 sample autocorrelation ``r1 = (mean(s_t s_{t+1}) - p_hat²) / (p_hat (1 - p_hat))``,
  by batch means: the chains are split into ``G`` groups; the group estimates are i.i.d., so
  their mean has standard error ``sd / sqrt(G)`` (the ratio's bias is ``O(1 / n_group)``,
  negligible against it).
"""

from __future__ import annotations

import math

import pytest
import torch

from spikingtorch_encoders import MarkovEncoder, PoissonEncoder
from spikingtorch_encoders.functional import markov_encode

M, T = 8_000, 50  # chains per input and steps: 4 * 10^5 spikes per input


def _trains(p: list[float], rho: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.tensor(p, dtype=torch.float64).expand(M, -1).contiguous()
    gen = torch.Generator().manual_seed(seed)
    return MarkovEncoder(T, correlation=rho, generator=gen)(x), torch.tensor(p, dtype=torch.float64)


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.8, -0.1])
def test_rate_and_lag1_autocorrelation_match(rho: float) -> None:
    s, p = _trains([0.1, 0.3, 0.6], rho, seed=int(100 * rho) + 7)
    n = M * T

    p_hat = s.mean(dim=(0, 1))
    se_rate = torch.sqrt(p * (1 - p) / n * (1 + abs(rho)) / (1 - abs(rho)))
    assert torch.all((p_hat - p).abs() <= 5 * se_rate), (p_hat, p, se_rate)

    prev, nxt = s[:, :-1], s[:, 1:]
    n1, n0 = prev.sum((0, 1)), (1 - prev).sum((0, 1))
    q11_hat = (prev * nxt).sum((0, 1)) / n1
    q01_hat = ((1 - prev) * nxt).sum((0, 1)) / n0
    rho_hat = q11_hat - q01_hat
    q11, q01 = p + rho * (1 - p), p * (1 - rho)
    se_rho = torch.sqrt(q11 * (1 - q11) / n1 + q01 * (1 - q01) / n0)
    assert torch.all((rho_hat - rho).abs() <= 5 * se_rho), (rho_hat, rho, se_rho)
    assert torch.all((q11_hat - q11).abs() <= 5 * torch.sqrt(q11 * (1 - q11) / n1))

    groups = s.view(40, M // 40, T, 3)
    mean = groups.mean(dim=(1, 2))
    lag1 = (groups[:, :, :-1] * groups[:, :, 1:]).mean(dim=(1, 2))
    r1 = (lag1 - mean**2) / (mean * (1 - mean))  # (G, 3)
    se_r1 = r1.std(dim=0) / math.sqrt(40)
    assert torch.all((r1.mean(0) - rho).abs() <= 5 * se_r1), (r1.mean(0), rho, se_r1)


def test_correlation_zero_is_independent_and_one_is_constant() -> None:
    x = torch.full((4000, 2), 0.25)
    s = MarkovEncoder(25, correlation=1.0, generator=torch.Generator().manual_seed(0))(x)
    # rho = 1: P(1|1) = 1, P(1|0) = 0, so each train repeats its first (stationary) draw
    assert torch.equal(s, s[:, :1].expand_as(s))
    first = s[:, 0].mean().item()
    assert abs(first - 0.25) <= 5 * math.sqrt(0.25 * 0.75 / 8000)
    # rho = 0 draws u_t < p at every step, exactly like PoissonEncoder with the same numbers
    a = MarkovEncoder(25, generator=torch.Generator().manual_seed(1))(x)
    b = PoissonEncoder(25, generator=torch.Generator().manual_seed(1))(x)
    assert torch.equal(a, b)


def test_rate_from_input_and_rate_scale() -> None:
    # p = rate * x: rate 0.5 of x = 0.8 is p = 0.4
    x = torch.tensor([[0.0, 0.8, 1.0]]).expand(4000, -1)
    s = MarkovEncoder(50, rate=0.5, correlation=0.3, generator=torch.Generator().manual_seed(2))(x)
    p = torch.tensor([0.0, 0.4, 0.5])
    bound = 5 * torch.sqrt(p * (1 - p) / 200_000 * 1.3 / 0.7)
    assert torch.all((s.mean((0, 1)) - p).abs() <= bound)
    assert s[..., 0].sum() == 0


def test_same_seed_is_bit_identical_and_batch_first_false_transposes() -> None:
    x = torch.rand(5, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    a = MarkovEncoder(12, correlation=0.6, generator=torch.Generator().manual_seed(9))(x)
    b = markov_encode(x, 12, correlation=0.6, generator=torch.Generator().manual_seed(9))
    c = MarkovEncoder(
        12, correlation=0.6, batch_first=False, generator=torch.Generator().manual_seed(9)
    )(x)
    assert a.shape == (5, 12, 3, 4, 4) and torch.equal(a, b)
    assert torch.equal(c, a.transpose(0, 1))


def test_markov_errors() -> None:
    with pytest.raises(ValueError, match=r"correlation must lie in \[-1, 1\]"):
        MarkovEncoder(4, correlation=1.5)
    with pytest.raises(ValueError, match=r"rate·x must be <= 1"):
        MarkovEncoder(4)(torch.tensor([[1.2]]))
    # rho = -0.5 needs p/(1-p) >= 0.5 and (1-p)/p >= 0.5, i.e. p in [1/3, 2/3]
    encoder = MarkovEncoder(4, correlation=-0.5)
    assert encoder(torch.tensor([[0.4, 0.5, 0.6]])).shape == (1, 4, 3)
    with pytest.raises(ValueError, match=r"P\(1\|1\) = p \+ ρ\(1-p\) for correlation=-0.5"):
        encoder(torch.tensor([[0.1]]))
    with pytest.raises(ValueError, match=r"P\(1\|0\) = p\(1-ρ\)"):
        encoder(torch.tensor([[0.9]]))
