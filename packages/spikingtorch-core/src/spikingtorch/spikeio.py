"""Deprecated spellings of the original package's encoders and decoders (``spikingtorch.spikeio``).

The original ``spikingtorch`` shipped its spike encoders and decoders in this module. They now
live in the ``spikingtorch-encoders`` distribution (import name ``spikingtorch_encoders``, or
``from spikingtorch import PoissonEncoder`` once it is installed). The names here keep old code
running with the original constructor arguments: each constructor emits a
:class:`DeprecationWarning` that gives the new spelling and returns an instance of the new class.

======================================  =====================================================
original                                new
======================================  =====================================================
``PoissonEncoder(nsteps, scale=1.0)``   ``PoissonEncoder(steps, rate=scale, max_rate=1.0)``
``PeriodicEncoder(nsteps, scale=1.0)``  ``PeriodicEncoder(steps, rate=scale, max_rate=1.0)``
``ConstantEncoder(nsteps)``             ``ConstantEncoder(steps)``
``SumDecoder(nsteps, scale, offset)``   ``SumDecoder(scale=scale, offset=0.5 * nsteps)``
                                        (``offset=True``), ``SumDecoder(scale=scale)``
                                        (``offset=False``)
``RateDecoder()``                       ``RateDecoder()``
======================================  =====================================================

Layout change: the original encoders concatenated the time steps into dimension 1, so an image
batch ``(N, C, H, W)`` came out as ``(N, nsteps * C, H, W)`` (time and channels mixed); the
encoders returned here add a separate time axis, ``(N, C, H, W) -> (N, T, C, H, W)``, which is
the :class:`~spikingtorch.SpikingNet` input layout. The decoders read ``(N, T, *out)`` as before.
``max_rate=1.0`` keeps the original's tolerance of ``scale * x > 1`` (clipped to one spike per
step; the new classes reject it by default). The new ``PeriodicEncoder`` subtracts 1 from its
accumulator after a spike where the original reset it to zero, so rates that are not ``1 / k``
come out exactly instead of rounded down.

This module does not import the encoders package; constructing one of these objects does, and
raises :class:`ImportError` (saying ``pip install spikingtorch-encoders``) when it is missing.

Example::

    from spikingtorch.spikeio import PoissonEncoder, SumDecoder  # DeprecationWarning on use

    encoder = PoissonEncoder(8, 0.5)  # PoissonEncoder(8, rate=0.5, max_rate=1.0)
    spikes = encoder(images)          # (N, C, H, W) -> (N, 8, C, H, W)
    decoder = SumDecoder(8, 0.1)      # SumDecoder(scale=0.1, offset=4.0)
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType
from typing import Any

__all__ = ["ConstantEncoder", "PeriodicEncoder", "PoissonEncoder", "RateDecoder", "SumDecoder"]

_DISTRIBUTION = "spikingtorch-encoders"
_PACKAGE = "spikingtorch_encoders"


def _new_package(old: str) -> ModuleType:
    """Import ``spikingtorch_encoders`` or raise an ImportError that says how to install it."""
    try:
        return importlib.import_module(_PACKAGE)
    except ModuleNotFoundError as exc:
        if exc.name != _PACKAGE:
            raise
        raise ImportError(
            f"spikingtorch.spikeio.{old} now lives in the distribution {_DISTRIBUTION!r}, which "
            f"is not installed. Install it with: pip install {_DISTRIBUTION}",
            name=_PACKAGE,
        ) from exc


def _deprecated(old: str, new: str, note: str = "") -> None:
    warnings.warn(
        f"spikingtorch.spikeio.{old} is deprecated; use {_PACKAGE}.{new} "
        f"(or from spikingtorch import {new.partition('(')[0]}){note}",
        DeprecationWarning,
        stacklevel=3,
    )


_LAYOUT_NOTE = (
    ". It returns (N, T, *dims): time is a new axis 1, no longer concatenated into dimension 1"
)


class PoissonEncoder:
    """Deprecated: ``spikingtorch_encoders.PoissonEncoder(steps, rate=scale, max_rate=1.0)``.

    Each step fires with probability ``scale * x``, clipped to ``[0, 1]``.

    Args:
        nsteps: number of time steps ``T``.
        scale: rate factor, the new ``rate``.
        **kwargs: passed on to the new class (e.g. ``generator=``).

    Returns:
        A ``spikingtorch_encoders.PoissonEncoder``; input ``(N, *dims)``, output
        ``(N, T, *dims)`` (the original's was ``(N, T * dims[0], *dims[1:])``).
    """

    def __new__(cls, nsteps: int, scale: float = 1.0, **kwargs: Any) -> Any:
        new = _new_package("PoissonEncoder").PoissonEncoder
        _deprecated(
            "PoissonEncoder(nsteps, scale)",
            "PoissonEncoder(steps, rate=scale, max_rate=1.0)",
            _LAYOUT_NOTE,
        )
        kwargs.setdefault("max_rate", 1.0)
        return new(nsteps, rate=scale, **kwargs)


class PeriodicEncoder:
    """Deprecated: ``spikingtorch_encoders.PeriodicEncoder(steps, rate=scale, max_rate=1.0)``.

    A regular spike train: an accumulator adds ``scale * x`` (clipped to ``[0, 1]``) each step
    and fires on reaching 1, then subtracts 1 (the original reset it to zero).

    Args:
        nsteps: number of time steps ``T``.
        scale: rate factor, the new ``rate``.
        **kwargs: passed on to the new class.

    Returns:
        A ``spikingtorch_encoders.PeriodicEncoder``; input ``(N, *dims)``, output
        ``(N, T, *dims)`` (the original's was ``(N, T * dims[0], *dims[1:])``).
    """

    def __new__(cls, nsteps: int, scale: float = 1.0, **kwargs: Any) -> Any:
        new = _new_package("PeriodicEncoder").PeriodicEncoder
        _deprecated(
            "PeriodicEncoder(nsteps, scale)",
            "PeriodicEncoder(steps, rate=scale, max_rate=1.0)",
            _LAYOUT_NOTE,
        )
        kwargs.setdefault("max_rate", 1.0)
        return new(nsteps, rate=scale, **kwargs)


class ConstantEncoder:
    """Deprecated: ``spikingtorch_encoders.ConstantEncoder(steps)``.

    Repeats the input at every step (a constant current).

    Args:
        nsteps: number of time steps ``T``.
        **kwargs: passed on to the new class.

    Returns:
        A ``spikingtorch_encoders.ConstantEncoder``; input ``(N, *dims)``, output
        ``(N, T, *dims)`` (the original expanded a size-1 dimension 1 to ``T`` instead).
    """

    def __new__(cls, nsteps: int, **kwargs: Any) -> Any:
        new = _new_package("ConstantEncoder").ConstantEncoder
        _deprecated("ConstantEncoder(nsteps)", "ConstantEncoder(steps)", _LAYOUT_NOTE)
        return new(nsteps, **kwargs)


class SumDecoder:
    """Deprecated: ``spikingtorch_encoders.SumDecoder(scale=scale, offset=0.5 * nsteps)``.

    ``scale * (sum_t s_t - 0.5 * nsteps)`` with ``offset=True`` (the default), ``scale * sum_t s_t``
    with ``offset=False``; the sum runs over dimension 1 of ``(N, T, *out)``.

    Args:
        nsteps: number of time steps the offset refers to.
        scale: factor applied to the (offset) count.
        offset: subtract ``0.5 * nsteps`` before scaling.
        **kwargs: passed on to the new class (e.g. ``batch_first=``).

    Returns:
        A ``spikingtorch_encoders.SumDecoder``; input ``(N, T, *out)``, output ``(N, *out)``.
    """

    def __new__(cls, nsteps: int, scale: float, offset: bool = True, **kwargs: Any) -> Any:
        new = _new_package("SumDecoder").SumDecoder
        if offset:
            _deprecated(
                "SumDecoder(nsteps, scale, offset=True)",
                "SumDecoder(scale=scale, offset=0.5 * nsteps)",
            )
            return new(scale=scale, offset=0.5 * nsteps, **kwargs)
        _deprecated("SumDecoder(nsteps, scale, offset=False)", "SumDecoder(scale=scale)")
        return new(scale=scale, **kwargs)


class RateDecoder:
    """Deprecated: ``spikingtorch_encoders.RateDecoder()``, the mean over dimension 1 (time).

    Returns:
        A ``spikingtorch_encoders.RateDecoder``; input ``(N, T, *out)``, output ``(N, *out)``.
    """

    def __new__(cls, **kwargs: Any) -> Any:
        new = _new_package("RateDecoder").RateDecoder
        _deprecated("RateDecoder()", "RateDecoder()")
        return new(**kwargs)
