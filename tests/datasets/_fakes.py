"""Writers of tiny dataset files in the true on-disk formats, written independently of the
readers under test (bit packing by hand, the same layouts the real downloads have)."""

from __future__ import annotations

import importlib
import os
import pickle
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def importable(module: str) -> bool:
    """Whether ``module`` imports (torchvision can fail with RuntimeError, not ImportError).

    The tox env ``datasets`` sets ``SPIKINGTORCH_TEST_REQUIRE=torchvision,h5py``: there a
    module that fails to import is an error, not a reason to skip, so a broken install cannot
    hide behind skipped tests.
    """
    try:
        importlib.import_module(module)
    except Exception:
        required = os.environ.get("SPIKINGTORCH_TEST_REQUIRE", "").split(",")
        if module in required:
            raise
        return False
    return True


# -- MNIST family: IDX files ---------------------------------------------------------------------
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def idx_images(images: np.ndarray) -> bytes:
    """The IDX bytes of uint8 images ``(N, rows, cols)``: magic 0x00000803, N, rows, cols."""
    n, rows, cols = images.shape
    return struct.pack(">IIII", 0x0803, n, rows, cols) + images.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray) -> bytes:
    """The IDX bytes of uint8 labels ``(N,)``: magic 0x00000801, N."""
    return struct.pack(">II", 0x0801, len(labels)) + labels.astype(np.uint8).tobytes()


def write_mnist(
    root: Path, folder: str = "MNIST", *, n_train: int = 20, n_test: int = 10, seed: int = 0
) -> dict[str, np.ndarray]:
    """Write ``root/<folder>/raw/`` with the four uncompressed IDX files; return the arrays."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    (raw / MNIST_FILES[0]).write_bytes(idx_images(arrays["train_images"]))
    (raw / MNIST_FILES[1]).write_bytes(idx_labels(arrays["train_labels"]))
    (raw / MNIST_FILES[2]).write_bytes(idx_images(arrays["test_images"]))
    (raw / MNIST_FILES[3]).write_bytes(idx_labels(arrays["test_labels"]))
    return arrays


# -- CIFAR-10: Python pickles --------------------------------------------------------------------
CIFAR_LABELS = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip


def write_cifar10(root: Path, *, per_batch: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    """Write ``root/cifar-10-batches-py/`` with tiny batches (rows of 1024 R, G, B values)."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, np.ndarray] = {}
    for name in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, per_batch).tolist()
        batch = {
            "batch_label": name,
            "labels": labels,
            "data": data,
            "filenames": ["x.png"] * per_batch,
        }
        with (folder / name).open("wb") as f:
            pickle.dump(batch, f, protocol=2)
        out[name] = data
        out[name + "_labels"] = np.asarray(labels)
    meta = {"label_names": CIFAR_LABELS, "num_cases_per_batch": per_batch, "num_vis": 3072}
    with (folder / "batches.meta").open("wb") as f:
        pickle.dump(meta, f, protocol=2)
    return out


# -- N-MNIST: 5-byte events ----------------------------------------------------------------------
def nmnist_bytes(events: Sequence[tuple[int, int, int, int]]) -> bytes:
    """Pack ``(x, y, t_us, p)`` events as 40-bit big-endian words: x | y | p, t (23 bits)."""
    out = bytearray()
    for x, y, t, p in events:
        word = (x << 32) | (y << 24) | (p << 23) | t
        out += word.to_bytes(5, "big")
    return bytes(out)


def write_nmnist(root: Path, split: str, digit: int, name: str, events: Sequence) -> Path:
    """Write ``root/NMNIST/<split>/<digit>/<name>.bin``."""
    folder = root / "NMNIST" / split / str(digit)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.bin"
    path.write_bytes(nmnist_bytes(events))
    return path


# -- SHD: HDF5 -----------------------------------------------------------------------------------
def write_shd(
    path: Path,
    times: Sequence[Sequence[float]],
    units: Sequence[Sequence[int]],
    labels: Sequence[int],
    *,
    speakers: Sequence[int] | None = None,
    keys: Sequence[bytes] | None = None,
    skip: Sequence[str] = (),
) -> Path:
    """Write an SHD-layout HDF5 file (float16 seconds, uint16 units, as the real files)."""
    import h5py

    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        if "spikes/times" not in skip:
            ds = f.create_dataset("spikes/times", (len(times),), dtype=h5py.vlen_dtype(np.float16))
            for i, row in enumerate(times):
                ds[i] = np.asarray(row, dtype=np.float16)
        if "spikes/units" not in skip:
            ds = f.create_dataset("spikes/units", (len(units),), dtype=h5py.vlen_dtype(np.uint16))
            for i, row in enumerate(units):
                ds[i] = np.asarray(row, dtype=np.uint16)
        if "labels" not in skip:
            f.create_dataset("labels", data=np.asarray(labels, dtype=np.uint16))
        if speakers is not None:
            f.create_dataset("extra/speaker", data=np.asarray(speakers, dtype=np.uint16))
        if keys is not None:
            f.create_dataset("extra/keys", data=np.asarray(keys))
    return path
