"""Tiny stand-ins for every component kind, registered in-process, for the core's stack tests.

The core's tests run without any plugin installed; these fakes follow the plugin contracts
(torchvision-shaped datasets with ``num_classes``/``temporal``, encoders ``(N, *d) -> (N, T, *d)``,
decoders ``(N, T, C) -> (N, C)``) so that the training stack can be exercised end to end.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

import spikingtorch
from spikingtorch import hookimpl
from spikingtorch.neuron import Neuron
from spikingtorch.registry import Registry


class ToyNeuron(Neuron):
    """Integrate and fire; the spike's gradient is the membrane's (straight through)."""

    def __init__(self, threshold: float = 0.5) -> None:
        super().__init__()
        self.threshold = threshold

    def init_state(self, x: Tensor) -> tuple[Tensor]:
        return (torch.zeros_like(x),)

    def step(self, x: Tensor, state: tuple[Tensor]) -> tuple[Tensor, tuple[Tensor]]:
        v = state[0] + x
        hard = (v > self.threshold).to(x.dtype)
        return hard + (v - v.detach()), ((1 - hard) * v,)


class ToyRate(nn.Module):
    """Stochastic rate code from torch's global RNG: ``(N, *d) -> (N, T, *d)``."""

    def __init__(self, steps: int, *, rate: float = 1.0) -> None:
        super().__init__()
        if steps < 1:
            raise ValueError("steps must be >= 1")
        self.steps = steps
        self.rate = rate

    def forward(self, x: Tensor) -> Tensor:
        p = (x * self.rate).clamp(0, 1).unsqueeze(1).expand(-1, self.steps, *x.shape[1:])
        return (torch.rand_like(p) < p).to(x.dtype)


class ToyTime(nn.Module):
    """An encoder whose input already has a time axis (it takes no ``steps``)."""

    def __init__(self, threshold: float = 0.5) -> None:
        super().__init__()
        self.threshold = threshold

    def forward(self, x: Tensor) -> Tensor:
        return (x > self.threshold).to(x.dtype)


class ToyCount(nn.Module):
    """Spike count over time: ``(N, T, C) -> (N, C)``."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, spikes: Tensor) -> Tensor:
        return spikes.sum(1) * self.scale


class _Base(torch.utils.data.Dataset[tuple[Tensor, int]]):
    def __init__(
        self,
        root: Any = None,
        train: bool = True,
        transform: Any = None,
        target_transform: Any = None,
        download: bool = False,
        *,
        samples: int = 48,
        seed: int = 0,
    ) -> None:
        self.root, self.train, self.download = root, train, download
        generator = torch.Generator().manual_seed(seed)
        self.prototypes = torch.rand(self.n_classes, *self.sample_shape, generator=generator)
        generator.manual_seed(seed + (1 if train else 2))
        self.targets = torch.arange(samples) % self.n_classes
        noise = 0.2 * torch.rand(samples, *self.sample_shape, generator=generator)
        self.data = (self.prototypes[self.targets] * 0.8 + noise).clamp(0, 1)

    n_classes = 3
    sample_shape: tuple[int, ...] = ()

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        return self.data[index], int(self.targets[index])


class ToyTemporal(_Base):
    """Spike trains ``(T, units) = (6, 10)``, 3 classes (a temporal dataset)."""

    num_classes = 3
    temporal = True
    sample_shape = (6, 10)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        x, y = super().__getitem__(index)
        return (x > 0.5).float(), y


class ToyImages(_Base):
    """Images ``(1, 12, 12)`` in [0, 1], classes given torchvision-style as ``classes``."""

    classes = ("a", "b", "c", "d")
    n_classes = 4
    temporal = False
    sample_shape = (1, 12, 12)


class ToyNoClasses(_Base):
    """A dataset that does not say how many classes it has."""

    temporal = True
    sample_shape = (4, 3)


class FakeStackPlugin:
    """Registers one fake component of every kind a training stack needs."""

    @hookimpl
    def register_neurons(self, registry: Registry) -> None:
        registry.add("toy", ToyNeuron)

    @hookimpl
    def register_encoders(self, registry: Registry) -> None:
        registry.add("toy_rate", ToyRate)
        registry.add("toy_time", ToyTime)

    @hookimpl
    def register_decoders(self, registry: Registry) -> None:
        registry.add("toy_count", ToyCount)

    @hookimpl
    def register_datasets(self, registry: Registry) -> None:
        registry.add("toy_temporal", ToyTemporal)
        registry.add("toy_images", ToyImages)
        registry.add("toy_noclasses", ToyNoClasses)


def register_fakes() -> None:
    """Register :class:`FakeStackPlugin` with the process-wide plugin host."""
    spikingtorch.register_plugin(FakeStackPlugin(), name="fake-stack")


#: A small stack of fakes: every field a quick in-process run needs.
TOY_STACK: dict[str, Any] = {
    "dataset": "toy_temporal",
    "network": "mlp",
    "network_params": {"hidden": [8]},
    "neuron": "toy",
    "decoder": "toy_count",
    "epochs": 2,
    "batch_size": 8,
    "threads": 1,
}
