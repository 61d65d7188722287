"""The workload every framework runs: the two networks, reference weights, input and labels.

Everything here is deterministic (seeded ``torch.Generator`` on CPU), so each worker process
rebuilds the very same weights and data without any of it crossing a pipe.

Shapes: ``N`` is the batch size, ``T`` the number of time steps.

* net ``A``: the seed tutorial's conv net ``Conv2d(1,4,4,stride=2) -> S -> Conv2d(4,6,4) -> S
  -> flatten(600) -> Linear(600,10,bias=False) -> S`` on ``(N, T, 1, 28, 28)`` inputs;
* net ``B``: an MLP ``784 -> 1024 -> S -> 1024 -> S -> 10 (no bias) -> S`` on ``(N, T, 784)``;

where ``S`` is the spiking neuron (or ReLU for the ANN rows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

__all__ = [
    "NETS",
    "Affine",
    "Workload",
    "load_reference",
    "make_batch",
    "reference_parameters",
    "torch_layer",
]


@dataclass(frozen=True)
class Affine:
    """One weight layer of a benchmark net: a ``Conv2d`` (``kind="conv"``) or a ``Linear``.

    A ``Linear`` that follows a ``Conv2d`` receives the flattened feature map.
    """

    kind: str
    in_features: int
    out_features: int
    kernel: int = 1
    stride: int = 1
    bias: bool = True

    @property
    def fan_in(self) -> int:
        """Inputs per output unit (``in_channels * k * k`` for a conv)."""
        return self.in_features * (self.kernel**2 if self.kind == "conv" else 1)

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """Shape of ``weight`` in PyTorch's layout (every framework here uses it)."""
        if self.kind == "conv":
            return (self.out_features, self.in_features, self.kernel, self.kernel)
        return (self.out_features, self.in_features)


NETS: dict[str, tuple[Affine, ...]] = {
    "A": (
        Affine("conv", 1, 4, kernel=4, stride=2),  # 28x28 -> 4x13x13
        Affine("conv", 4, 6, kernel=4),  # -> 6x10x10 = 600
        Affine("linear", 600, 10, bias=False),
    ),
    "B": (
        Affine("linear", 784, 1024),
        Affine("linear", 1024, 1024),
        Affine("linear", 1024, 10, bias=False),
    ),
}

_IN_SHAPES: dict[str, tuple[int, ...]] = {"A": (1, 28, 28), "B": (784,)}


@dataclass(frozen=True)
class Workload:
    """One benchmark configuration.

    Attributes:
        net: ``"A"`` (seed conv net) or ``"B"`` (MLP).
        steps: ``T``, the number of time steps.
        neuron: ``"lif"`` (``v <- decay * v + I``) or ``"if"`` (``v <- v + I``); threshold 1,
            spike iff ``v > 1``, zero (hard) reset.
        batch: ``N``.
        seed: seeds the reference weights, the input spikes and the labels.
        decay: the LIF decay factor (``tau = 10`` steps in SpikingJelly's parametrisation).
        input_rate: probability of an input spike per pixel and step (Bernoulli).
        lr: Adam's learning rate.
        device: where the model and the batch live (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...).
    """

    net: str
    steps: int
    neuron: str
    batch: int = 128
    seed: int = 0
    decay: float = 0.9
    input_rate: float = 0.2
    lr: float = 1e-3
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.net not in NETS:
            raise ValueError(f"net must be one of {sorted(NETS)}, got {self.net!r}")
        if self.neuron not in ("lif", "if"):
            raise ValueError(f"neuron must be 'lif' or 'if', got {self.neuron!r}")
        if self.steps < 1 or self.batch < 1:
            raise ValueError(f"need T >= 1 and batch >= 1, got T={self.steps}, N={self.batch}")

    @property
    def key(self) -> str:
        """Short name, e.g. ``A_T8_lif``."""
        return f"{self.net}_T{self.steps}_{self.neuron}"

    @property
    def title(self) -> str:
        """Column label for summary tables, e.g. ``A T8 lif``."""
        return f"{self.net} T{self.steps} {self.neuron}"

    @property
    def layers(self) -> tuple[Affine, ...]:
        """The weight layers of the net."""
        return NETS[self.net]

    @property
    def in_shape(self) -> tuple[int, ...]:
        """Per-step input shape of one sample."""
        return _IN_SHAPES[self.net]


def reference_parameters(work: Workload) -> list[tuple[Tensor, Tensor | None]]:
    """The shared weights: ``(weight, bias)`` per layer, ``U(-b, b)`` with ``b = 5/sqrt(fan_in)``.

    That scale makes 8-20 % of the neurons fire on the Bernoulli(0.2) input, so the spiking
    layers neither die nor saturate.
    """
    gen = torch.Generator().manual_seed(work.seed)
    params: list[tuple[Tensor, Tensor | None]] = []
    for spec in work.layers:
        bound = 5.0 / math.sqrt(spec.fan_in)
        weight = (torch.rand(spec.weight_shape, generator=gen) * 2 - 1) * bound
        bias = (torch.rand(spec.out_features, generator=gen) * 2 - 1) * bound if spec.bias else None
        params.append((weight, bias))
    return params


def make_batch(work: Workload) -> tuple[Tensor, Tensor]:
    """The fixed input and labels: ``x`` ``(N, T, *in)`` of Bernoulli spikes, labels ``(N,)``.

    Drawn on the CPU (the same values for every device), then moved to ``work.device``.
    """
    gen = torch.Generator().manual_seed(work.seed + 1)
    shape = (work.batch, work.steps, *work.in_shape)
    x = (torch.rand(shape, generator=gen) < work.input_rate).float()
    labels = torch.randint(0, 10, (work.batch,), generator=gen)
    return x.to(work.device), labels.to(work.device)


def torch_layer(spec: Affine) -> nn.Module:
    """A plain ``nn.Conv2d`` / ``nn.Linear`` for ``spec``."""
    if spec.kind == "conv":
        return nn.Conv2d(
            spec.in_features, spec.out_features, spec.kernel, stride=spec.stride, bias=spec.bias
        )
    return nn.Linear(spec.in_features, spec.out_features, bias=spec.bias)


def load_reference(layers: list[nn.Module], work: Workload, scale: float = 1.0) -> None:
    """Copy the reference weights (times ``scale``) into ``layers``, in network order."""
    params = reference_parameters(work)
    if len(layers) != len(params):
        raise ValueError(f"expected {len(params)} weight layers, found {len(layers)}")
    with torch.no_grad():
        for layer, (weight, bias) in zip(layers, params, strict=True):
            layer_weight = layer.weight
            if not isinstance(layer_weight, Tensor) or layer_weight.shape != weight.shape:
                raise ValueError(
                    f"{type(layer).__name__}: weight is not a tensor of shape {tuple(weight.shape)}"
                )
            layer_weight.copy_(weight * scale)
            layer_bias = getattr(layer, "bias", None)
            if (layer_bias is None) != (bias is None):
                raise ValueError(f"{type(layer).__name__}: bias presence does not match")
            if bias is not None and isinstance(layer_bias, Tensor):
                layer_bias.copy_(bias * scale)
