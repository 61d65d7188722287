"""Spike losses against an independent numpy computation; gradients; validation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import Tensor, nn

import spikingtorch_encoders
from spikingtorch_encoders.losses import (
    CountMSELoss,
    FirstSpikeCrossEntropyLoss,
    RateCrossEntropyLoss,
    count_mse,
    first_spike_cross_entropy,
    rate_cross_entropy,
)
from tests.encoders._readout_nets import tiny_net

N, T, C = 6, 7, 4


def _spikes(seed: int = 0) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    s = (torch.rand(N, T, C, generator=g) < 0.3).double()
    s[0, :, 1] = 0.0  # a silent output
    s[1] = 0.0  # a silent sample
    return s


TARGET = torch.tensor([1, 0, 3, 2, 2, 0])


def _np_cross_entropy(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-sample -log softmax(logits)[target], written out with exp and log."""
    out = np.empty(len(target))
    for n, y in enumerate(target):
        z = logits[n] - logits[n].max()
        out[n] = -(z[y] - np.log(np.exp(z).sum()))
    return out


def _np_first_spike(s: np.ndarray) -> np.ndarray:
    """Index of the first non-zero step of each (n, c), or T: a plain loop."""
    n_, t_, c_ = s.shape
    out = np.full((n_, c_), float(t_))
    for n in range(n_):
        for c in range(c_):
            for t in range(t_):
                if s[n, t, c] > 0:
                    out[n, c] = t
                    break
    return out


def test_rate_cross_entropy_matches_numpy() -> None:
    s = _spikes()
    counts = s.numpy().sum(axis=1)
    for scale in (1.0, 0.25):
        expected = _np_cross_entropy(scale * counts, TARGET.numpy())
        got = rate_cross_entropy(s, TARGET, scale=scale, reduction="none")
        assert np.allclose(got.numpy(), expected)
        assert rate_cross_entropy(s, TARGET, scale=scale).item() == pytest.approx(expected.mean())
        summed = rate_cross_entropy(s, TARGET, scale=scale, reduction="sum")
        assert summed.item() == pytest.approx(expected.sum())


def test_count_mse_matches_numpy() -> None:
    s = _spikes()
    counts = s.numpy().sum(axis=1)
    on, off = 0.8, 0.1
    target_counts = np.full((N, C), off * T)
    target_counts[np.arange(N), TARGET.numpy()] = on * T
    expected = (counts - target_counts) ** 2
    got = count_mse(s, TARGET, on_rate=on, off_rate=off, reduction="none")
    assert np.allclose(got.numpy(), expected)
    assert count_mse(s, TARGET, on_rate=on, off_rate=off).item() == pytest.approx(expected.mean())


def test_count_mse_with_rate_targets() -> None:
    s = _spikes()
    rates = torch.rand(N, C, dtype=torch.float64)
    expected = ((s.numpy().sum(axis=1) - T * rates.numpy()) ** 2).sum()
    assert count_mse(s, rates, reduction="sum").item() == pytest.approx(expected)


def test_first_spike_cross_entropy_matches_numpy() -> None:
    s = _spikes()
    times = _np_first_spike(s.numpy())
    assert times[0, 1] == T and (times[1] == T).all()
    for scale in (1.0, 0.5):
        expected = _np_cross_entropy(-scale * times, TARGET.numpy())
        got = first_spike_cross_entropy(s, TARGET, scale=scale, reduction="none")
        assert np.allclose(got.numpy(), expected)
        loss = first_spike_cross_entropy(s, TARGET, scale=scale)
        assert loss.item() == pytest.approx(expected.mean())


def test_class_probability_targets_and_label_smoothing() -> None:
    s = _spikes()
    logits = s.sum(dim=1) * 0.5
    probs = torch.softmax(torch.randn(N, C, dtype=torch.float64), dim=1)
    expected = -(probs * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
    assert torch.allclose(rate_cross_entropy(s, probs, scale=0.5), expected)
    eps = 0.1
    smooth = (1 - eps) * torch.nn.functional.one_hot(TARGET, C).double() + eps / C
    expected = -(smooth * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
    assert torch.allclose(rate_cross_entropy(s, TARGET, scale=0.5, label_smoothing=eps), expected)


def test_extra_dimensions_and_time_first_layout() -> None:
    torch.manual_seed(0)
    s = (torch.rand(2, 5, 3, 4) < 0.4).float()  # (N, T, C, P): one class per "pixel"
    target = torch.randint(0, 3, (2, 4))
    per_pixel = torch.stack(
        [rate_cross_entropy(s[..., p], target[:, p], reduction="none") for p in range(4)], -1
    )
    assert torch.allclose(rate_cross_entropy(s, target, reduction="none"), per_pixel)
    mse = torch.stack([count_mse(s[..., p], target[:, p], reduction="none") for p in range(4)], -1)
    assert torch.allclose(count_mse(s, target, reduction="none"), mse)
    for fn in (rate_cross_entropy, count_mse, first_spike_cross_entropy):
        assert torch.allclose(fn(s.transpose(0, 1), target, batch_first=False), fn(s, target))


LOSS_MODULES: list[tuple[nn.Module, Callable[..., Tensor]]] = [
    (RateCrossEntropyLoss(scale=0.3, label_smoothing=0.05), rate_cross_entropy),
    (CountMSELoss(on_rate=0.9, off_rate=0.05), count_mse),
    (FirstSpikeCrossEntropyLoss(scale=2.0, reduction="sum"), first_spike_cross_entropy),
]


@pytest.mark.parametrize(("module", "fn"), LOSS_MODULES)
def test_modules_equal_their_functions(module: nn.Module, fn: Callable[..., Tensor]) -> None:
    s = _spikes()
    options = {
        k: getattr(module, k)
        for k in ("scale", "on_rate", "off_rate", "label_smoothing", "reduction")
        if hasattr(module, k)
    }
    assert torch.equal(module(s, TARGET), fn(s, TARGET, **options))


def test_reprs() -> None:
    assert repr(RateCrossEntropyLoss()) == "RateCrossEntropyLoss(scale=1)"
    assert (
        repr(RateCrossEntropyLoss(0.5, label_smoothing=0.1, reduction="sum"))
        == "RateCrossEntropyLoss(scale=0.5, label_smoothing=0.1, reduction='sum')"
    )
    assert repr(CountMSELoss()) == "CountMSELoss(on_rate=1, off_rate=0)"
    assert (
        repr(FirstSpikeCrossEntropyLoss(batch_first=False))
        == "FirstSpikeCrossEntropyLoss(scale=1, batch_first=False)"
    )


@pytest.mark.parametrize("module", [m for m, _ in LOSS_MODULES])
def test_gradients_flow_to_the_network(module: nn.Module) -> None:
    net, inner = tiny_net(n_out=3)
    torch.manual_seed(1)
    out = net(torch.rand(5, 10, 4))
    loss = module(out, torch.tensor([0, 1, 2, 1, 0]))
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    for layer in (inner.fc1, inner.fc2):
        grad = layer.weight.grad
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_first_spike_loss_with_silent_network_is_finite() -> None:
    net, inner = tiny_net(n_out=3)
    with torch.no_grad():
        inner.fc2.weight.zero_()
        inner.fc2.bias.fill_(-0.2)
    out = net(torch.rand(5, 10, 4))
    assert out.sum() == 0
    loss = first_spike_cross_entropy(out, torch.tensor([0, 1, 2, 1, 0]))
    assert loss.item() == pytest.approx(np.log(3))
    loss.backward()
    grad = inner.fc2.bias.grad
    assert grad is not None and torch.isfinite(grad).all()


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [rate_cross_entropy, count_mse, first_spike_cross_entropy])
def test_rejects_bad_inputs(fn: Callable[..., Tensor]) -> None:
    s = _spikes()
    with pytest.raises(ValueError, match=r"\(N, T, C, \*d\).*rank >= 3"):
        fn(s[:, :, 0], TARGET)
    with pytest.raises(TypeError, match="floating-point"):
        fn(s.long(), TARGET)
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 4\)"):
        fn(s, torch.tensor([0, 1, 2, 3, 4, 0]))
    with pytest.raises(ValueError, match=r"shape \(N, \*d\) = \(6,\)"):
        fn(s, TARGET[:3])
    with pytest.raises(TypeError, match="integers"):
        fn(s, TARGET.bool())
    with pytest.raises(ValueError, match="reduction must be one of"):
        fn(s, TARGET, reduction="average")


def test_rejects_bad_options() -> None:
    s = _spikes()
    with pytest.raises(ValueError, match="scale must be positive"):
        rate_cross_entropy(s, TARGET, scale=0.0)
    with pytest.raises(ValueError, match="scale must be positive"):
        FirstSpikeCrossEntropyLoss(scale=-1.0)
    with pytest.raises(ValueError, match=r"on_rate must be a number in \[0, 1\]"):
        CountMSELoss(on_rate=1.5)
    with pytest.raises(ValueError, match=r"target rates must lie in \[0, 1\]"):
        count_mse(s, torch.full((N, C), 2.0, dtype=torch.float64))
    with pytest.raises(ValueError, match="class-probability targets must have"):
        rate_cross_entropy(s, torch.rand(N, C + 1, dtype=torch.float64))
    with pytest.raises(ValueError, match="reduction must be one of"):
        CountMSELoss(reduction="avg")


def test_package_exports() -> None:
    assert spikingtorch_encoders.CountMSELoss is CountMSELoss
    assert spikingtorch_encoders.rate_cross_entropy is rate_cross_entropy
