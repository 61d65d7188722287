"""``check_dataset``: map-style datasets of ``(sample, target)`` pairs, torchvision-style."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from spikingtorch.testing._base import Rule, check_repr

__all__ = ["check_dataset"]


def _is_array(x: Any) -> bool:
    """A tensor, or an array with ``shape`` and ``dtype`` (numpy; the kit does not import it)."""
    return isinstance(x, Tensor) or (hasattr(x, "shape") and hasattr(x, "dtype"))


def _describe(sample: Any) -> tuple[str, str | None, tuple[int, ...] | None]:
    """(type name, dtype, shape) of a sample; dtype and shape only for arrays and tensors."""
    if _is_array(sample):
        return type(sample).__name__, str(sample.dtype), tuple(sample.shape)
    return type(sample).__name__, None, None


def _equal(a: Any, b: Any) -> bool:
    """Whether two samples (or targets) are equal; unknown kinds count as equal."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return a.shape == b.shape and a.dtype == b.dtype and bool(torch.equal(a, b))
    try:
        if _is_array(a) and _is_array(b):
            same = tuple(a.shape) == tuple(b.shape) and str(a.dtype) == str(b.dtype)
            return same and bool((a == b).all())
        return bool(a == b)
    except Exception:  # objects whose == is undefined or ambiguous
        return True


def _as_class(target: Any) -> int | None:
    """A target as an int class index, or None if it is not one (a 0-d int tensor counts)."""
    if isinstance(target, bool):
        return None
    if isinstance(target, int):
        return target
    if type(target).__module__ == "numpy" and hasattr(target, "dtype"):  # numpy scalars
        integral = target.dtype.kind in "iu" and getattr(target, "ndim", 1) == 0
        return int(target) if integral else None
    if isinstance(target, Tensor) and target.dim() == 0 and not target.is_floating_point():
        return int(target)
    return None


def check_dataset(dataset: Any) -> None:
    """Check a map-style dataset; raise on the first broken rule.

    Reads a few samples (the first, the second, the middle and the last), so it stays fast on
    large datasets; build the dataset on a few tiny files for the check.

    Rules: ``len`` (a non-negative int, not zero), ``getitem`` (``(sample, target)`` pairs whose
    types, dtypes and ranks agree across indices; equal shapes, or the declared
    ``sample_shape`` with None for variable dimensions, when no ``transform`` is set; the same
    sample twice for the same index; int targets in ``[0, num_classes)`` when the dataset
    declares ``num_classes`` and no ``target_transform`` is set), ``index-error``
    (``dataset[len(dataset)]`` raises IndexError) and ``repr``.

    Args:
        dataset: an instantiated dataset.

    Raises:
        ConformanceError: a rule is broken.
    """
    who = type(dataset).__name__
    with Rule("len", who) as rule:
        n = len(dataset)
        rule.check(isinstance(n, int) and n >= 0, f"len() returned {n!r}")
        rule.check(n > 0, "the dataset is empty, so its samples cannot be checked")
    indices = sorted({0, min(1, n - 1), n // 2, n - 1})
    transform = getattr(dataset, "transform", None)
    target_transform = getattr(dataset, "target_transform", None)
    declared = getattr(dataset, "sample_shape", None) if transform is None else None
    num_classes = getattr(dataset, "num_classes", None) if target_transform is None else None

    with Rule("getitem", who) as rule:
        seen: list[tuple[int, Any, Any]] = []
        for i in indices:
            item = dataset[i]
            rule.check(
                isinstance(item, (tuple, list)) and len(item) == 2,
                f"dataset[{i}] returned a {type(item).__name__}"
                + (f" of length {len(item)}" if isinstance(item, (tuple, list)) else "")
                + ", not a (sample, target) pair",
            )
            seen.append((i, item[0], item[1]))
        i0, sample0, target0 = seen[0]
        kind0, dtype0, shape0 = _describe(sample0)
        for i, sample, target in seen[1:]:
            kind, dtype, shape = _describe(sample)
            rule.check(
                kind == kind0 and dtype == dtype0,
                f"dataset[{i0}] gives a {kind0} ({dtype0}) sample, dataset[{i}] a {kind} ({dtype})",
            )
            rule.check(
                type(target) is type(target0),
                f"dataset[{i0}] gives a {type(target0).__name__} target, dataset[{i}] a "
                f"{type(target).__name__}",
            )
            if shape0 is not None and shape is not None:
                rule.check(
                    len(shape) == len(shape0),
                    f"dataset[{i0}] gives a sample of shape {shape0}, dataset[{i}] of {shape}",
                )
                if declared is None:
                    rule.check(
                        shape == shape0,
                        f"dataset[{i0}] gives a sample of shape {shape0}, dataset[{i}] of "
                        f"{shape}, and the dataset declares no sample_shape with None for "
                        "the dimensions that vary",
                    )
        if declared is not None and shape0 is not None:
            pattern = tuple(declared)
            for i, sample, _ in seen:
                shape = tuple(sample.shape)
                fits = len(shape) == len(pattern) and all(
                    p is None or p == s for p, s in zip(pattern, shape, strict=True)
                )
                rule.check(fits, f"dataset[{i}] has shape {shape} but sample_shape is {pattern}")
        if transform is None and target_transform is None:
            again_sample, again_target = dataset[i0]
            rule.check(
                _equal(again_sample, sample0) and _equal(again_target, target0),
                f"reading dataset[{i0}] twice gave different samples",
            )
        if isinstance(num_classes, int) and not isinstance(num_classes, bool):
            for i, _, target in seen:
                k = _as_class(target)
                rule.check(
                    k is not None and 0 <= k < num_classes,
                    f"dataset[{i}] has target {target!r}; num_classes = {num_classes} calls for "
                    f"an int in [0, {num_classes})",
                )
            classes = getattr(dataset, "classes", None)
            if classes is not None:
                rule.check(
                    len(classes) == num_classes,
                    f"classes has {len(classes)} names for num_classes = {num_classes}",
                )

    rule = Rule("index-error", who)
    try:
        dataset[n]
    except IndexError:
        pass
    except Exception as exc:
        rule.fail(f"dataset[len(dataset)] = dataset[{n}] raised {type(exc).__name__}: {exc}")
    else:
        rule.fail(f"dataset[len(dataset)] = dataset[{n}] returned a sample")

    check_repr(dataset, who)
