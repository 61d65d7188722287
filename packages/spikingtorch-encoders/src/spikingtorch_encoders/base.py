"""The :class:`Encoder` base class: steps, layout, randomness and ``repr`` for every encoder."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from spikingtorch_encoders._checks import check_steps

__all__ = ["Encoder", "format_args"]


class _Raw(str):
    """A string shown without quotes in :func:`format_args`."""

    def __repr__(self) -> str:
        return str(self)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        text = format(value, ".4g")
        return text if any(c in text for c in ".ein") else text + ".0"
    return repr(value)


def format_args(**args: Any) -> str:
    """``name=value`` pairs for ``extra_repr`` (floats to 4 significant digits), skipping None."""
    return ", ".join(f"{k}={_fmt(v)}" for k, v in args.items() if v is not None)


class Encoder(nn.Module):
    """Base class of the spike encoders: turns a batch into a train of ``T = steps`` frames.

    A subclass implements :meth:`encode` on the batch-first layout, ``(N, *dims)`` to
    ``(N, T, *dims)`` (``N`` the batch, ``T`` the steps), usually by calling a pure function of
    :mod:`spikingtorch_encoders.functional`, which validates the input; :meth:`forward`
    converts the result to the time-first layout ``(T, N, *dims)`` when ``batch_first=False``
    (the layout of ``SpikingNet(..., batch_first=False)``). Encoders hold no tensors, so they
    work on any device and dtype; the output follows the input's.

    Args:
        steps: ``T``, the number of time steps (an int ``>= 1``; None for the encoders whose
            input already has a time axis, :attr:`time_from_input`, such as
            :class:`~spikingtorch_encoders.DeltaEncoder`).
        batch_first: output ``(N, T, *dims)`` when true (default), ``(T, N, *dims)`` when false.
        generator: a ``torch.Generator`` on the input's device for stochastic encoders (None:
            torch's global generator). The encoder draws from it on each call, so a generator
            seeded the same way gives bit-identical trains.
    """

    steps: int | None
    time_from_input: ClassVar[bool] = False
    """True for encoders whose input already has a time axis (they take ``steps=None``)."""

    def __init__(
        self,
        steps: int | None,
        *,
        batch_first: bool = True,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        who = type(self).__name__
        if steps is None and self.time_from_input:
            self.steps = None
        else:
            self.steps = check_steps(steps, who)
        if not isinstance(batch_first, bool):
            raise TypeError(f"{who}: batch_first must be a bool, got {type(batch_first).__name__}")
        self.batch_first = batch_first
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(
                f"{who}: generator must be a torch.Generator or None, "
                f"got {type(generator).__name__}"
            )
        self.generator = generator

    def encode(self, x: Tensor) -> Tensor:
        """Encode ``x`` ``(N, *dims)`` into the batch-first ``(N, T, *dims)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement encode()")

    def forward(self, x: Tensor) -> Tensor:
        """Encode a batch; see the class docstring for the shapes."""
        out = self.encode(x)
        return out if self.batch_first else out.transpose(0, 1).contiguous()

    def _repr_params(self) -> dict[str, Any]:
        """Encoder-specific ``extra_repr`` arguments (override; None values are left out)."""
        return {}

    def extra_repr(self) -> str:
        return format_args(
            steps=self.steps,
            **self._repr_params(),
            batch_first=None if self.batch_first else False,
            generator=_Raw("<torch.Generator>") if self.generator is not None else None,
        )
