"""Event datasets: N-MNIST (binary ``.bin`` files) and SHD (HDF5), read with numpy and h5py.

A sample is a numpy structured array with one record per event, sorted as recorded, using
tonic's field names and units so the two libraries mix: N-MNIST events have fields ``x, y, t, p``
(:data:`NMNIST_EVENT_DTYPE`), SHD events ``t, unit`` (:data:`SHD_EVENT_DTYPE`); ``t`` is in
microseconds. :class:`~spikingtorch_datasets.ToFrames` bins events into dense count frames::

    data = NMNIST("data", transform=ToFrames(NMNIST.sensor_size, n_bins=30))
    frames, label = data[0]          # (30, 2, 34, 34) float32 counts

or, by constructor parameters that a configuration file can hold, ``NMNIST("data", n_bins=30)``
(and ``SHD("data", n_bins=100, duration=1_400_000)`` for 100 bins of 14 ms).

Neither set can be downloaded here: ``download=True`` with files missing raises
:class:`~spikingtorch_datasets.DatasetNotFoundError` saying where to get them.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor

from spikingtorch_datasets._base import SpikeDataset
from spikingtorch_datasets._files import (
    CorruptFileError,
    DatasetNotFoundError,
    expand_root,
    require_root,
)
from spikingtorch_datasets.transforms import ToFrames

__all__ = ["NMNIST", "NMNIST_EVENT_DTYPE", "SHD", "SHD_EVENT_DTYPE", "read_nmnist_file"]

NMNIST_EVENT_DTYPE = np.dtype([("x", np.int16), ("y", np.int16), ("t", np.int64), ("p", np.int8)])
"""One N-MNIST event: pixel ``x`` and ``y``, time ``t`` in µs, polarity ``p`` (1 ON, 0 OFF)."""

SHD_EVENT_DTYPE = np.dtype([("t", np.int64), ("unit", np.int16)])
"""One SHD spike: time ``t`` in µs and the input channel ``unit`` (0–699)."""

_OVERFLOW_Y = 240  # the reference reader's timestamp-overflow marker
_OVERFLOW_STEP = 1 << 13  # what each marker adds to later timestamps (as in the reference)


def read_nmnist_file(
    path: str | os.PathLike[str], *, sensor_size: tuple[int, int] | None = None
) -> NDArray[np.void]:
    """Read one N-MNIST / N-Caltech101 ``.bin`` recording into :data:`NMNIST_EVENT_DTYPE` events.

    The file has no header: each event is 5 bytes, a 40-bit big-endian word holding ``x``
    (bits 39–32), ``y`` (31–24), the polarity (bit 23) and the timestamp in µs (bits 22–0). An
    event with ``y == 240`` marks a timestamp overflow, as in the reference reader: it is dropped
    and adds ``2**13`` µs to every later timestamp.

    Args:
        path: The ``.bin`` file.
        sensor_size: ``(width, height)``; events outside it make the file corrupt (None: any).

    Returns:
        A 1-d structured array of the events (empty for an empty file).

    Raises:
        CorruptFileError: The length is not a multiple of 5 bytes, or an event lies outside
            ``sensor_size``.
    """
    path = Path(path)
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % 5:
        raise CorruptFileError(
            path,
            f"{raw.size} bytes is not a multiple of 5 (an N-MNIST event is 5 bytes): "
            "truncated or not an N-MNIST .bin file",
        )
    words = raw.reshape(-1, 5).astype(np.int64)
    x, y = words[:, 0], words[:, 1]
    p = words[:, 2] >> 7
    t = ((words[:, 2] & 0x7F) << 16) | (words[:, 3] << 8) | words[:, 4]
    overflow = y == _OVERFLOW_Y
    if overflow.any():
        t = t + _OVERFLOW_STEP * np.cumsum(overflow)
        keep = ~overflow
        x, y, t, p = x[keep], y[keep], t[keep], p[keep]
    if sensor_size is not None and x.size:
        outside = np.flatnonzero((x >= sensor_size[0]) | (y >= sensor_size[1]))
        if outside.size:
            i = int(outside[0])
            raise CorruptFileError(
                path,
                f"{outside.size} events lie outside the {sensor_size[0]}x{sensor_size[1]} "
                f"sensor (first: event {i} at x={int(x[i])}, y={int(y[i])}); "
                "not an N-MNIST recording?",
            )
    events = np.empty(x.size, dtype=NMNIST_EVENT_DTYPE)
    events["x"], events["y"], events["t"], events["p"] = x, y, t, p
    return events


class _EventDataset(SpikeDataset):
    """Shared by the event datasets: optional binning into frames before ``transform``."""

    sensor_size: ClassVar[tuple[int, ...]]
    frame_shape: ClassVar[tuple[int, ...]]
    frames: ToFrames | None
    targets: Tensor

    def _setup_frames(self, n_bins: int | None, duration: float | None) -> None:
        if n_bins is None:
            if duration is not None:
                raise ValueError(f"{type(self).__name__}: duration needs n_bins")
            self.frames = None
            self.sample_shape: tuple[int | None, ...] = (None,)
            return
        if duration is not None and (
            isinstance(duration, bool) or not isinstance(duration, int | float) or duration <= 0
        ):
            raise ValueError(f"{type(self).__name__}: duration must be > 0 (µs), got {duration!r}")
        start = None if duration is None else 0
        self.frames = ToFrames(self.sensor_size, n_bins=n_bins, start=start, end=duration)
        self.sample_shape = (n_bins, *self.frame_shape)

    def _events(self, index: int) -> NDArray[np.void]:
        raise NotImplementedError

    def _load(self, index: int) -> tuple[Any, int]:
        events = self._events(index)
        sample = events if self.frames is None else self.frames(events)
        return sample, int(self.targets[index])

    def _frames_repr(self) -> str:
        if self.frames is None:
            return ""
        end = self.frames.end
        return f", n_bins={self.frames.n_bins}" + ("" if end is None else f", duration={end}")


class NMNIST(_EventDataset):
    """N-MNIST: MNIST digits recorded by an event camera in three saccades (Orchard et al. 2015).

    60,000 train / 10,000 test recordings of about 300 ms on a 34×34 sensor with two
    polarities, 10 classes. Expected layout (the unzipped ``Train.zip`` / ``Test.zip``, as
    tonic keeps them)::

        root/NMNIST/Train/<digit>/<id>.bin
        root/NMNIST/Test/<digit>/<id>.bin

    The label is the digit folder's name. Files are listed once, in sorted order, and read in
    ``__getitem__``; any number of them is accepted.

    Args:
        root: The folder that holds ``NMNIST/``; ``~`` is expanded.
        train: The ``Train`` split (True) or ``Test``.
        transform: Applied to each event array, e.g. :class:`~spikingtorch_datasets.ToFrames`.
        target_transform: Applied to each target (an int).
        download: Not available here (no network): with files missing it raises
            :class:`DatasetNotFoundError` saying where to get them.
        first_saccade_only: Keep only events of the first saccade (``t < 100 ms``).
        n_bins: If given, samples are frames ``(n_bins, 2, 34, 34)`` of event counts
            (:class:`~spikingtorch_datasets.ToFrames`, before ``transform``) instead of events.
        duration: With ``n_bins``: the bins split ``[0, duration)`` µs, the same for every
            sample (later events are dropped); None: each sample's own first-to-last event span.

    Attributes:
        files: The recordings, sorted. targets: ``(N,)`` int64 label per file.
        sensor_size: ``(34, 34, 2)``, as ``(width, height, polarities)`` (tonic's order).
        frame_shape: ``(2, 34, 34)``, the ``(C, H, W)`` of one frame that ``ToFrames`` makes.
        frames: The :class:`ToFrames` that ``n_bins`` set up, or None.
        num_classes (10), classes, temporal (True), sample_shape (``(None,)``: a variable
            number of events; ``(n_bins, 2, 34, 34)`` with ``n_bins``).

    Shape:
        sample: ``(E,)`` structured events ``x, y, t, p`` (``E`` varies), or with ``n_bins``
        float32 counts ``(n_bins, 2, 34, 34)``; target: ``int``.
    """

    sensor_size: ClassVar[tuple[int, int, int]] = (34, 34, 2)
    frame_shape: ClassVar[tuple[int, ...]] = (2, 34, 34)
    _SOURCE = (
        "N-MNIST is not downloaded automatically. Get Train.zip and Test.zip from "
        "https://www.garrickorchard.com/datasets/n-mnist (Mendeley Data, "
        "doi:10.17632/468j46mzdv.1) and unzip them into {folder} so that the recordings are "
        "NMNIST/Train/<digit>/*.bin and NMNIST/Test/<digit>/*.bin."
    )

    def __init__(
        self,
        root: str | os.PathLike[str],
        train: bool = True,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        download: bool = False,
        *,
        first_saccade_only: bool = False,
        n_bins: int | None = None,
        duration: float | None = None,
    ) -> None:
        self.root = expand_root(root, "NMNIST")
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        self.first_saccade_only = bool(first_saccade_only)
        self.num_classes = 10
        self.classes = [str(d) for d in range(10)]
        self.temporal = True
        self._setup_frames(n_bins, duration)
        hint = self._SOURCE.format(folder=self.root / "NMNIST")
        require_root(self.root, "NMNIST", hint)
        split = self.root / "NMNIST" / ("Train" if self.train else "Test")
        files: list[Path] = []
        labels: list[int] = []
        for digit in range(10):
            found = sorted((split / str(digit)).glob("*.bin"))
            files += found
            labels += [digit] * len(found)
        if not files:
            looked = [split / "<digit>" / "*.bin"] if split.is_dir() else [split]
            raise DatasetNotFoundError("NMNIST", looked, hint)
        self.files = files
        self.targets = torch.tensor(labels, dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.files)

    def _events(self, index: int) -> NDArray[np.void]:
        events = read_nmnist_file(self.files[index], sensor_size=self.sensor_size[:2])
        if self.first_saccade_only:
            events = events[events["t"] < 100_000]
        return events

    def extra_repr(self) -> str:
        return (
            f"sensor_size={self.sensor_size}, first_saccade_only={self.first_saccade_only}"
            + self._frames_repr()
        )


def _import_h5py() -> Any:
    try:
        return importlib.import_module("h5py")
    except Exception as error:
        raise ImportError(
            "SHD files are HDF5 and need h5py "
            f"({type(error).__name__}: {error}). Install it with: "
            "pip install spikingtorch-datasets[shd]"
        ) from error


_SHD_KEYS = ("spikes/times", "spikes/units", "labels")


class SHD(_EventDataset):
    """Spiking Heidelberg Digits: spoken digits 0–9 in English and German as cochlea-model spikes.

    Cramer et al. (2020). 700 input channels, 20 classes (English 0–9, German 10–19), about
    8,156 train / 2,264 test recordings of up to ~1.4 s. Expected files (gunzip the downloads)::

        root/SHD/shd_train.h5
        root/SHD/shd_test.h5

    with HDF5 datasets ``spikes/times`` (seconds, one variable-length array per sample),
    ``spikes/units`` (channel ids, same lengths), ``labels``, and optionally ``extra/keys``
    (class names) and ``extra/speaker``. The file is opened lazily, once per process (safe with
    ``DataLoader`` workers), and each sample is read on access. Needs ``h5py``
    (``pip install spikingtorch-datasets[shd]``).

    Args:
        root: The folder that holds ``SHD/``; ``~`` is expanded.
        train: ``shd_train.h5`` (True) or ``shd_test.h5``.
        transform: Applied to each event array, e.g. ``ToFrames(SHD.sensor_size, ...)``.
        target_transform: Applied to each target (an int).
        download: Not available here (no network): with the file missing it raises
            :class:`DatasetNotFoundError` saying where to get it.
        n_bins: If given, samples are frames ``(n_bins, 700)`` of spike counts
            (:class:`~spikingtorch_datasets.ToFrames`, before ``transform``) instead of events.
        duration: With ``n_bins``: the bins split ``[0, duration)`` µs for every sample
            (e.g. ``1_400_000``: recordings last up to about 1.4 s; later spikes are dropped);
            None: each sample's own first-to-last spike span.

    Attributes:
        path: The HDF5 file. targets: ``(N,)`` int64 labels. speakers: ``(N,)`` int64 speaker
            ids, or None when the file has no ``extra/speaker``.
        sensor_size: ``(700,)`` channels. frame_shape: ``(700,)``, one ``ToFrames`` frame.
        frames: The :class:`ToFrames` that ``n_bins`` set up, or None.
        num_classes (20), classes, temporal (True), sample_shape (``(None,)``, or
            ``(n_bins, 700)`` with ``n_bins``).

    Shape:
        sample: ``(E,)`` structured events ``t`` (µs, rounded), ``unit``, or with ``n_bins``
        float32 counts ``(n_bins, 700)``; target: ``int``.
    """

    sensor_size: ClassVar[tuple[int]] = (700,)
    frame_shape: ClassVar[tuple[int, ...]] = (700,)
    _SOURCE = (
        "SHD is not downloaded automatically. Get shd_train.h5.gz and shd_test.h5.gz from "
        "https://zenkelab.org/resources/spiking-heidelberg-datasets-shd/ and gunzip them into "
        "{folder}."
    )
    _DEFAULT_CLASSES: ClassVar[list[str]] = [
        *(f"english-{d}" for d in range(10)),
        *(f"german-{d}" for d in range(10)),
    ]

    def __init__(
        self,
        root: str | os.PathLike[str],
        train: bool = True,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        download: bool = False,
        *,
        n_bins: int | None = None,
        duration: float | None = None,
    ) -> None:
        self.root = expand_root(root, "SHD")
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        self.num_classes = 20
        self.temporal = True
        self._setup_frames(n_bins, duration)
        folder = self.root / "SHD"
        self.path = folder / f"shd_{'train' if self.train else 'test'}.h5"
        hint = self._SOURCE.format(folder=folder)
        require_root(self.root, "SHD", hint)
        if not self.path.is_file():
            gz = self.path.with_name(self.path.name + ".gz")
            if gz.is_file():
                hint = f"Found {gz.name}: decompress it first (gunzip {gz}). " + hint
            raise DatasetNotFoundError("SHD", [self.path], hint)
        self._h5py = _import_h5py()
        self._file: Any = None
        self._pid: int | None = None
        with self._open() as f:
            self._check_layout(f)
            labels = np.asarray(f["labels"][()]).astype(np.int64).reshape(-1)
            self._length = int(f["spikes/times"].shape[0])
            if len(labels) != self._length or f["spikes/units"].shape[0] != self._length:
                raise CorruptFileError(
                    self.path,
                    f"spikes/times has {self._length} samples, spikes/units "
                    f"{f['spikes/units'].shape[0]} and labels {len(labels)}; they must match",
                )
            if labels.size and not (labels.min() >= 0 and labels.max() < self.num_classes):
                raise CorruptFileError(
                    self.path,
                    f"labels must lie in [0, {self.num_classes}), found "
                    f"{labels.min()}..{labels.max()}",
                )
            self.classes = self._read_classes(f)
            speakers = f.get("extra/speaker")
            self.speakers: Tensor | None = (
                None if speakers is None else torch.as_tensor(np.asarray(speakers[()], np.int64))
            )
        self.targets = torch.from_numpy(labels)

    def _open(self) -> Any:
        try:
            return self._h5py.File(self.path, "r")
        except OSError as error:
            raise CorruptFileError(self.path, f"cannot be read as HDF5: {error}") from error

    def _check_layout(self, f: Any) -> None:
        for key in _SHD_KEYS:
            if key not in f:
                raise CorruptFileError(
                    self.path,
                    f"missing HDF5 dataset {key!r} (an SHD file holds {', '.join(_SHD_KEYS)})",
                )

    def _read_classes(self, f: Any) -> list[str]:
        keys = f.get("extra/keys")
        if keys is None or len(keys) != self.num_classes:
            return list(self._DEFAULT_CLASSES)
        return [k.decode() if isinstance(k, bytes) else str(k) for k in keys[()]]

    def _handle(self) -> Any:
        if self._file is None or self._pid != os.getpid():
            self._file = self._open()
            self._pid = os.getpid()
        return self._file

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_file"] = None  # an open HDF5 handle cannot be pickled (spawned workers)
        state["_pid"] = None
        state["_h5py"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._h5py = _import_h5py()

    def __len__(self) -> int:
        return self._length

    def _events(self, index: int) -> NDArray[np.void]:
        f = self._handle()
        try:
            times = np.asarray(f["spikes/times"][index], dtype=np.float64)
            units = np.asarray(f["spikes/units"][index])
        except OSError as error:
            raise CorruptFileError(self.path, f"cannot read sample {index}: {error}") from error
        if times.shape != units.shape:
            raise CorruptFileError(
                self.path,
                f"sample {index} has {times.size} spike times but {units.size} units",
            )
        if units.size and not (units.min() >= 0 and units.max() < self.sensor_size[0]):
            raise CorruptFileError(
                self.path,
                f"sample {index} has units {units.min()}..{units.max()}, outside "
                f"[0, {self.sensor_size[0]})",
            )
        events = np.empty(times.size, dtype=SHD_EVENT_DTYPE)
        events["t"] = np.rint(times * 1e6)
        events["unit"] = units
        return events

    def extra_repr(self) -> str:
        return f"file={self.path.name}, sensor_size={self.sensor_size}" + self._frames_repr()
