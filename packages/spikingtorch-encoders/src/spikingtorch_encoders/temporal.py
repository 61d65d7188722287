"""Temporal codes: :class:`LatencyEncoder` (time to first spike) and :class:`DeltaEncoder`
(spikes where a time series changes)."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from spikingtorch_encoders._checks import check_input, check_number, check_positive
from spikingtorch_encoders.base import Encoder
from spikingtorch_encoders.functional.temporal import _latency_params, delta_encode, latency_encode

__all__ = ["DeltaEncoder", "LatencyEncoder"]


class LatencyEncoder(Encoder):
    """Latency (time-to-first-spike) code: larger inputs spike earlier, each at most once.

    With ``f(x) = 1 - x`` (``mode="linear"``) or ``f(x) = ln(1/x)`` (``mode="log"``), an input
    ``x`` in ``[0, 1]`` spikes once, at step

    .. math:: k(x) = \\lfloor \\tau f(x) \\rfloor \\quad \\text{if } x > \\theta
        \\text{ and } k(x) \\le T - 1 \\text{ (else never)}, \\qquad \\theta = \\text{threshold}

    ``normalize=True`` (default) sets ``τ = T / f(θ)``: the inputs in ``(θ, 1]`` fill the steps
    ``0 .. T-1`` in equal-width bins of ``f`` (``x = 1`` at step 0, ``x`` just above ``θ`` at
    ``T - 1``). For the defaults (linear, ``θ = 0``) that is ``k = ⌊T (1 - x)⌋``, and ``x = 0``
    stays silent. ``normalize=False`` uses the given ``tau`` (in steps); inputs whose step falls
    at or past ``T`` stay silent. See :func:`~spikingtorch_encoders.functional.latency_steps`.

    Args:
        steps: ``T`` (``>= 1``).
        mode: ``"linear"`` or ``"log"``.
        threshold: ``θ`` in ``[0, 1)``; inputs ``<= θ`` never spike (``mode="log"`` with
            ``normalize=True`` needs ``θ > 0``).
        normalize: choose ``τ`` so that the code fills the ``T`` steps.
        tau: ``τ`` in steps, with ``normalize=False`` only (required then).
        batch_first: ``(N, T, *dims)`` output (default) or ``(T, N, *dims)``.

    Shape:
        input ``(N, *dims)`` floating in ``[0, 1]``; output ``(N, T, *dims)`` spikes in
        ``{0, 1}``, at most one per input, in the input's dtype and device.

    Example:
        >>> import torch
        >>> LatencyEncoder(4)(torch.tensor([[1.0, 0.6, 0.3, 0.0]]))[0].T
        tensor([[1., 0., 0., 0.],
                [0., 1., 0., 0.],
                [0., 0., 1., 0.],
                [0., 0., 0., 0.]])
    """

    steps: int

    def __init__(
        self,
        steps: int,
        *,
        mode: str = "linear",
        threshold: float = 0.0,
        normalize: bool = True,
        tau: float | None = None,
        batch_first: bool = True,
    ) -> None:
        super().__init__(steps, batch_first=batch_first)
        self.mode, self.threshold, self.normalize, self.tau = _latency_params(
            mode, threshold, normalize, tau, type(self).__name__
        )

    def encode(self, x: Tensor) -> Tensor:
        """``(N, *dims) -> (N, T, *dims)`` single spikes."""
        return latency_encode(
            x,
            self.steps,
            mode=self.mode,
            threshold=self.threshold,
            normalize=self.normalize,
            tau=self.tau,
            _who=type(self).__name__,
        )

    def _repr_params(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "threshold": self.threshold,
            "normalize": None if self.normalize else False,
            "tau": self.tau,
        }


class DeltaEncoder(Encoder):
    """Delta (send-on-delta) code: spikes where a time series has moved by at least ``threshold``
    since the input's last spike.

    The input already has a time axis, so the encoder takes no ``steps``: ``T`` comes from the
    input, ``(N, T, *dims)`` (or ``(T, N, *dims)`` with ``batch_first=False``, for input and
    output alike). A reference ``r`` starts at the first frame (so step 0 never spikes) or at
    ``initial``; at each step

    .. math::

        d_t = x_t - r, \\quad \\text{up}_t = [d_t \\ge \\theta], \\quad
        \\text{down}_t = [d_t \\le -\\theta], \\quad
        r \\leftarrow x_t \\text{ if up}_t \\lor \\text{down}_t

    Because the reference moves only on a spike, slow drifts are caught once they add up to
    ``θ``. Output values and shape:

    * ``signed=True`` (default): ``up - down`` in ``{-1, 0, 1}``, ``(N, T, *dims)``;
    * ``signed=False``: ``up or down`` in ``{0, 1}``, ``(N, T, *dims)``;
    * ``on_off=True``: ON/OFF channels in ``{0, 1}`` on a new axis right after time,
      ``(N, T, 2, *dims)``, index 0 = ON (up), 1 = OFF (down) — the event-camera layout: grey
      frames ``(N, T, H, W)`` give ``(N, T, 2, H, W)``; for ``(N, T, C, H, W)`` use
      ``.flatten(2, 3)`` to get ``2C`` channels (all ON channels first).

    See :func:`~spikingtorch_encoders.functional.delta_encode`.

    Args:
        threshold: ``θ > 0``.
        signed: signed single-channel output, or unsigned when false.
        on_off: two-channel ON/OFF output (then ``signed`` does not apply).
        initial: the reference before step 0 (e.g. ``0.0``, so that a first frame ``>= θ``
            spikes); None starts from the first frame.
        batch_first: ``(N, T, ...)`` input and output (default) or ``(T, N, ...)``.

    Example:
        >>> import torch
        >>> x = torch.tensor([[0.0, 0.25, 0.5, 0.75, 1.0, 0.0]])
        >>> DeltaEncoder(0.5)(x)
        tensor([[ 0.,  0.,  1.,  0.,  1., -1.]])
        >>> DeltaEncoder(0.5, on_off=True)(x)[0].T  # rows: ON, OFF
        tensor([[0., 0., 1., 0., 1., 0.],
                [0., 0., 0., 0., 0., 1.]])
    """

    time_from_input = True

    def __init__(
        self,
        threshold: float,
        *,
        signed: bool = True,
        on_off: bool = False,
        initial: float | None = None,
        batch_first: bool = True,
    ) -> None:
        super().__init__(None, batch_first=batch_first)
        who = type(self).__name__
        self.threshold = check_positive("threshold", threshold, who)
        for name, flag in (("signed", signed), ("on_off", on_off)):
            if not isinstance(flag, bool):
                raise TypeError(f"{who}: {name} must be a bool, got {type(flag).__name__}")
        self.signed = signed
        self.on_off = on_off
        self.initial = None if initial is None else check_number("initial", initial, who)

    def encode(self, x: Tensor) -> Tensor:
        """``(N, T, *dims)`` time series to batch-first spikes (see the class docstring)."""
        return delta_encode(
            x,
            self.threshold,
            signed=self.signed,
            on_off=self.on_off,
            initial=self.initial,
            _who=type(self).__name__,
        )

    def forward(self, x: Tensor) -> Tensor:
        """Encode a time series in this encoder's layout; see the class docstring."""
        if self.batch_first:
            return self.encode(x)
        x = check_input(x, type(self).__name__, min_rank=2, what="(T, N, *dims)")
        if x.shape[0] < 1:
            raise ValueError(
                f"{type(self).__name__}: the time axis (dim 0) is empty: "
                f"input shape {tuple(x.shape)}"
            )
        return self.encode(x.transpose(0, 1)).transpose(0, 1).contiguous()

    def _repr_params(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "signed": None if self.signed or self.on_off else False,
            "on_off": True if self.on_off else None,
            "initial": self.initial,
        }
