"""The plugin module: registry entries with summaries, lookup by name, lazy imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import spikingtorch
import spikingtorch_datasets
from spikingtorch_datasets import plugin

from ._fakes import importable, write_mnist

NAMES = {"randman", "mnist", "fashion_mnist", "kmnist", "cifar10", "nmnist", "shd"}


class _FakeRegistry:
    def __init__(self) -> None:
        self.added: dict[str, tuple[Any, str | None, tuple[str, ...]]] = {}

    def add(self, name: str, factory: Any, *, summary: Any = None, aliases: Any = ()) -> None:
        self.added[name] = (factory, summary, tuple(aliases))


def test_registers_every_dataset_as_a_lazy_string_with_a_one_line_summary() -> None:
    registry = _FakeRegistry()
    plugin.register_datasets(registry)
    assert set(registry.added) == NAMES
    for factory, summary, _ in registry.added.values():
        assert isinstance(factory, str) and factory.startswith("spikingtorch_datasets.")
        assert summary and "\n" not in summary and len(summary) <= 100


def test_entries_in_the_process_registry() -> None:
    entries = {e.name: e for e in spikingtorch.get_registry("datasets").entries()}
    assert set(entries) >= NAMES
    assert entries["randman"].provider == "spikingtorch-datasets"
    assert entries["randman"].summary and "no download" in entries["randman"].summary
    registry = spikingtorch.get_registry("datasets")
    assert registry.resolve("fashion-mnist").__name__ == "FashionMNIST"  # - == _
    assert registry.resolve("Fashion-MNIST") is registry.resolve("fmnist")
    assert registry.resolve("n-mnist").__name__ == "NMNIST"
    assert registry.resolve("cifar-10").__name__ == "CIFAR10"


def test_get_dataset_builds_randman() -> None:
    data = spikingtorch.get_dataset("randman", num_classes=3, units=4, steps=6, samples_per_class=5)
    assert type(data).__name__ == "Randman" and len(data) == 12
    assert data[0][0].shape == (6, 4)
    from spikingtorch import Randman

    assert isinstance(data, Randman)


@pytest.mark.skipif(not importable("torchvision"), reason="torchvision does not import here")
def test_get_dataset_by_a_hyphenated_name(tmp_path: Path) -> None:
    write_mnist(tmp_path, "FashionMNIST")
    data = spikingtorch.get_dataset("fashion-mnist", root=tmp_path, train=False)
    assert type(data).__name__ == "FashionMNIST" and len(data) == 10


def _run(code: str, **env: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    return out.stdout.strip()


def test_discovering_the_plugin_imports_neither_torch_nor_torchvision() -> None:
    code = (
        "import sys, spikingtorch, spikingtorch_datasets.plugin; "
        "spikingtorch.plugin_records(); "
        "names = spikingtorch.get_registry('datasets').names(); "
        "assert 'randman' in names, names; "
        "print(sorted(m for m in ('torch', 'torchvision', 'h5py', 'numpy') if m in sys.modules))"
    )
    assert _run(code, SPIKINGTORCH_PLUGINS="spikingtorch-datasets") == "[]"


def test_lazy_exports() -> None:
    assert set(spikingtorch_datasets.__all__) >= {
        "Randman",
        "MNIST",
        "FashionMNIST",
        "KMNIST",
        "CIFAR10",
        "NMNIST",
        "SHD",
        "ToFrames",
        "DatasetNotFoundError",
        "CorruptFileError",
    }
    assert "Randman" in dir(spikingtorch_datasets)
    assert issubclass(spikingtorch_datasets.DatasetNotFoundError, FileNotFoundError)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        spikingtorch_datasets.Nope  # noqa: B018
    for name in spikingtorch_datasets.__all__:
        assert getattr(spikingtorch_datasets, name) is not None
