"""Tiny spiking networks for the decoder and loss tests, built from core pieces only.

tests/encoders runs without the neurons plugin, so the neurons here are small
:class:`spikingtorch.Neuron` subclasses written for the tests: an integrate-and-fire neuron with
a sigmoid surrogate spike, and a non-spiking leaky integrator (a membrane readout).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from spikingtorch import Neuron, SpikingNet
from spikingtorch.surrogate import Sigmoid, spike

SURROGATE = Sigmoid(slope=5.0)


class ToyIF(Neuron):
    """v_t = (1 - s_{t-1}) v_{t-1} + x_t, s_t = H(v_t - 1) with a sigmoid surrogate."""

    def init_state(self, x_t: Tensor) -> tuple[Tensor, Tensor]:
        return torch.zeros_like(x_t), torch.zeros_like(x_t)

    def step(
        self, x_t: Tensor, state: tuple[Tensor, Tensor]
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        v_prev, s_prev = state
        v = (1 - s_prev) * v_prev + x_t
        s = spike(v - 1.0, SURROGATE)
        return s, (v, s)


class ToyLI(Neuron):
    """Leaky integrator readout that never spikes: v_t = 0.8 v_{t-1} + x_t, returns v_t."""

    def init_state(self, x_t: Tensor) -> tuple[Tensor]:
        return (torch.zeros_like(x_t),)

    def step(self, x_t: Tensor, state: tuple[Tensor]) -> tuple[Tensor, tuple[Tensor]]:
        v = 0.8 * state[0] + x_t
        return v, (v,)


class TwoLayer(nn.Module):
    """Linear -> IF -> Linear -> IF (spikes out) or LI (membrane out)."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int, *, membrane: bool = False) -> None:
        super().__init__()
        self.fc1 = nn.Linear(n_in, n_hidden)
        self.sl1 = ToyIF()
        self.fc2 = nn.Linear(n_hidden, n_out)
        self.sl2: Neuron = ToyLI() if membrane else ToyIF()

    def forward(self, xi: Tensor, init: bool) -> Tensor:
        return self.sl2(self.fc2(self.sl1(self.fc1(xi), init)), init)


def tiny_net(
    n_in: int = 4, n_out: int = 3, *, membrane: bool = False, seed: int = 0
) -> tuple[SpikingNet, TwoLayer]:
    """A SpikingNet around :class:`TwoLayer` whose hidden and output layers fire."""
    torch.manual_seed(seed)
    inner = TwoLayer(n_in, 16, n_out, membrane=membrane)
    with torch.no_grad():  # strong enough weights that the layers fire within a few steps
        inner.fc1.weight.uniform_(0.0, 1.0)
        inner.fc1.bias.zero_()
        inner.fc2.weight.uniform_(-0.1, 0.3)
        inner.fc2.bias.fill_(0.1)
    return SpikingNet(inner, (n_out,)), inner
