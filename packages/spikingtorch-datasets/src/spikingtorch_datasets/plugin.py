"""The ``spikingtorch-datasets`` plugin: registers this package's datasets.

Declared as the entry point ``spikingtorch-datasets`` in the ``spikingtorch`` group. Factories
are ``"module:attribute"`` strings, resolved on first use, so that discovering the plugin does
not import torch, torchvision or h5py. Names are normalised by the registry (``-`` equals
``_``), so ``fashion-mnist`` finds ``fashion_mnist``.
"""

from __future__ import annotations

from spikingtorch import hookimpl
from spikingtorch.registry import Registry

__all__ = ["register_datasets"]
SPIKINGTORCH_PLUGIN_API = ">=1.0,<2"  # the spikingtorch plugin API versions it supports


@hookimpl
def register_datasets(registry: Registry) -> None:
    """Register the datasets with the ``datasets`` registry."""
    registry.add(
        "randman",
        "spikingtorch_datasets.synthetic:Randman",
        summary="random-manifold spike-timing classes generated from a seed (no download)",
    )
    vision = "spikingtorch_datasets.vision"
    registry.add(
        "mnist",
        f"{vision}:MNIST",
        summary="MNIST handwritten digits through torchvision, (1, 28, 28) in [0, 1]",
    )
    registry.add(
        "fashion_mnist",
        f"{vision}:FashionMNIST",
        summary="Fashion-MNIST clothing images through torchvision, (1, 28, 28) in [0, 1]",
        aliases=("fmnist",),
    )
    registry.add(
        "kmnist",
        f"{vision}:KMNIST",
        summary="Kuzushiji-MNIST cursive Japanese characters through torchvision, (1, 28, 28)",
    )
    registry.add(
        "cifar10",
        f"{vision}:CIFAR10",
        summary="CIFAR-10 colour images through torchvision, (3, 32, 32) in [0, 1]",
        aliases=("cifar_10",),
    )
    events = "spikingtorch_datasets.events"
    registry.add(
        "nmnist",
        f"{events}:NMNIST",
        summary="N-MNIST event-camera digits (.bin files), events x, y, t (µs), p",
        aliases=("n_mnist",),
    )
    registry.add(
        "shd",
        f"{events}:SHD",
        summary="Spiking Heidelberg Digits (HDF5, needs h5py), events t (µs), unit of 700",
    )
