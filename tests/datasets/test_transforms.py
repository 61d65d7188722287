"""ToFrames: event counts per time bin and position, checked against hand-computed tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spikingtorch_datasets import NMNIST_EVENT_DTYPE, SHD_EVENT_DTYPE, ToFrames


def xytp(*events: tuple[int, int, int, int]) -> np.ndarray:
    return np.array(list(events), dtype=NMNIST_EVENT_DTYPE)


def tu(*events: tuple[int, int]) -> np.ndarray:
    return np.array(list(events), dtype=SHD_EVENT_DTYPE)


# a 3x2 sensor (width 3, height 2) with 2 polarities; events (x, y, t, p)
EVENTS = xytp((0, 0, 100, 1), (2, 1, 105, 0), (2, 1, 110, 0), (1, 0, 119, 1), (1, 1, 120, 1))


def test_n_bins_on_a_polarity_sensor() -> None:
    frames = ToFrames((3, 2, 2), n_bins=2)(EVENTS)
    # span [100, 120]: bin 0 is [100, 110), bin 1 is [110, 120] (last bin closed)
    expected = torch.tensor(
        [
            [[[0, 0, 0], [0, 0, 1]], [[1, 0, 0], [0, 0, 0]]],  # bin 0: p=0 (x2,y1); p=1 (x0,y0)
            [
                [[0, 0, 0], [0, 0, 1]],
                [[0, 1, 0], [0, 1, 0]],
            ],  # bin 1: p=0 (x2,y1); p=1 (x1,y0),(x1,y1)
        ],
        dtype=torch.float32,
    )
    assert torch.equal(frames, expected)


def test_time_window_from_the_first_event() -> None:
    frames = ToFrames((3, 2, 2), time_window=8)(EVENTS)
    # windows [100, 108), [108, 116), [116, 124): T = floor(20 / 8) + 1 = 3
    assert frames.shape == (3, 2, 2, 3)
    assert frames.sum(dim=(1, 2, 3)).tolist() == [2.0, 1.0, 2.0]
    assert frames[0, 0, 1, 2] == 1 and frames[0, 1, 0, 0] == 1
    assert frames[1, 0, 1, 2] == 1
    assert frames[2, 1, 0, 1] == 1 and frames[2, 1, 1, 1] == 1


def test_one_polarity_ignores_p_and_two_dims_mean_one_channel() -> None:
    # bin 0: (x0,y0), (x2,y1); bin 1: (x2,y1), (x1,y0), (x1,y1), polarity ignored
    expected = torch.tensor(
        [[[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]], [[[0.0, 1.0, 0.0], [0.0, 1.0, 1.0]]]]
    )
    assert torch.equal(ToFrames((3, 2, 1), n_bins=2)(EVENTS), expected)
    assert torch.equal(ToFrames((3, 2), n_bins=2)(EVENTS), expected)
    assert ToFrames((3, 2), n_bins=2).frame_shape == (1, 2, 3)


def test_units_with_explicit_start_and_end() -> None:
    events = tu((0, 2), (5, 0), (9, 2), (10, 1), (25, 3))
    # [0, 20) in 2 bins of 10: the event at 25 is dropped, the one at 10 opens bin 1
    frames = ToFrames((4,), n_bins=2, start=0, end=20)(events)
    assert torch.equal(frames, torch.tensor([[1.0, 0.0, 2.0, 0.0], [0.0, 1.0, 0.0, 0.0]]))
    frames = ToFrames((4,), time_window=10, start=5, end=35)(events)
    # [5, 15), [15, 25), [25, 35): the event at 0 is dropped
    assert torch.equal(
        frames, torch.tensor([[1.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    )


def test_tonic_style_x_only_events_and_integer_dtype() -> None:
    events = np.array([(3, 0, 1), (1, 4, 1)], dtype=[("t", "<i8"), ("x", "<i8"), ("p", "<i8")])
    frames = ToFrames((5,), n_bins=1, dtype=torch.int16)(events)
    assert frames.dtype == torch.int16 and frames.tolist() == [[1, 0, 0, 0, 1]]


def test_empty_and_single_time_samples() -> None:
    empty = tu()
    assert torch.equal(ToFrames((4,), n_bins=3)(empty), torch.zeros(3, 4))
    assert torch.equal(ToFrames((4,), time_window=10)(empty), torch.zeros(1, 4))
    assert ToFrames((4,), time_window=10, start=0, end=100)(empty).shape == (10, 4)
    same = tu((7, 1), (7, 1))
    assert ToFrames((4,), n_bins=3)(same).tolist() == [[0, 2, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]


def test_float_times() -> None:
    events = np.array([(0.0, 0), (0.5, 1), (1.0, 1)], dtype=[("t", "<f8"), ("unit", "<i2")])
    assert ToFrames((2,), n_bins=2)(events).tolist() == [[1, 0], [0, 2]]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of n_bins and time_window"),
        ({"n_bins": 2, "time_window": 5}, "exactly one of n_bins and time_window"),
        ({"n_bins": 0}, "n_bins must be an int > 0"),
        ({"n_bins": 2.0}, "n_bins must be an int > 0"),
        ({"time_window": -1}, "time_window must be a number > 0"),
        ({"n_bins": 2, "start": 5, "end": 5}, r"end \(5\) must be after start \(5\)"),
    ],
)
def test_bad_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ToFrames((4,), **kwargs)


def test_bad_sensor_size() -> None:
    with pytest.raises(ValueError, match="sensor_size must be"):
        ToFrames((0, 3), n_bins=1)
    with pytest.raises(ValueError, match="sensor_size must be"):
        ToFrames((1, 2, 3, 4), n_bins=1)


def test_events_outside_the_sensor_are_named() -> None:
    with pytest.raises(ValueError, match=r"event 4 has x=1, outside \[0, 1\)"):
        ToFrames((1, 2, 2), n_bins=1)(EVENTS[[0, 0, 0, 0, 3]])
    with pytest.raises(ValueError, match=r"event 1 has y=1, outside \[0, 1\) .*2 such events"):
        ToFrames((3, 1, 2), n_bins=1)(EVENTS[[0, 1, 2]])
    with pytest.raises(ValueError, match=r"event 0 has unit=9, outside \[0, 4\)"):
        ToFrames((4,), n_bins=1)(tu((0, 9)))
    with pytest.raises(ValueError, match=r"event 1 has p=2, outside \[0, 2\)"):
        ToFrames((3, 2, 2), n_bins=1)(xytp((0, 0, 0, 1), (0, 0, 1, 2)))


def test_wrong_event_fields() -> None:
    with pytest.raises(ValueError, match="needs events with 'x' and 'y' fields"):
        ToFrames((3, 2, 2), n_bins=1)(tu((0, 1)))
    with pytest.raises(ValueError, match="needs events with a 'unit' field"):
        ToFrames((4,), n_bins=1)(EVENTS)
    with pytest.raises(ValueError, match="events need a 't' field"):
        ToFrames((4,), n_bins=1)(np.zeros(2, dtype=[("unit", "<i2")]))
    with pytest.raises(ValueError, match="2 polarities need a 'p' field"):
        ToFrames((3, 2, 2), n_bins=1)(np.zeros(1, dtype=[("x", "<i2"), ("y", "<i2"), ("t", "<i8")]))


def test_repr_and_frame_shape() -> None:
    assert repr(ToFrames((34, 34, 2), n_bins=10)) == "ToFrames(sensor_size=(34, 34, 2), n_bins=10)"
    assert (
        repr(ToFrames((700,), time_window=1e4, start=0, end=1.4e6))
        == "ToFrames(sensor_size=(700,), time_window=10000.0, start=0, end=1400000.0)"
    )
    assert ToFrames((34, 34, 2), n_bins=1).frame_shape == (2, 34, 34)
