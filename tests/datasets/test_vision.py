"""MNIST, Fashion-MNIST, KMNIST and CIFAR-10 through the real torchvision classes, from tiny
files in the true on-disk format; errors for missing or damaged files."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from spikingtorch_datasets import (
    CIFAR10,
    KMNIST,
    MNIST,
    CorruptFileError,
    DatasetNotFoundError,
    FashionMNIST,
)

from ._fakes import MNIST_FILES, idx_images, importable, write_cifar10, write_mnist

pytestmark = pytest.mark.skipif(
    not importable("torchvision"), reason="torchvision does not import in this environment"
)

FAMILY = [(MNIST, "MNIST"), (FashionMNIST, "FashionMNIST"), (KMNIST, "KMNIST")]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any download attempt fails the test."""
    import urllib.request

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a test tried to use the network")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(urllib.request, "urlretrieve", refuse)


@pytest.mark.parametrize(("cls", "folder"), FAMILY)
def test_mnist_family_loads_idx_files_through_torchvision(
    tmp_path: Path, cls: type, folder: str, no_network: None
) -> None:
    arrays = write_mnist(tmp_path, folder)
    train, test = cls(tmp_path), cls(str(tmp_path), train=False)
    assert (len(train), len(test)) == (20, 10)
    assert train.num_classes == 10 and len(train.classes) == 10
    assert train.sample_shape == (1, 28, 28) and train.temporal is False
    for i in (0, 7, 19):
        image, target = train[i]
        assert image.shape == (1, 28, 28) and image.dtype == torch.float32
        expected = torch.from_numpy(arrays["train_images"][i].astype(np.float32) / 255.0)
        assert torch.allclose(image[0], expected, atol=0, rtol=1e-6)
        assert target == int(arrays["train_labels"][i])
    assert test[9][1] == int(arrays["test_labels"][9])
    assert float(train[0][0].min()) >= 0.0 and float(train[0][0].max()) <= 1.0
    # torchvision produced the data (its own parser read the files)
    assert torch.equal(train.data[:, 0], torch.from_numpy(arrays["train_images"]))


def test_class_names_come_from_torchvision(tmp_path: Path) -> None:
    write_mnist(tmp_path, "FashionMNIST")
    assert FashionMNIST(tmp_path).classes[0] == "T-shirt/top"
    write_mnist(tmp_path, "MNIST")
    assert MNIST(tmp_path).classes[3] == "3 - three"


def test_transform_receives_the_float_tensor(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    seen: list[Any] = []
    data = MNIST(tmp_path, transform=lambda x: seen.append(x) or x.flatten(), target_transform=str)
    sample, target = data[0]
    assert isinstance(seen[0], torch.Tensor) and seen[0].shape == (1, 28, 28)
    assert sample.shape == (784,) and isinstance(target, str)


def test_repr_is_torchvision_like(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    text = repr(MNIST(tmp_path, train=False))
    assert text.splitlines()[:4] == [
        "Dataset MNIST",
        "    Number of datapoints: 10",
        f"    Root location: {tmp_path}",
        "    Split: Test",
    ]
    assert "sample_shape=(1, 28, 28), num_classes=10" in text


def test_download_reaches_torchvision_only_when_true(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: None
) -> None:
    datasets = importlib.import_module("torchvision.datasets")
    calls: list[dict[str, Any]] = []
    real = datasets.MNIST

    class Recording(real):  # type: ignore[misc, valid-type]
        def __init__(self, root: str, **kwargs: Any) -> None:
            calls.append(kwargs)
            super().__init__(root, **kwargs)

    Recording.__name__ = "MNIST"  # torchvision's folder is the class name
    monkeypatch.setattr(datasets, "MNIST", Recording)
    write_mnist(tmp_path)
    MNIST(tmp_path)
    # files present: torchvision's download() returns at once, no network
    MNIST(tmp_path, download=True)
    assert calls == [{"train": True}, {"train": True, "download": True}]


@pytest.mark.parametrize(("cls", "folder"), FAMILY)
def test_missing_folder_says_where_and_how(tmp_path: Path, cls: type, folder: str) -> None:
    with pytest.raises(DatasetNotFoundError) as info:
        cls(tmp_path / "nowhere")
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert f"{folder} dataset not found" in message
    assert str(tmp_path / "nowhere" / folder / "raw" / "train-images-idx3-ubyte") in message
    assert "download=True" in message
    assert info.value.missing[0].name == "train-images-idx3-ubyte"


def test_one_missing_file_is_named(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    (tmp_path / "MNIST" / "raw" / MNIST_FILES[3]).unlink()
    with pytest.raises(DatasetNotFoundError, match="t10k-labels-idx1-ubyte") as info:
        MNIST(tmp_path)  # torchvision needs all four files, even for one split
    assert [p.name for p in info.value.missing] == ["t10k-labels-idx1-ubyte"]


def test_root_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatasetNotFoundError, match="is a file, not a folder"):
        MNIST(tmp_path / "file")


def test_wrong_magic_number_names_the_file(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    path = tmp_path / "MNIST" / "raw" / MNIST_FILES[0]
    data = bytearray(path.read_bytes())
    data[0:4] = b"\x1f\x8b\x08\x00"  # a gzip header: the .gz was not decompressed
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match="wrong IDX magic number 0x1f8b0800") as info:
        MNIST(tmp_path)
    assert info.value.path == path and str(path) in str(info.value)


def test_labels_file_with_image_header(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    labels = tmp_path / "MNIST" / "raw" / MNIST_FILES[1]
    labels.write_bytes(idx_images(np.zeros((20, 28, 28), np.uint8)))
    with pytest.raises(CorruptFileError, match="IDX header says 3 dimensions, expected 1"):
        MNIST(tmp_path)


def test_truncated_file_names_the_file_and_the_sizes(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    path = tmp_path / "MNIST" / "raw" / MNIST_FILES[2]
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CorruptFileError) as info:
        MNIST(tmp_path, train=False)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte" in message
    assert "shorter than its header says: 7756 bytes, but shape (10, 28, 28) needs 7856" in message


def test_header_only_fragment(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    path = tmp_path / "MNIST" / "raw" / MNIST_FILES[0]
    path.write_bytes(path.read_bytes()[:2])
    with pytest.raises(CorruptFileError, match="2 bytes is too short for an IDX header"):
        MNIST(tmp_path)


def test_wrong_image_size(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    path = tmp_path / "MNIST" / "raw" / MNIST_FILES[0]
    path.write_bytes(idx_images(np.zeros((20, 32, 32), np.uint8)))
    with pytest.raises(CorruptFileError, match="IDX dimension 1 is 32, expected 28"):
        MNIST(tmp_path)


def test_label_count_must_match_image_count(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    raw = tmp_path / "MNIST" / "raw"
    (raw / MNIST_FILES[1]).write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x03\x01\x02\x03")
    with pytest.raises(
        CorruptFileError, match="holds 3 labels but train-images-idx3-ubyte holds 20"
    ):
        MNIST(tmp_path)


def test_label_values_out_of_range(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    raw = tmp_path / "MNIST" / "raw"
    labels = np.full(10, 12, np.uint8)
    (raw / MNIST_FILES[3]).write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x0a" + labels.tobytes())
    with pytest.raises(CorruptFileError, match=r"t10k-labels.*labels must lie in \[0, 10\)"):
        MNIST(tmp_path, train=False)


def test_broken_torchvision_gives_an_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import spikingtorch_datasets.vision as vision

    real = importlib.import_module

    def fake(name: str, *args: Any) -> Any:
        if name.startswith("torchvision"):
            raise RuntimeError("operator torchvision::nms does not exist")
        return real(name, *args)

    write_mnist(tmp_path)
    monkeypatch.setattr(vision.importlib, "import_module", fake)
    with pytest.raises(
        ImportError,
        match=r"torchvision::nms does not exist.*pip install 'spikingtorch-datasets\[vision\]'",
    ):
        MNIST(tmp_path)


# -- CIFAR-10 ------------------------------------------------------------------------------------
def test_cifar10_checks_md5_and_names_the_damaged_file(tmp_path: Path) -> None:
    write_cifar10(tmp_path)  # tiny batches: not the real files, so the checksums differ
    with pytest.raises(CorruptFileError) as info:
        CIFAR10(tmp_path)
    assert info.value.path == tmp_path / "cifar-10-batches-py" / "data_batch_1"
    assert "md5 checksum is not c99cafc152244af753f735de768cd75f" in str(info.value)


def test_cifar10_loads_through_torchvision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cifar = importlib.import_module("torchvision.datasets.cifar")
    # torchvision md5-checks every batch; accept the tiny test batches by existence instead
    monkeypatch.setattr(cifar, "check_integrity", lambda path, md5=None: Path(path).is_file())
    arrays = write_cifar10(tmp_path)
    train, test = CIFAR10(tmp_path), CIFAR10(tmp_path, train=False)
    assert (len(train), len(test)) == (15, 3)
    assert train.sample_shape == (3, 32, 32) and train.num_classes == 10
    assert train.classes[0] == "airplane" and train.temporal is False
    image, target = test[1]
    row = arrays["test_batch"][1]
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32
    for channel in range(3):  # 1024 R, then G, then B values, each 32x32 row-major
        expected = row[1024 * channel : 1024 * (channel + 1)].reshape(32, 32) / 255.0
        assert torch.allclose(image[channel], torch.from_numpy(expected.astype(np.float32)))
    assert target == int(arrays["test_batch_labels"][1])


def test_cifar10_missing_files(tmp_path: Path) -> None:
    write_cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_4").unlink()
    with pytest.raises(DatasetNotFoundError, match="data_batch_4") as info:
        CIFAR10(tmp_path)
    assert "download=True" in str(info.value) and len(info.value.missing) == 1
    with pytest.raises(DatasetNotFoundError, match="cifar-10-batches-py"):
        CIFAR10(tmp_path / "empty")
