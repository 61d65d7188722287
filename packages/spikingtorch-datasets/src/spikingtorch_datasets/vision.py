"""Static image datasets through torchvision: MNIST, Fashion-MNIST, KMNIST and CIFAR-10.

The files are read by torchvision's own dataset classes, in torchvision's on-disk layout, so an
existing ``root`` folder works unchanged (``root/MNIST/raw/...``, ``root/cifar-10-batches-py/``).
What this module adds:

* samples are float32 tensors ``(C, H, W)`` in ``[0, 1]``, ready for a spike encoder (no PIL
  round trip); ``transform`` receives that tensor;
* missing files raise :class:`~spikingtorch_datasets.DatasetNotFoundError`, which lists the
  files looked for and how to get them, and damaged files raise
  :class:`~spikingtorch_datasets.CorruptFileError` naming the file and the problem (IDX headers
  and lengths are checked before torchvision reads them);
* torchvision is imported in the constructor, so that the plugin loads without it, and
  ``download`` reaches torchvision only when it is True.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import torch
from torch import Tensor

from spikingtorch_datasets._base import SpikeDataset
from spikingtorch_datasets._files import (
    CorruptFileError,
    DatasetNotFoundError,
    check_idx_file,
    expand_root,
    missing_files,
    require_root,
)

__all__ = ["CIFAR10", "KMNIST", "MNIST", "FashionMNIST"]


def _torchvision_datasets(dataset: str) -> ModuleType:
    """Import ``torchvision.datasets`` or explain why it cannot be used."""
    try:
        return importlib.import_module("torchvision.datasets")
    except Exception as error:  # a broken torchvision raises RuntimeError, not ImportError
        raise ImportError(
            f"{dataset} is read with torchvision, which could not be imported "
            f"({type(error).__name__}: {error}). Install a torchvision release built for "
            f"torch {torch.__version__}: pip install 'spikingtorch-datasets[vision]'"
        ) from error


class _TorchvisionImages(SpikeDataset):
    """Shared logic: check the files, let torchvision load them, keep ``uint8`` data."""

    _torchvision_class: ClassVar[str]
    _about: ClassVar[str]

    root: Path
    data: Tensor
    targets: Tensor

    def __init__(
        self,
        root: str | os.PathLike[str],
        train: bool = True,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        download: bool = False,
    ) -> None:
        name = type(self).__name__
        self.root = expand_root(root, name)
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        self.temporal = False
        require_root(self.root, name, self._hint())
        self._check_files(download)
        datasets = _torchvision_datasets(name)
        options: dict[str, Any] = {"download": True} if download else {}
        loaded = self._construct(datasets, options)
        self.classes = [str(c) for c in loaded.classes]
        self.num_classes = len(self.classes)
        self.data, self.targets = self._to_tensors(loaded)
        self.sample_shape: tuple[int, ...] = tuple(self.data.shape[1:])
        self._check_targets()

    # -- per family ------------------------------------------------------------------------------
    def _hint(self) -> str:
        raise NotImplementedError

    def _check_files(self, download: bool) -> None:
        """Raise if files are missing (unless ``download``: torchvision fetches them) or bad."""
        raise NotImplementedError

    def _construct(self, datasets: ModuleType, options: dict[str, Any]) -> Any:
        cls = getattr(datasets, self._torchvision_class)
        return cls(str(self.root), train=self.train, **options)

    def _to_tensors(self, loaded: Any) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def _labels_file(self) -> Path:
        raise NotImplementedError

    def _check_targets(self) -> None:
        if self.targets.numel() and not 0 <= int(self.targets.min()) <= int(self.targets.max()) < (
            self.num_classes
        ):
            raise CorruptFileError(
                self._labels_file(),
                f"labels must lie in [0, {self.num_classes}), found "
                f"{int(self.targets.min())}..{int(self.targets.max())}",
            )

    # -- dataset protocol ------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.data.shape[0])

    def _load(self, index: int) -> tuple[Tensor, int]:
        return self.data[index].to(torch.float32).div_(255.0), int(self.targets[index])

    def extra_repr(self) -> str:
        return f"sample_shape={self.sample_shape}, num_classes={self.num_classes}"


class _MNISTFamily(_TorchvisionImages):
    """The MNIST layout: four uncompressed IDX files in ``root/<ClassName>/raw/``."""

    _FILES: ClassVar[tuple[str, ...]] = (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    )

    @property
    def raw_folder(self) -> Path:
        """``root/<ClassName>/raw``, where torchvision looks for the IDX files."""
        return self.root / self._torchvision_class / "raw"

    def _hint(self) -> str:
        return (
            f"Pass download=True to download {self._about}, or put the four uncompressed IDX "
            f"files ({', '.join(self._FILES)}; gunzip the .gz downloads) into {self.raw_folder}."
        )

    def _check_files(self, download: bool) -> None:
        paths = [self.raw_folder / f for f in self._FILES]
        missing = missing_files(paths)
        if missing:
            processed = self.root / self._torchvision_class / "processed"
            if download or not missing_files([processed / "training.pt", processed / "test.pt"]):
                return  # torchvision downloads, or reads its legacy cache
            raise DatasetNotFoundError(type(self).__name__, missing, self._hint())
        for images, labels in ((paths[0], paths[1]), (paths[2], paths[3])):
            n_images = check_idx_file(images, ndim=3, dims=(None, 28, 28))[0]
            n_labels = check_idx_file(labels, ndim=1)[0]
            if n_images != n_labels:
                raise CorruptFileError(
                    labels, f"holds {n_labels} labels but {images.name} holds {n_images} images"
                )

    def _labels_file(self) -> Path:
        return self.raw_folder / self._FILES[1 if self.train else 3]

    def _to_tensors(self, loaded: Any) -> tuple[Tensor, Tensor]:
        data = torch.as_tensor(loaded.data, dtype=torch.uint8)
        return data.unsqueeze(1), torch.as_tensor(loaded.targets, dtype=torch.int64)


class MNIST(_MNISTFamily):
    """MNIST handwritten digits (60,000 train / 10,000 test, 10 classes), via torchvision.

    Files: ``root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`` (torchvision's
    layout; ``download=True`` fetches them, about 12 MB).

    Args:
        root: The folder that holds (or will hold) ``MNIST/``; ``~`` is expanded.
        train: The training split (True) or the test split.
        transform: Applied to each image tensor ``(1, 28, 28)`` (not to a PIL image).
        target_transform: Applied to each target (an int).
        download: Download the files when missing (only then is the network used).

    Attributes:
        data: ``(N, 1, 28, 28)`` uint8 images. targets: ``(N,)`` int64 labels.
        num_classes (10), classes, sample_shape (``(1, 28, 28)``), temporal (False).

    Shape:
        sample: ``(1, 28, 28)`` float32 in ``[0, 1]``; target: ``int``.

    Raises:
        DatasetNotFoundError: A file is missing and ``download`` is False.
        CorruptFileError: A file's IDX header or length is wrong.
        ImportError: torchvision cannot be imported.
    """

    _torchvision_class = "MNIST"
    _about = "MNIST (about 12 MB)"


class FashionMNIST(_MNISTFamily):
    """Fashion-MNIST clothing images (60,000 / 10,000, 10 classes), via torchvision.

    Files: ``root/FashionMNIST/raw/`` with the four MNIST-format IDX files (``download=True``
    fetches them, about 30 MB). Arguments, attributes and shapes as :class:`MNIST`.
    """

    _torchvision_class = "FashionMNIST"
    _about = "Fashion-MNIST (about 30 MB)"


class KMNIST(_MNISTFamily):
    """Kuzushiji-MNIST cursive Japanese characters (60,000 / 10,000, 10 classes), via torchvision.

    Files: ``root/KMNIST/raw/`` with the four MNIST-format IDX files (``download=True`` fetches
    them, about 20 MB). Arguments, attributes and shapes as :class:`MNIST`.
    """

    _torchvision_class = "KMNIST"
    _about = "KMNIST (about 20 MB)"


class CIFAR10(_TorchvisionImages):
    """CIFAR-10 colour images (50,000 train / 10,000 test, 10 classes), via torchvision.

    Files: ``root/cifar-10-batches-py/`` with ``data_batch_1`` … ``data_batch_5``,
    ``test_batch`` and ``batches.meta`` (``download=True`` fetches and unpacks
    ``cifar-10-python.tar.gz``, about 170 MB). torchvision verifies the md5 checksum of every
    file on each load; a mismatch is a :class:`CorruptFileError` naming the file.

    Args:
        root: The folder that holds (or will hold) ``cifar-10-batches-py/``.
        train: The training split (True) or the test split.
        transform: Applied to each image tensor ``(3, 32, 32)`` (not to a PIL image).
        target_transform: Applied to each target (an int).
        download: Download the archive when files are missing (only then is the network used).

    Attributes:
        data: ``(N, 3, 32, 32)`` uint8 images. targets: ``(N,)`` int64 labels.
        num_classes (10), classes, sample_shape (``(3, 32, 32)``), temporal (False).

    Shape:
        sample: ``(3, 32, 32)`` float32 in ``[0, 1]`` (channels R, G, B); target: ``int``.
    """

    _torchvision_class = "CIFAR10"
    _FILES: ClassVar[tuple[str, ...]] = (
        *(f"data_batch_{i}" for i in range(1, 6)),
        "test_batch",
        "batches.meta",
    )

    @property
    def base_folder(self) -> Path:
        """``root/cifar-10-batches-py``, where torchvision looks for the batches."""
        return self.root / "cifar-10-batches-py"

    def _hint(self) -> str:
        return (
            "Pass download=True to download CIFAR-10 (about 170 MB), or unpack "
            f"cifar-10-python.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html) so that "
            f"its files are in {self.base_folder}."
        )

    def _check_files(self, download: bool) -> None:
        missing = missing_files(self.base_folder / f for f in self._FILES)
        if missing and not download:
            raise DatasetNotFoundError("CIFAR10", missing, self._hint())

    def _construct(self, datasets: ModuleType, options: dict[str, Any]) -> Any:
        try:
            return super()._construct(datasets, options)
        except RuntimeError as error:
            if "corrupted" not in str(error) and "not found" not in str(error):
                raise
            self._check_files(False)
            self._raise_checksum_error(datasets.CIFAR10)
            raise

    def _raise_checksum_error(self, cls: Any) -> None:
        check_integrity = importlib.import_module("torchvision.datasets.cifar").check_integrity
        for filename, md5 in [*cls.train_list, *cls.test_list, (cls.meta["filename"], None)]:
            md5 = md5 or cls.meta["md5"]
            path = self.base_folder / filename
            if not check_integrity(str(path), md5):
                raise CorruptFileError(
                    path,
                    f"md5 checksum is not {md5}: damaged, or not the original CIFAR-10 file "
                    "(delete the folder and load with download=True)",
                )

    def _labels_file(self) -> Path:
        return self.base_folder / ("data_batch_1" if self.train else "test_batch")

    def _to_tensors(self, loaded: Any) -> tuple[Tensor, Tensor]:
        data = torch.as_tensor(loaded.data, dtype=torch.uint8).permute(0, 3, 1, 2).contiguous()
        return data, torch.as_tensor(loaded.targets, dtype=torch.int64)
