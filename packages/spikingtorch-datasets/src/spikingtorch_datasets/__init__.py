"""Spiking datasets for spikingtorch: Randman, torchvision image sets, N-MNIST and SHD.

Every dataset has a torchvision-shaped constructor ``(root, train=True, transform=None,
target_transform=None, download=False, ...)``, returns ``(sample, target)`` pairs and tells the
training stack what it holds: ``num_classes``, ``sample_shape`` (one sample before
``transform``) and ``temporal`` (True when a sample already has a time axis first). Nothing is
downloaded unless ``download=True``; missing or damaged files raise
:class:`DatasetNotFoundError` or :class:`CorruptFileError`, naming the file and the problem.

* :class:`Randman` — random-manifold spike timing, generated from a seed (no files).
* :class:`MNIST`, :class:`FashionMNIST`, :class:`KMNIST`, :class:`CIFAR10` — torchvision's
  datasets, as float tensors ``(C, H, W)`` in ``[0, 1]``.
* :class:`NMNIST`, :class:`SHD` — event recordings as numpy structured arrays;
  :class:`ToFrames` bins them into count frames.

The package registers itself with spikingtorch through :mod:`spikingtorch_datasets.plugin`
(``spikingtorch.get_dataset("randman")``). Names load on first access, so that importing the
plugin module does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public name -> module that defines it.
_LAZY: dict[str, str] = {
    "DatasetNotFoundError": "spikingtorch_datasets._files",
    "CorruptFileError": "spikingtorch_datasets._files",
    "SpikeDataset": "spikingtorch_datasets._base",
    "Randman": "spikingtorch_datasets.synthetic",
    "randman_spike_times": "spikingtorch_datasets.synthetic",
    **dict.fromkeys(("MNIST", "FashionMNIST", "KMNIST", "CIFAR10"), "spikingtorch_datasets.vision"),
    **dict.fromkeys(
        ("NMNIST", "SHD", "NMNIST_EVENT_DTYPE", "SHD_EVENT_DTYPE", "read_nmnist_file"),
        "spikingtorch_datasets.events",
    ),
    "ToFrames": "spikingtorch_datasets.transforms",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
