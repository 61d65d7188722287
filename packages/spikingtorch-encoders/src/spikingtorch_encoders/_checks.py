"""Validation shared by the pure encoding functions and the encoder modules.

Every check raises an error that names the encoder (``who``), what was wrong, and what was
expected: ``TypeError`` for a value of the wrong kind (not a tensor, not floating point, a bool
where a number belongs), ``ValueError`` for a value of the right kind but the wrong size or range.
Checks that must read tensor values (finite, in range) are skipped on the ``meta`` device, which
has no values; shapes and dtypes are still checked there.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "check_fraction",
    "check_generator",
    "check_input",
    "check_number",
    "check_positive",
    "check_range",
    "check_steps",
    "has_values",
    "work_dtype",
]


def check_steps(steps: Any, who: str = "encoder") -> int:
    """Return ``steps`` as an int ``>= 1`` (``TypeError`` if not an int, ``ValueError`` if < 1)."""
    if isinstance(steps, bool):
        raise TypeError(f"{who}: steps must be an int, got {steps!r}")
    try:
        value = operator.index(steps)
    except TypeError:
        raise TypeError(f"{who}: steps must be an int, got {type(steps).__name__}") from None
    if value < 1:
        raise ValueError(f"{who}: steps must be at least 1, got {value}")
    return value


def check_number(name: str, value: Any, who: str = "encoder") -> float:
    """Return ``value`` as a finite float (``TypeError`` for a non-number, a bool included)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{who}: {name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{who}: {name} must be finite, got {value!r}")
    return value


def check_positive(name: str, value: Any, who: str = "encoder") -> float:
    """Return ``value`` as a finite float ``> 0``."""
    value = check_number(name, value, who)
    if value <= 0:
        raise ValueError(f"{who}: {name} must be positive, got {value!r}")
    return value


def check_fraction(
    name: str, value: Any, who: str = "encoder", *, low: float = 0.0, open_low: bool = False
) -> float:
    """Return ``value`` as a float in ``[low, 1]`` (``(low, 1]`` with ``open_low``)."""
    value = check_number(name, value, who)
    below = value <= low if open_low else value < low
    if below or value > 1:
        interval = f"{'(' if open_low else '['}{low:g}, 1]"
        raise ValueError(f"{who}: {name} must lie in {interval}, got {value!r}")
    return value


def has_values(x: Tensor) -> bool:
    """Whether ``x`` holds values that checks can read (false on the ``meta`` device)."""
    return x.device.type != "meta"


def check_input(
    x: Any, who: str = "encoder", *, min_rank: int = 1, what: str = "(N, *dims)"
) -> Tensor:
    """Check an encoder input: a floating tensor of rank ``>= min_rank`` without NaN or inf.

    Raises:
        TypeError: ``x`` is not a tensor, or not floating point.
        ValueError: ``x`` has too few dimensions, or holds NaN or infinite values.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{who} expects a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(
            f"{who} expects a floating-point tensor, got dtype {x.dtype} "
            "(convert with x.float(), and scale integer images to [0, 1] first)"
        )
    if x.dim() < min_rank:
        raise ValueError(
            f"{who} expects an input of shape {what} (at least {min_rank} dimensions), "
            f"got shape {tuple(x.shape)}"
        )
    if has_values(x) and x.numel() and not bool(torch.isfinite(x).all()):
        bad = "NaN" if bool(torch.isnan(x).any()) else "infinite"
        raise ValueError(f"{who}: the input holds {bad} values; encoders need finite inputs")
    return x


def check_range(
    values: Tensor, low: float | None, high: float | None, who: str, what: str, hint: str = ""
) -> None:
    """Raise ``ValueError`` if some of ``values`` lie outside ``[low, high]`` (None: unbounded)."""
    if not has_values(values) or values.numel() == 0:
        return
    if low is not None:
        smallest = values.min().item()
        if smallest < low:
            raise ValueError(
                f"{who}: {what} must be >= {low:g}, but the smallest value is {smallest:g}{hint}"
            )
    if high is not None:
        largest = values.max().item()
        if largest > high:
            raise ValueError(
                f"{who}: {what} must be <= {high:g}, but the largest value is {largest:g}{hint}"
            )


def check_generator(generator: Any, x: Tensor, who: str = "encoder") -> torch.Generator | None:
    """Check that ``generator`` is None or a ``torch.Generator`` on ``x``'s device type."""
    if generator is None:
        return None
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            f"{who}: generator must be a torch.Generator or None, got {type(generator).__name__}"
        )
    if generator.device.type != x.device.type:
        raise ValueError(
            f"{who}: the generator is on device {generator.device.type!r} but the input is on "
            f"{x.device.type!r}; create it with torch.Generator(device=x.device)"
        )
    return generator


def work_dtype(x: Tensor, *, exact: bool = False) -> torch.dtype:
    """The dtype encoders compute in: at least float32 (so that half-precision inputs do not
    coarsen probabilities); with ``exact``, float64 wherever the device supports it."""
    if exact and x.device.type != "mps":
        return torch.float64
    return torch.promote_types(x.dtype, torch.float32)
