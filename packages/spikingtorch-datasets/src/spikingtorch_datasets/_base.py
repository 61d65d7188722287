"""The base class of every dataset here: transforms and a torchvision-style ``repr``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

__all__ = ["SpikeDataset"]


class SpikeDataset(Dataset[tuple[Any, Any]]):
    """A map-style dataset of ``(sample, target)`` pairs with torchvision's conventions.

    Subclasses set the attributes below, implement ``__len__`` and ``_load(index)`` (the sample
    before ``transform`` and the target before ``target_transform``), and describe their
    settings in :meth:`extra_repr`.

    Attributes:
        root: The folder the files live under (None for generated data).
        train: The training split (True) or the test split.
        transform: Applied to each sample, or None.
        target_transform: Applied to each target, or None.
        num_classes: The number of classes (targets are ints in ``[0, num_classes)``).
        classes: A name per class.
        sample_shape: The shape of one sample before ``transform`` (None for a size that varies
            from sample to sample, such as the number of time bins of an event recording).
        temporal: True if a sample already has a time axis first (spike trains, events); False
            for static samples (images) that need an encoder to become spike trains.
    """

    root: Path | None
    train: bool
    transform: Callable[[Any], Any] | None
    target_transform: Callable[[Any], Any] | None
    num_classes: int
    classes: list[str]
    temporal: bool

    def _load(self, index: int) -> tuple[Any, int]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """Return ``(transform(sample), target_transform(target))`` for sample ``index``."""
        n = len(self)
        if not isinstance(index, int) and hasattr(index, "__index__"):
            index = index.__index__()
        if not isinstance(index, int):
            raise TypeError(f"{type(self).__name__} index must be an int, got {index!r}")
        if not -n <= index < n:
            raise IndexError(f"{type(self).__name__} index {index} out of range for {n} samples")
        sample, target = self._load(index % n)
        out_sample: Any = sample if self.transform is None else self.transform(sample)
        out_target: Any = target if self.target_transform is None else self.target_transform(target)
        return out_sample, out_target

    def extra_repr(self) -> str:
        """Settings shown by ``repr`` after the common lines, one per line."""
        return ""

    def __repr__(self) -> str:
        lines = [f"Number of datapoints: {len(self)}"]
        if self.root is not None:
            lines.append(f"Root location: {self.root}")
        lines.append(f"Split: {'Train' if self.train else 'Test'}")
        lines += [line for line in self.extra_repr().splitlines() if line]
        if self.transform is not None:
            lines.append(f"Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"Target transform: {self.target_transform!r}")
        body = "\n".join("    " + line for line in lines)
        return f"Dataset {type(self).__name__}\n{body}"
