"""Temporal codes: LatencyEncoder and DeltaEncoder against trains computed by hand."""

from __future__ import annotations

import pytest
import torch

from spikingtorch_encoders import DeltaEncoder, LatencyEncoder
from spikingtorch_encoders.functional import delta_encode, latency_encode, latency_steps

# -- Latency -------------------------------------------------------------------------------


def test_latency_linear_by_hand() -> None:
    # T = 4, theta = 0, normalize: k = floor(4 (1 - x)); x = 0 never spikes
    # x:     1    .875  .75  .5   .25  .125  0
    # 4(1-x) 0    .5    1    2    3    3.5   (4: silent)
    x = torch.tensor([[1.0, 0.875, 0.75, 0.5, 0.25, 0.125, 0.0]])
    expected = torch.tensor(
        [  # one row per input, one column per step
            [1.0, 0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, 0.0, 0.0],
        ]
    )
    out = LatencyEncoder(4)(x)
    assert out.shape == (1, 4, 7)
    assert torch.equal(out[0].T, expected)
    assert latency_steps(x, 4).tolist() == [[0, 0, 1, 2, 3, 3, 4]]  # 4 = no spike


def test_latency_linear_threshold_by_hand() -> None:
    # theta = 0.5, normalize: tau = T / (1 - theta) = 8, k = floor(8 (1 - x)) for x > 0.5
    # x:      1   .875  .75  .625  .5625  .5 (= theta: silent)  .25 (silent)
    # 8(1-x): 0   1     2    3     3.5
    x = torch.tensor([[1.0, 0.875, 0.75, 0.625, 0.5625, 0.5, 0.25]])
    out = LatencyEncoder(4, threshold=0.5)(x)
    expected = torch.tensor(
        [
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0],
        ]
    )
    assert torch.equal(out[0].T, expected)


def test_latency_log_by_hand() -> None:
    # theta = 0.25, normalize: k = floor(4 ln(1/x) / ln 4) for x > 0.25
    # x = 1: 0;  .9: 4(.10536)/1.38629 = .304 -> 0;  .6: 4(.51083)/1.38629 = 1.474 -> 1;
    # .4: 4(.91629)/1.38629 = 2.644 -> 2;  .3: 4(1.20397)/1.38629 = 3.474 -> 3;  .25, .1: silent
    x = torch.tensor([[1.0, 0.9, 0.6, 0.4, 0.3, 0.25, 0.1]])
    assert latency_steps(x, 4, mode="log", threshold=0.25).tolist() == [[0, 0, 1, 2, 3, 4, 4]]
    out = LatencyEncoder(4, mode="log", threshold=0.25)(x)
    expected = torch.tensor(
        [
            [1.0, 0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0],
        ]
    )
    assert torch.equal(out[0].T, expected)


def test_latency_fixed_tau_by_hand() -> None:
    # normalize=False, tau = 8: k = floor(8 (1 - x)); steps >= T = 4 stay silent
    # x: 1 -> 0;  .75 -> 2;  .625 -> 3;  .5 -> 4 (silent);  .25 -> 6 (silent)
    x = torch.tensor([[1.0, 0.75, 0.625, 0.5, 0.25]])
    k = latency_steps(x, 4, normalize=False, tau=8.0)
    assert k.tolist() == [[0, 2, 3, 4, 4]]
    out = LatencyEncoder(4, normalize=False, tau=8.0)(x)
    assert out[0].T.tolist() == [
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
        [0.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0],
    ]
    # log with a fixed tau: k = floor(2 ln(1/x)); x = 0 has ln(1/x) = inf and never spikes
    x = torch.tensor([[1.0, 0.5, 0.2, 0.0]])  # 2 ln 2 = 1.386 -> 1; 2 ln 5 = 3.219 -> 3
    assert latency_steps(x, 4, mode="log", normalize=False, tau=2.0).tolist() == [[0, 1, 3, 4]]


def test_latency_properties_on_random_inputs() -> None:
    x = torch.rand(64, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    for mode, threshold in (("linear", 0.0), ("linear", 0.3), ("log", 0.05)):
        out = LatencyEncoder(10, mode=mode, threshold=threshold)(x)
        assert out.shape == (64, 10, 3, 8, 8)
        assert out.sum(1).max() <= 1  # at most one spike per input
        spiking = out.sum(1) == 1
        assert torch.equal(spiking, x > threshold)  # normalize: every input above theta fires
        t = out.argmax(1).float()
        # larger input -> earlier (or equal) spike
        order = x[spiking].argsort()
        assert torch.all(t[spiking][order].diff() <= 0)
        assert t[spiking].min() == 0 and t[spiking].max() == 9


def test_latency_parameter_and_range_errors() -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        LatencyEncoder(4, mode="exp")
    with pytest.raises(ValueError, match="threshold must be < 1"):
        LatencyEncoder(4, threshold=1.0)
    with pytest.raises(ValueError, match=r"threshold must lie in \[0, 1\]"):
        LatencyEncoder(4, threshold=-0.1)
    with pytest.raises(ValueError, match="needs threshold > 0"):
        LatencyEncoder(4, mode="log")
    with pytest.raises(ValueError, match="normalize=False needs tau"):
        LatencyEncoder(4, normalize=False)
    with pytest.raises(ValueError, match="tau is chosen by normalize=True"):
        LatencyEncoder(4, tau=3.0)
    with pytest.raises(ValueError, match="tau must be positive"):
        LatencyEncoder(4, normalize=False, tau=0.0)
    with pytest.raises(ValueError, match=r"LatencyEncoder: the input must be <= 1"):
        LatencyEncoder(4)(torch.tensor([[0.5, 1.5]]))
    with pytest.raises(ValueError, match=r"the input must be >= 0"):
        latency_encode(torch.tensor([[-0.5]]), 4)


# -- Delta ---------------------------------------------------------------------------------


def test_delta_signed_by_hand() -> None:
    # theta = 0.5; the reference r starts at x_0 and moves to x_t on a spike
    # t:  0     1     2              3     4              5      6     7
    # x:  0     .25   .5             .75   1.0            .25    .0    -.5
    # d:  0     .25   .5 (+1, r=.5)  .25   .5 (+1, r=1)   -.75 (-1, r=.25)  -.25  -.75 (-1)
    x = torch.tensor([[0.0, 0.25, 0.5, 0.75, 1.0, 0.25, 0.0, -0.5]])
    expected = torch.tensor([[0.0, 0.0, 1.0, 0.0, 1.0, -1.0, 0.0, -1.0]])
    assert torch.equal(DeltaEncoder(0.5)(x), expected)
    assert torch.equal(delta_encode(x, 0.5), expected)
    # unsigned: a spike for either direction
    assert torch.equal(DeltaEncoder(0.5, signed=False)(x), expected.abs())
    # comparing consecutive frames would never fire on this slow ramp; the reference does
    ramp = torch.arange(8.0).view(1, 8) * 0.25
    assert DeltaEncoder(0.5)(ramp).tolist() == [[0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]]


def test_delta_on_off_channels_by_hand() -> None:
    # two features over 5 steps, theta = 1; polarity axis inserted right after time
    x = torch.tensor([[[0.0, 3.0], [1.0, 3.0], [1.5, 1.0], [0.0, 1.5], [0.0, 2.0]]])  # (1, 5, 2)
    # feature 0: d = 0, 1 (ON, r=1), .5, -1 (OFF, r=0), 0
    # feature 1: d = 0, 0, -2 (OFF, r=1), .5, 1 (ON, r=2)
    out = DeltaEncoder(1.0, on_off=True)(x)
    assert out.shape == (1, 5, 2, 2)
    on = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    off = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    assert torch.equal(out[0, :, 0], on) and torch.equal(out[0, :, 1], off)
    # the same events as the signed code
    assert torch.equal(out[:, :, 0] - out[:, :, 1], DeltaEncoder(1.0)(x))


def test_delta_initial_reference() -> None:
    # initial = 0: the first frame is compared with 0, so a bright first frame spikes at t = 0
    x = torch.tensor([[0.75, 0.75, 0.0]])
    assert DeltaEncoder(0.5)(x).tolist() == [[0.0, 0.0, -1.0]]
    assert DeltaEncoder(0.5, initial=0.0)(x).tolist() == [[1.0, 0.0, -1.0]]


def test_delta_images_keep_their_axes_and_time_first_layout() -> None:
    frames = torch.rand(3, 6, 2, 5, 5, generator=torch.Generator().manual_seed(0))  # (N,T,C,H,W)
    out = DeltaEncoder(0.3)(frames)
    assert out.shape == (3, 6, 2, 5, 5) and set(out.unique().tolist()) <= {-1.0, 0.0, 1.0}
    assert DeltaEncoder(0.3, on_off=True)(frames).shape == (3, 6, 2, 2, 5, 5)
    time_first = DeltaEncoder(0.3, batch_first=False)(frames.transpose(0, 1))
    assert torch.equal(time_first, out.transpose(0, 1))
    on_off_tf = DeltaEncoder(0.3, on_off=True, batch_first=False)(frames.transpose(0, 1))
    assert on_off_tf.shape == (6, 3, 2, 2, 5, 5)


def test_delta_errors() -> None:
    with pytest.raises(ValueError, match=r"\(N, T, \*dims\) \(at least 2 dimensions\)"):
        DeltaEncoder(0.5)(torch.zeros(4))
    with pytest.raises(ValueError, match=r"time axis \(dim 1\) is empty"):
        DeltaEncoder(0.5)(torch.zeros(2, 0, 3))
    with pytest.raises(ValueError, match=r"time axis \(dim 0\) is empty"):
        DeltaEncoder(0.5, batch_first=False)(torch.zeros(0, 2, 3))
    with pytest.raises(ValueError, match="threshold must be positive"):
        DeltaEncoder(0.0)
    with pytest.raises(TypeError, match="on_off must be a bool"):
        DeltaEncoder(0.5, on_off="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="threshold must be a number"):
        DeltaEncoder("0.5")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="NaN"):
        DeltaEncoder(0.5)(torch.tensor([[0.0, float("nan")]]))
