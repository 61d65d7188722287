"""Every dataset this plugin registers passes the conformance kit ``spikingtorch.testing``.

The names come from the registry; each needs a builder below that writes tiny files in the true
on-disk format (see ``_fakes``), so a dataset added to ``plugin.py`` without one fails here
rather than going unchecked. Datasets whose reader needs torchvision or h5py are skipped where
those do not import (and fail instead under ``SPIKINGTORCH_TEST_REQUIRE``, as in tox).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import spikingtorch
from spikingtorch.registry import normalize_provider
from spikingtorch.testing import check_dataset

from ._fakes import importable, write_cifar10, write_mnist, write_nmnist, write_shd

Builder = Callable[[Path], Any]


def _randman(train: bool, **kwargs: Any) -> Builder:
    small = {"num_classes": 3, "units": 5, "steps": 10, "samples_per_class": 10, "seed": 1}
    return lambda root: spikingtorch.get_dataset("randman", train=train, **small, **kwargs)


def _mnist(name: str, folder: str) -> Builder:
    def build(root: Path) -> Any:
        write_mnist(root, folder, n_train=4, n_test=2)
        return spikingtorch.get_dataset(name, root=root)

    return build


def _cifar10(root: Path) -> Any:
    write_cifar10(root, per_batch=1)
    # tiny batches are not the real files: accept any checksum, as test_vision.py does
    cifar = importlib.import_module("torchvision.datasets.cifar")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cifar, "check_integrity", lambda path, md5=None: Path(path).is_file())
        return spikingtorch.get_dataset("cifar10", root=root, train=False)


def _nmnist(**kwargs: Any) -> Builder:
    def build(root: Path) -> Any:
        write_nmnist(root, "Train", 3, "00001", [(0, 0, 0, 1), (33, 33, 500, 0)])
        write_nmnist(root, "Train", 7, "00002", [(1, 2, 3, 1)])
        write_nmnist(root, "Train", 9, "00003", [])
        return spikingtorch.get_dataset("nmnist", root=root, **kwargs)

    return build


def _shd(**kwargs: Any) -> Builder:
    def build(root: Path) -> Any:
        times = [[0.0, 0.25, 0.5], [], [0.125]]
        write_shd(root / "SHD" / "shd_train.h5", times, [[0, 699, 3], [], [42]], [4, 19, 0])
        return spikingtorch.get_dataset("shd", root=root, **kwargs)

    return build


# name -> (module that must import, {label: builder})
BUILDERS: dict[str, tuple[str | None, dict[str, Builder]]] = {
    "randman": (
        None,
        {"train": _randman(True), "test": _randman(False), "2d": _randman(True, manifold_dim=2)},
    ),
    "mnist": ("torchvision", {"train": _mnist("mnist", "MNIST")}),
    "fashion_mnist": ("torchvision", {"train": _mnist("fashion_mnist", "FashionMNIST")}),
    "kmnist": ("torchvision", {"train": _mnist("kmnist", "KMNIST")}),
    "cifar10": ("torchvision", {"test": _cifar10}),
    "nmnist": (None, {"events": _nmnist(), "frames": _nmnist(n_bins=3)}),
    "shd": ("h5py", {"events": _shd(), "frames": _shd(n_bins=4, duration=600_000)}),
}

DATASETS = sorted(
    e.name
    for e in spikingtorch.get_registry("datasets").entries()
    if normalize_provider(e.provider) == "spikingtorch-datasets"
)
CASES = [
    (name, label)
    for name in DATASETS
    for label in (BUILDERS[name][1] if name in BUILDERS else ["<missing builder>"])
]


def test_the_plugin_registers_datasets() -> None:
    assert {"randman", "mnist", "nmnist", "shd"} <= set(DATASETS)


@pytest.mark.parametrize(("name", "label"), CASES)
def test_registered_dataset_conforms(name: str, label: str, tmp_path: Path) -> None:
    assert name in BUILDERS, (
        f"dataset {name!r} is registered but has no builder in BUILDERS: add one that writes "
        "a tiny file in its format, so that the conformance kit checks it"
    )
    needs, builders = BUILDERS[name]
    if needs is not None and not importable(needs):
        pytest.skip(f"{needs} does not import in this environment")
    check_dataset(builders[label](tmp_path))
