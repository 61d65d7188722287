"""N-MNIST (.bin) and SHD (HDF5) readers, from files written in the true formats."""

from __future__ import annotations

import importlib
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from spikingtorch_datasets import (
    NMNIST,
    NMNIST_EVENT_DTYPE,
    SHD,
    SHD_EVENT_DTYPE,
    CorruptFileError,
    DatasetNotFoundError,
    ToFrames,
    read_nmnist_file,
)

from ._fakes import importable, nmnist_bytes, write_nmnist, write_shd

needs_h5py = pytest.mark.skipif(not importable("h5py"), reason="h5py is not installed")

EVENTS_A = [(0, 0, 0, 1), (33, 33, 5, 0), (10, 20, 123_456, 1), (5, 6, (1 << 23) - 1, 0)]
EVENTS_B = [(1, 2, 3, 1)]


def _tuples(events: np.ndarray) -> list[tuple[int, int, int, int]]:
    return [(int(e["x"]), int(e["y"]), int(e["t"]), int(e["p"])) for e in events]


# -- N-MNIST -------------------------------------------------------------------------------------
def test_bit_layout_of_one_event() -> None:
    # x=0x12, y=0x21, p=1, t=0x0ABCDE: bytes 12 21 8A BC DE
    assert nmnist_bytes([(0x12, 0x21, 0x0ABCDE, 1)]) == bytes.fromhex("12218abcde")


def test_read_nmnist_file_gives_the_events_written(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(nmnist_bytes(EVENTS_A))
    events = read_nmnist_file(path)
    assert events.dtype == NMNIST_EVENT_DTYPE and events.dtype.names == ("x", "y", "t", "p")
    assert _tuples(events) == EVENTS_A


def test_overflow_marker_is_dropped_and_shifts_later_times(tmp_path: Path) -> None:
    path = tmp_path / "o.bin"
    path.write_bytes(nmnist_bytes([(1, 1, 100, 1), (0, 240, 0, 0), (2, 2, 50, 0)]))
    assert _tuples(read_nmnist_file(path)) == [(1, 1, 100, 1), (2, 2, 50 + 8192, 0)]


def test_nmnist_dataset_lists_splits_and_labels(tmp_path: Path) -> None:
    write_nmnist(tmp_path, "Train", 3, "00002", EVENTS_A)
    write_nmnist(tmp_path, "Train", 3, "00001", EVENTS_B)
    write_nmnist(tmp_path, "Train", 7, "00003", [])
    write_nmnist(tmp_path, "Test", 0, "00004", EVENTS_B)
    (tmp_path / "NMNIST" / "Train" / "3" / "notes.txt").write_text("not a recording")
    train, test = NMNIST(tmp_path), NMNIST(tmp_path, train=False)
    assert (len(train), len(test)) == (3, 1)
    assert [p.name for p in train.files] == ["00001.bin", "00002.bin", "00003.bin"]
    assert train.targets.tolist() == [3, 3, 7]
    events, target = train[1]
    assert target == 3 and _tuples(events) == EVENTS_A
    empty, target = train[2]
    assert target == 7 and empty.shape == (0,) and empty.dtype == NMNIST_EVENT_DTYPE
    assert test[0][1] == 0
    assert train.num_classes == 10 and train.temporal is True and train.sample_shape == (None,)
    assert NMNIST.sensor_size == (34, 34, 2) and NMNIST.frame_shape == (2, 34, 34)
    assert "first_saccade_only=False" in repr(train)


def test_nmnist_first_saccade_only(tmp_path: Path) -> None:
    write_nmnist(tmp_path, "Train", 1, "1", [(0, 0, 99_999, 1), (0, 0, 100_000, 1)])
    events, _ = NMNIST(tmp_path, first_saccade_only=True)[0]
    assert events["t"].tolist() == [99_999]


def test_nmnist_frames_have_hand_computed_counts(tmp_path: Path) -> None:
    events = [(0, 0, 0, 1), (0, 0, 10, 1), (3, 2, 20, 0), (33, 33, 30, 1), (3, 2, 40, 0)]
    write_nmnist(tmp_path, "Train", 5, "1", events)
    data = NMNIST(tmp_path, transform=ToFrames(NMNIST.sensor_size, n_bins=2))
    frames, target = data[0]
    assert frames.shape == (2, 2, 34, 34) and frames.dtype == torch.float32 and target == 5
    # span [0, 40], bins [0, 20) and [20, 40]: (p, y, x) counts
    expected = torch.zeros(2, 2, 34, 34)
    expected[0, 1, 0, 0] = 2
    expected[1, 0, 2, 3] = 2
    expected[1, 1, 33, 33] = 1
    assert torch.equal(frames, expected)
    batch, labels = next(iter(DataLoader(data, batch_size=1)))
    assert batch.shape == (1, 2, 2, 34, 34) and labels.tolist() == [5]


def test_nmnist_n_bins_parameter_gives_batchable_frames(tmp_path: Path) -> None:
    write_nmnist(tmp_path, "Train", 5, "1", [(0, 0, 0, 1), (3, 2, 20, 0), (3, 2, 40, 0)])
    write_nmnist(tmp_path, "Train", 6, "2", [(1, 1, 7, 1)])
    data = NMNIST(tmp_path, n_bins=2)
    assert data.sample_shape == (2, 2, 34, 34) and repr(data.frames) == (
        "ToFrames(sensor_size=(34, 34, 2), n_bins=2)"
    )
    frames, _ = data[0]
    assert frames[0, 1, 0, 0] == 1 and frames[1, 0, 2, 3] == 2 and frames.sum() == 3
    batch, _ = next(iter(DataLoader(data, batch_size=2)))
    assert batch.shape == (2, 2, 2, 34, 34)
    fixed = NMNIST(tmp_path, n_bins=4, duration=40, transform=lambda x: x.sum(dim=(1, 2, 3)))
    # bins of 10 µs over [0, 40): the event at t=40 is dropped; transform runs after binning
    assert fixed[0][0].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert "n_bins=4, duration=40" in repr(fixed)
    with pytest.raises(ValueError, match="duration needs n_bins"):
        NMNIST(tmp_path, duration=40)
    with pytest.raises(ValueError, match="duration must be > 0"):
        NMNIST(tmp_path, n_bins=3, duration=0)


def test_nmnist_length_not_a_multiple_of_5(tmp_path: Path) -> None:
    path = write_nmnist(tmp_path, "Train", 2, "bad", EVENTS_A)
    path.write_bytes(path.read_bytes()[:-3])
    data = NMNIST(tmp_path)
    with pytest.raises(CorruptFileError) as info:
        data[0]
    assert info.value.path == path
    assert "17 bytes is not a multiple of 5" in str(info.value) and str(path) in str(info.value)


def test_nmnist_event_outside_the_sensor(tmp_path: Path) -> None:
    path = write_nmnist(tmp_path, "Train", 2, "x", [(1, 1, 0, 0), (40, 3, 1, 1)])
    with pytest.raises(
        CorruptFileError, match=r"outside the 34x34 sensor \(first: event 1 at x=40"
    ):
        NMNIST(tmp_path)[0]
    assert len(read_nmnist_file(path)) == 2  # the plain reader checks no sensor size


def test_nmnist_missing_files_say_where_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError) as info:
        NMNIST(tmp_path)
    message = str(info.value)
    assert str(tmp_path / "NMNIST" / "Train") in message
    assert "garrickorchard.com/datasets/n-mnist" in message and "Train.zip" in message
    (tmp_path / "NMNIST" / "Test" / "4").mkdir(parents=True)
    with pytest.raises(DatasetNotFoundError, match=r"Test/<digit>/\*\.bin"):
        NMNIST(tmp_path, train=False)
    with pytest.raises(DatasetNotFoundError, match="not downloaded automatically"):
        NMNIST(tmp_path, download=True)


def test_nmnist_download_true_with_files_present_just_loads(tmp_path: Path) -> None:
    write_nmnist(tmp_path, "Train", 0, "1", EVENTS_B)
    assert len(NMNIST(tmp_path, download=True)) == 1


# -- SHD -----------------------------------------------------------------------------------------
# float16 holds these times exactly, so the microseconds are exact too
SHD_TIMES = [[0.0, 0.25, 0.5, 1.375], [], [0.125]]
SHD_UNITS = [[0, 699, 3, 3], [], [42]]


def _write(tmp_path: Path, name: str = "shd_train.h5", **kwargs: Any) -> Path:
    options: dict[str, Any] = {
        "times": SHD_TIMES,
        "units": SHD_UNITS,
        "labels": [4, 19, 0],
        "speakers": [1, 2, 11],
        "keys": [f"k{i}".encode() for i in range(20)],
    }
    options.update(kwargs)
    return write_shd(tmp_path / "SHD" / name, **options)


@needs_h5py
def test_shd_gives_the_events_written(tmp_path: Path) -> None:
    _write(tmp_path)
    data = SHD(tmp_path)
    assert len(data) == 3 and data.targets.tolist() == [4, 19, 0]
    events, target = data[0]
    assert events.dtype == SHD_EVENT_DTYPE and events.dtype.names == ("t", "unit")
    assert events["t"].tolist() == [0, 250_000, 500_000, 1_375_000]
    assert events["unit"].tolist() == [0, 699, 3, 3] and target == 4
    empty, target = data[1]
    assert empty.shape == (0,) and target == 19
    assert data[2][0]["t"].tolist() == [125_000]
    assert data.classes[:2] == ["k0", "k1"] and data.speakers.tolist() == [1, 2, 11]
    assert data.num_classes == 20 and data.temporal and data.sample_shape == (None,)
    assert SHD.sensor_size == (700,) and "file=shd_train.h5" in repr(data)


@needs_h5py
def test_shd_test_split_and_optional_extras(tmp_path: Path) -> None:
    _write(tmp_path, "shd_test.h5", speakers=None, keys=None)
    data = SHD(tmp_path, train=False)
    assert (
        data.speakers is None and data.classes[0] == "english-0" and data.classes[19] == "german-9"
    )


@needs_h5py
def test_shd_frames_have_hand_computed_counts(tmp_path: Path) -> None:
    _write(tmp_path, times=[[0.0, 0.25, 0.5, 0.75]], units=[[1, 1, 2, 0]], labels=[3], speakers=[0])
    frames, _ = SHD(tmp_path, transform=ToFrames((3,), time_window=300_000))[0]
    # bins [0, 0.3), [0.3, 0.6), [0.6, 0.9) s: units {1, 1}, {2}, {0}
    assert torch.equal(frames, torch.tensor([[0.0, 2.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]))
    frames, _ = SHD(tmp_path, transform=ToFrames(SHD.sensor_size, n_bins=4, start=0, end=1e6))[0]
    assert frames.shape == (4, 700) and frames.sum(1).tolist() == [1.0, 1.0, 1.0, 1.0]


@needs_h5py
def test_shd_n_bins_over_a_fixed_duration(tmp_path: Path) -> None:
    _write(tmp_path)
    data = SHD(tmp_path, n_bins=7, duration=1_400_000)  # 200 ms bins
    assert data.sample_shape == (7, 700)
    frames = torch.stack([data[i][0] for i in range(3)])
    assert frames.shape == (3, 7, 700)
    assert frames[0, :, 0].tolist() == [1, 0, 0, 0, 0, 0, 0]  # t = 0
    assert frames[0, :, 699].tolist() == [0, 1, 0, 0, 0, 0, 0]  # t = 0.25 s
    assert frames[0, :, 3].tolist() == [0, 0, 1, 0, 0, 0, 1]  # t = 0.5 s and 1.375 s
    assert frames[1].sum() == 0 and frames[2, 0, 42] == 1


@needs_h5py
def test_shd_is_picklable_and_works_in_worker_processes(tmp_path: Path) -> None:
    _write(tmp_path)
    data = SHD(tmp_path)
    data[0]  # opens the file in this process
    clone = pickle.loads(pickle.dumps(data))
    assert clone[0][0]["t"].tolist() == data[0][0]["t"].tolist()
    data.transform = ToFrames(SHD.sensor_size, n_bins=2)
    loader = DataLoader(data, batch_size=3, num_workers=1)
    frames, targets = next(iter(loader))
    assert frames.shape == (3, 2, 700) and targets.tolist() == [4, 19, 0]
    assert frames.sum().item() == 5.0


@needs_h5py
@pytest.mark.parametrize("key", ["spikes/times", "spikes/units", "labels"])
def test_shd_missing_dataset_key(tmp_path: Path, key: str) -> None:
    path = _write(tmp_path, skip=[key])
    with pytest.raises(CorruptFileError, match=f"missing HDF5 dataset '{key}'") as info:
        SHD(tmp_path)
    assert info.value.path == path


@needs_h5py
def test_shd_truncated_file(tmp_path: Path) -> None:
    path = _write(tmp_path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CorruptFileError, match="cannot be read as HDF5") as info:
        SHD(tmp_path)
    assert str(path) in str(info.value)


@needs_h5py
def test_shd_not_an_hdf5_file(tmp_path: Path) -> None:
    path = tmp_path / "SHD" / "shd_train.h5"
    path.parent.mkdir()
    path.write_text("<html>403 Forbidden</html>")
    with pytest.raises(CorruptFileError, match="shd_train.h5.*cannot be read as HDF5"):
        SHD(tmp_path)


@needs_h5py
def test_shd_inconsistent_contents(tmp_path: Path) -> None:
    _write(tmp_path, labels=[1, 2])
    with pytest.raises(CorruptFileError, match="spikes/times has 3 samples.*labels 2"):
        SHD(tmp_path)
    _write(tmp_path, labels=[1, 2, 20])
    with pytest.raises(CorruptFileError, match=r"labels must lie in \[0, 20\), found 1..20"):
        SHD(tmp_path)
    _write(tmp_path, units=[[0, 1, 2], [], [42]])
    with pytest.raises(CorruptFileError, match="sample 0 has 4 spike times but 3 units"):
        SHD(tmp_path)[0]
    _write(tmp_path, units=[[0, 1, 2, 700], [], [42]])
    with pytest.raises(CorruptFileError, match=r"sample 0 has units 0..700, outside \[0, 700\)"):
        SHD(tmp_path)[0]


@needs_h5py
def test_shd_missing_file_says_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError) as info:
        SHD(tmp_path, download=True)
    message = str(info.value)
    assert str(tmp_path / "SHD" / "shd_train.h5") in message
    assert "zenkelab.org" in message and "not downloaded automatically" in message
    (tmp_path / "SHD").mkdir()
    (tmp_path / "SHD" / "shd_test.h5.gz").write_bytes(b"")
    with pytest.raises(DatasetNotFoundError, match="decompress it first"):
        SHD(tmp_path, train=False)


def test_shd_without_h5py_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import spikingtorch_datasets.events as events

    path = tmp_path / "SHD" / "shd_train.h5"
    path.parent.mkdir()
    path.write_bytes(b"")
    real = importlib.import_module

    def fake(name: str, *args: Any) -> Any:
        if name == "h5py":
            raise ModuleNotFoundError("No module named 'h5py'")
        return real(name, *args)

    monkeypatch.setattr(events.importlib, "import_module", fake)
    with pytest.raises(ImportError, match=r"pip install spikingtorch-datasets\[shd\]"):
        SHD(tmp_path)
