"""Event-to-frame binning: :class:`ToFrames` turns an event array into dense count frames."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor

__all__ = ["ToFrames"]


def _positive(name: str, value: Any, *, integer: bool) -> Any:
    ok = not isinstance(value, bool) and (
        isinstance(value, int) or (not integer and isinstance(value, float))
    )
    if not ok or not value > 0:
        kind = "an int" if integer else "a number"
        raise ValueError(f"ToFrames: {name} must be {kind} > 0, got {value!r}")
    return value


class ToFrames:
    """Bin events into frames that count the events of each time bin at each position.

    Time bins cover ``[start, end]``: ``start`` defaults to the first event's time and ``end``
    to the last event's time (that bin is closed, so no event is lost); given explicitly,
    events before ``start`` or at/after ``end`` are dropped. Exactly one of:

    * ``n_bins=B``: ``B`` equal bins, event at time ``t`` in bin
      ``floor((t - start) · B / (end - start))`` (clipped to ``B - 1``). ``T = B``.
    * ``time_window=W``: bins of width ``W`` (the unit of ``t``: µs for N-MNIST and SHD), event
      in bin ``floor((t - start) / W)``; ``T = floor((end - start) / W) + 1`` when ``end`` is
      the last event, ``ceil((end - start) / W)`` when given. ``T`` varies from sample to
      sample unless ``start`` and ``end`` are given.

    Args:
        sensor_size: ``(width, height, polarities)`` (tonic's order; ``(width, height)`` means
            one polarity) for events with fields ``x, y`` (and ``p``), giving frames
            ``(T, C, H, W)``; or ``(units,)`` for events with a ``unit`` (or only an ``x``)
            field, giving ``(T, units)``. With one polarity, ``p`` is ignored.
        n_bins: The number of time bins.
        time_window: The width of a time bin.
        start: Time of the start of the first bin (None: the first event's time; 0 with no
            events).
        end: End of the last bin (None: the last event's time, inclusive).
        dtype: The dtype of the output tensor.

    Shape:
        input ``(E,)`` structured events with a ``t`` field; output ``(T, *frame_shape)``.

    Raises:
        ValueError: Both or neither of ``n_bins`` / ``time_window``, or an event outside the
            sensor (the message names the field and value).

    Example:
        >>> import numpy as np
        >>> events = np.array([(0, 3), (10, 1), (20, 3), (40, 0)],
        ...                   dtype=[("t", "<i8"), ("unit", "<i2")])
        >>> ToFrames((4,), n_bins=2)(events)
        tensor([[0., 1., 0., 1.],
                [1., 0., 0., 1.]])
        >>> ToFrames((4,), time_window=15)(events).shape
        torch.Size([3, 4])
    """

    def __init__(
        self,
        sensor_size: tuple[int, ...],
        *,
        n_bins: int | None = None,
        time_window: float | None = None,
        start: float | None = None,
        end: float | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        size = tuple(sensor_size)
        if len(size) not in (1, 2, 3) or any(
            isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 1 for s in size
        ):
            raise ValueError(
                "ToFrames: sensor_size must be (width, height, polarities), (width, height) or "
                f"(units,) with positive ints, got {sensor_size!r}"
            )
        self.sensor_size: tuple[int, ...] = tuple(int(s) for s in size)
        if (n_bins is None) == (time_window is None):
            raise ValueError(
                "ToFrames: give exactly one of n_bins and time_window, "
                f"got n_bins={n_bins!r}, time_window={time_window!r}"
            )
        self.n_bins = None if n_bins is None else _positive("n_bins", n_bins, integer=True)
        self.time_window = (
            None if time_window is None else _positive("time_window", time_window, integer=False)
        )
        if start is not None and end is not None and not end > start:
            raise ValueError(f"ToFrames: end ({end}) must be after start ({start})")
        self.start = start
        self.end = end
        self.dtype = dtype

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """The shape of one frame: ``(C, H, W)`` or ``(units,)``."""
        if len(self.sensor_size) == 1:
            return self.sensor_size
        width, height = self.sensor_size[:2]
        channels = self.sensor_size[2] if len(self.sensor_size) == 3 else 1
        return (channels, height, width)

    def __repr__(self) -> str:
        parts = [f"sensor_size={self.sensor_size}"]
        if self.n_bins is not None:
            parts.append(f"n_bins={self.n_bins}")
        else:
            parts.append(f"time_window={self.time_window}")
        if self.start is not None:
            parts.append(f"start={self.start}")
        if self.end is not None:
            parts.append(f"end={self.end}")
        return f"ToFrames({', '.join(parts)})"

    def __call__(self, events: NDArray[Any]) -> Tensor:
        """Bin ``events`` ``(E,)`` into ``(T, *frame_shape)`` counts."""
        names = events.dtype.names or ()
        if "t" not in names:
            raise ValueError(f"ToFrames: events need a 't' field, got fields {names}")
        t = events["t"].astype(np.float64)
        start = float(self.start) if self.start is not None else (float(t.min()) if t.size else 0.0)
        end_given = self.end is not None
        end = float(self.end) if self.end is not None else (float(t.max()) if t.size else start)
        keep = (t >= start) & ((t < end) if end_given else (t <= end))
        span = end - start

        if self.n_bins is not None:
            n_bins = self.n_bins
            bins = np.floor((t - start) * n_bins / span) if span > 0 else np.zeros_like(t)
        else:
            window = float(self.time_window)  # type: ignore[arg-type]
            bins = np.floor((t - start) / window)
            n_bins = math.ceil(span / window) if end_given else math.floor(span / window) + 1
            n_bins = max(n_bins, 1)
        bins = np.clip(bins, 0, n_bins - 1).astype(np.int64)

        position = self._positions(events, names)
        frame_size = math.prod(self.frame_shape)
        flat = bins[keep] * frame_size + position[keep]
        counts = np.bincount(flat, minlength=n_bins * frame_size)
        return torch.from_numpy(counts.reshape(n_bins, *self.frame_shape)).to(self.dtype)

    def _positions(self, events: NDArray[Any], names: tuple[str, ...]) -> NDArray[np.int64]:
        """Flat index of each event within a frame; raise for events outside the sensor."""
        if len(self.sensor_size) == 1:
            field = "unit" if "unit" in names else "x" if "x" in names and "y" not in names else ""
            if not field:
                raise ValueError(
                    f"ToFrames: sensor_size {self.sensor_size} needs events with a 'unit' field "
                    f"(or only 'x'), got fields {names}"
                )
            return self._coordinate(events, field, self.sensor_size[0])
        if "x" not in names or "y" not in names:
            raise ValueError(
                f"ToFrames: sensor_size {self.sensor_size} needs events with 'x' and 'y' fields, "
                f"got fields {names}"
            )
        channels, height, width = self.frame_shape
        x = self._coordinate(events, "x", width)
        y = self._coordinate(events, "y", height)
        if channels > 1:
            if "p" not in names:
                raise ValueError(f"ToFrames: {channels} polarities need a 'p' field")
            p = self._coordinate(events, "p", channels)
        else:
            p = np.zeros_like(x)
        return (p * height + y) * width + x

    def _coordinate(self, events: NDArray[Any], field: str, size: int) -> NDArray[np.int64]:
        values = events[field].astype(np.int64)
        bad = np.flatnonzero((values < 0) | (values >= size))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"ToFrames: event {i} has {field}={int(values[i])}, outside [0, {size}) of "
                f"sensor_size {self.sensor_size} ({bad.size} such events)"
            )
        return values
