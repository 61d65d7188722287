"""Threshold adaptation gives a spiking network a memory far longer than its membranes'.

The task is a delayed cue (store-and-recall, as in Bellec et al. 2018): for the first 5 steps
one of two groups of 8 input channels fires (Poisson, p = 0.5) and says the class; then 40
steps carry only sparse background noise on every channel (p = 0.02); then, for the last 5
steps, 4 "recall" channels fire (p = 0.5) and the class is read out from the sum over these
steps of a linear readout of the hidden spikes. Network: ``Linear(20, 32) -> neuron ->
Linear(32, 2)`` in a :class:`spikingtorch.SpikingNet`, membrane tau = 3 steps, trained with
Adam (lr 1e-2) for 100 batches of 64 fresh samples, tested on 1000 held-out samples.

After 40 steps a membrane with tau = 3 keeps ``exp(-40 / 3) ~ 2e-6`` of the cue, so a LIF
network can only guess. The adaptive LIF (tau_adapt = 100 steps, adapt_strength = 0.3)
remembers: the cue makes some hidden neurons spike, their thresholds stay raised through the
delay (``exp(-40 / 100) ~ 0.67`` of the raise is left), and they answer the recall signal with
fewer spikes.

Measured here (torch 2.13 CPU; 1 and 2 threads give the same), test accuracy for seeds 0..4:

* AdaptiveLIF: 0.970, 0.951, 0.949, 0.972, 0.958  (mean 0.960)
* LIF:         0.520, 0.486, 0.487, 0.489, 0.493  (mean 0.495: chance)

a margin of 0.47 on average and at least 0.43 (worst ALIF seed against best LIF seed). The
test trains seed 0 of each on one thread (3-4 s each on an idle machine) and asserts
ALIF >= 0.85, LIF <= 0.65 and a margin >= 0.3.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch import Tensor, nn

from spikingtorch import SpikingNet
from spikingtorch_neurons import LIF, AdaptiveLIF

CUE, DELAY, RECALL = 5, 40, 5
STEPS = CUE + DELAY + RECALL
GROUP, RECALL_CHANNELS = 8, 4
CHANNELS = 2 * GROUP + RECALL_CHANNELS
HIDDEN = 32


def delayed_cue(n: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """``n`` samples: spikes ``(n, STEPS, CHANNELS)`` in {0, 1} and labels ``(n,)`` in {0, 1}."""
    y = torch.randint(0, 2, (n,), generator=gen)
    x = (torch.rand(n, STEPS, CHANNELS, generator=gen) < 0.02).float()  # background noise
    cue = (torch.rand(n, CUE, GROUP, generator=gen) < 0.5).float()
    for label in (0, 1):
        rows = y == label
        cols = slice(label * GROUP, (label + 1) * GROUP)
        x[rows, :CUE, cols] = torch.maximum(x[rows, :CUE, cols], cue[rows])
    recall = (torch.rand(n, RECALL, RECALL_CHANNELS, generator=gen) < 0.5).float()
    x[:, -RECALL:, 2 * GROUP :] = torch.maximum(x[:, -RECALL:, 2 * GROUP :], recall)
    return x, y


def readout(model: nn.Module, x: Tensor) -> Tensor:
    """Class scores ``(N, 2)``: the network's outputs summed over the recall steps."""
    out: Tensor = model(x)
    return out[:, -RECALL:].sum(1)


def train_and_test(neuron: nn.Module, seed: int, batches: int = 100, batch: int = 64) -> float:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = SpikingNet(nn.Sequential(nn.Linear(CHANNELS, HIDDEN), neuron, nn.Linear(HIDDEN, 2)), 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(batches):
        x, y = delayed_cue(batch, gen)
        loss = nn.functional.cross_entropy(readout(model, x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x, y = delayed_cue(1000, torch.Generator().manual_seed(1000 + seed))
    with torch.no_grad():
        return float((readout(model, x).argmax(1) == y).float().mean())


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Run on one CPU thread: faster for these small tensors, and the same on any machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.mark.usefixtures("one_thread")
def test_adaptive_lif_remembers_a_cue_that_a_lif_forgets() -> None:
    alif = train_and_test(AdaptiveLIF(tau=3.0, tau_adapt=100.0, adapt_strength=0.3), seed=0)
    lif = train_and_test(LIF(tau=3.0), seed=0)
    assert alif >= 0.85, f"AdaptiveLIF accuracy {alif:.3f}"
    assert lif <= 0.65, f"LIF accuracy {lif:.3f} (it should be at chance)"
    assert alif - lif >= 0.3, f"AdaptiveLIF {alif:.3f} vs LIF {lif:.3f}"
