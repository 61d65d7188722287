"""Encoded images feed the seed tutorial's conv network through ``SpikingNet`` unchanged.

Needs the neurons plugin (``from spikingtorch import IF``) beside the encoders: runs in the tox env
``all``. The network is the tutorial's: conv 1->4 (k4, s2), conv 4->6 (k4), linear 600->10, with
an ``IF`` layer after each and a two-argument ``forward(xi, init)``.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

import spikingtorch
from spikingtorch import IF

NOUT = 10


class SeedNet(nn.Module):
    """The seed tutorial's per-step network (28x28 -> 13x13 -> 10x10 -> 10)."""

    def __init__(self) -> None:
        super().__init__()
        self.Nout = NOUT
        self.conv1 = nn.Conv2d(1, 4, (4, 4), stride=2, padding=0)
        self.conv2 = nn.Conv2d(4, 6, (4, 4), stride=1, padding=0)
        self.l1 = nn.Linear(600, NOUT, bias=None)
        self.sl1 = IF()
        self.sl2 = IF()
        self.sl3 = IF()

    def forward(self, xi: torch.Tensor, init: bool) -> torch.Tensor:
        xi = self.conv1(xi)
        s1 = self.sl1(xi, init)
        xi = self.conv2(s1)
        s2 = self.sl2(xi, init)
        xi = s2.view(s2.shape[0], -1)
        xi2 = self.l1(xi)
        return self.sl3(xi2, init)


IMAGE_ENCODERS: dict[str, dict[str, Any]] = {
    "poisson": {},
    "periodic": {},
    "constant": {},
    "latency": {},
    "markov": {"correlation": 0.4},
}


@pytest.mark.parametrize("name", IMAGE_ENCODERS)
@pytest.mark.parametrize("batch_first", [True, False])
def test_encoded_batch_trains_the_seed_net(name: str, batch_first: bool) -> None:
    torch.manual_seed(0)
    steps, n = 6, 4
    encoder = spikingtorch.get_encoder(
        name, steps=steps, batch_first=batch_first, **IMAGE_ENCODERS[name]
    )
    images = torch.rand(n, 1, 28, 28)  # (N, C, H, W) in [0, 1]
    x = encoder(images)
    assert x.shape == ((n, steps, 1, 28, 28) if batch_first else (steps, n, 1, 28, 28))

    model = spikingtorch.SpikingNet(SeedNet(), (NOUT,), batch_first=batch_first)
    out = model(x)
    assert out.shape == ((n, steps, NOUT) if batch_first else (steps, n, NOUT))
    assert set(out.unique().tolist()) <= {0.0, 1.0}

    counts = out.sum(1 if batch_first else 0)  # (N, NOUT) spike counts
    loss = nn.functional.cross_entropy(counts, torch.arange(n) % NOUT)
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


def test_delta_coded_frames_feed_the_seed_net() -> None:
    torch.manual_seed(1)
    frames = torch.rand(3, 5, 1, 28, 28)  # a short grey video (N, T, C, H, W)
    spikes = spikingtorch.get_encoder("delta", threshold=0.3)(frames)
    out = spikingtorch.SpikingNet(SeedNet(), (NOUT,))(spikes)
    assert out.shape == (3, 5, NOUT)
    out.sum().backward()
