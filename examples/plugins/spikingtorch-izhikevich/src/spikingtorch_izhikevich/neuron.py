"""The :class:`Izhikevich` neuron module: parameters and presets around :func:`izhikevich_step`."""

from __future__ import annotations

import math
from typing import Any

import torch
from spikingtorch.neuron import Neuron
from spikingtorch.surrogate import SurrogateFunction
from spikingtorch.surrogate import get as get_surrogate
from torch import Tensor

from spikingtorch_izhikevich.functional import (
    DEFAULT_SURROGATE,
    IzhikevichState,
    Param,
    izhikevich_step,
)
from spikingtorch_izhikevich.functional import preset as lookup_preset

__all__ = ["Izhikevich"]

_TENSOR_PARAMS = ("a", "b", "c", "d", "v_peak", "v_init", "input_scale")


def _check_param(name: str, value: Any) -> Param:
    """A finite number (returned as float) or a real floating tensor of finite values (a copy)."""
    if isinstance(value, Tensor):
        if not value.is_floating_point():
            raise TypeError(f"Izhikevich: {name} must be a floating tensor, got {value.dtype}")
        t = value.detach().clone()
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"Izhikevich: {name} must be finite, got {t}")
        return t
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"Izhikevich: {name} must be a number or a tensor, got {type(value).__name__}"
        )
    if not math.isfinite(value):
        raise ValueError(f"Izhikevich: {name} must be finite, got {value!r}")
    return float(value)


def _check_positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"Izhikevich: {name} must be a positive number, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"Izhikevich: {name} must be positive and finite, got {value!r}")
    return float(value)


def _like(p: Param, x: Tensor) -> Param:
    """``p`` on ``x``'s device and dtype (floats pass through)."""
    return p.to(device=x.device, dtype=x.dtype) if isinstance(p, Tensor) else p


def _fmt(value: Param | None) -> str:
    if isinstance(value, Tensor):
        return f"tensor{tuple(value.shape)}" if value.dim() else f"{value.item():.4g}"
    return "None" if value is None else f"{value:.4g}"


class Izhikevich(Neuron):
    """Izhikevich (2003) spiking neuron: quadratic membrane, recovery variable, after-spike reset.

    Per time step, for the input current ``x_t`` of shape ``(N, *F)`` (``N`` the batch, ``F``
    the feature shape), one Euler step of ``dt`` ms (details and units in
    :mod:`spikingtorch_izhikevich.functional`):

    .. math::

        v' = v + \\Delta t\\,(0.04 v^2 + 5 v + 140 - u + k x_t), \\qquad
        u' = u + \\Delta t\\, a (b v - u),

        s_t = H\\big((v' - 30) / \\sigma\\big), \\qquad
        (v, u) \\leftarrow \\begin{cases} (c,\\ u' + d) & s_t = 1 \\\\ (v',\\ u') & s_t = 0
        \\end{cases}

    ``v`` is in mV and starts at ``v_init = -65`` with ``u = b v_init``; the input is a
    *current* in the model's units (a constant ``10`` makes a regular-spiking cell fire
    tonically). Weighted spikes from a default-initialised ``nn.Linear`` are currents of order
    0.1-1, far too small to make it fire: scale them with ``input_scale`` (``k``) or the layer's
    weights.

    Args:
        preset: a cell type of Izhikevich (2003), Fig. 2, giving ``a, b, c, d``:
            ``regular_spiking`` (default), ``intrinsically_bursting``, ``chattering``,
            ``fast_spiking``, ``low_threshold_spiking``, ``thalamo_cortical``, ``resonator``
            (or ``rs``, ``ib``, ``ch``, ``fs``, ``lts``, ``tc``, ``rz``); see
            :data:`~spikingtorch_izhikevich.functional.PRESETS`.
        a, b, c, d: override the preset's values (floats or tensors broadcastable to ``F``).
        dt: Euler step in ms (``> 0``); the paper's code uses two 0.5 ms half-steps for ``v``.
        v_peak: spike cut-off in mV (30).
        v_init: initial membrane potential in mV (``u`` starts at ``b v_init``).
        input_scale: ``k``, multiplies the input current; ``None`` means 1.
        surrogate: surrogate gradient of the spike (a
            :class:`~spikingtorch.surrogate.SurrogateFunction` or a registered name such as
            ``"gaussian"``); default ``ATan(alpha=2)``, whose long tails reach far below the peak.
        surrogate_scale: ``σ`` in mV; the surrogate sees ``(v' - v_peak) / σ``.
        detach_reset: no gradient through the spike inside the reset.

    Shape:
        input ``(N, *F)``, output spikes ``(N, *F)`` in ``{0, 1}`` with the input's dtype.

    Raises:
        ValueError: an unknown preset (the message lists them), a non-finite parameter,
            ``dt <= 0`` or ``surrogate_scale <= 0``, an unknown surrogate name.
        TypeError: a parameter of the wrong type.

    Example:
        >>> import torch
        >>> neuron = Izhikevich("fast_spiking")
        >>> x = torch.full((1, 1), 10.0)
        >>> spikes = [neuron(x, init=(t == 0)).item() for t in range(50)]
        >>> int(sum(spikes)), spikes.index(1.0)  # spike count over 50 ms and first spike time
        (5, 4)
    """

    a: Param
    b: Param
    c: Param
    d: Param
    v_peak: Param
    v_init: Param
    input_scale: Param | None

    def __init__(
        self,
        preset: str = "regular_spiking",
        *,
        a: Param | None = None,
        b: Param | None = None,
        c: Param | None = None,
        d: Param | None = None,
        dt: float = 1.0,
        v_peak: Param = 30.0,
        v_init: Param = -65.0,
        input_scale: Param | None = None,
        surrogate: SurrogateFunction | str = DEFAULT_SURROGATE,
        surrogate_scale: float = 10.0,
        detach_reset: bool = False,
    ) -> None:
        super().__init__()
        cell = lookup_preset(preset)
        self.preset = preset
        values: dict[str, Param | None] = {
            "a": cell.a if a is None else a,
            "b": cell.b if b is None else b,
            "c": cell.c if c is None else c,
            "d": cell.d if d is None else d,
            "v_peak": v_peak,
            "v_init": v_init,
            "input_scale": input_scale,
        }
        for name in _TENSOR_PARAMS:
            value = values[name]
            checked = None if value is None else _check_param(name, value)
            if isinstance(checked, Tensor):
                self.register_buffer(name, checked)
            else:
                setattr(self, name, checked)
        self.dt = _check_positive("dt", dt)
        self.surrogate_scale = _check_positive("surrogate_scale", surrogate_scale)
        self.surrogate = get_surrogate(surrogate)
        self.detach_reset = bool(detach_reset)

    def init_state(self, x_t: Tensor) -> IzhikevichState:
        """The initial state ``v = v_init``, ``u = b v_init``, shaped like ``x_t`` ``(N, *F)``.

        Raises:
            TypeError: ``x_t`` is not floating point.
            ValueError: a per-neuron parameter does not broadcast to ``x_t``'s shape.
        """
        if not x_t.is_floating_point():
            raise TypeError(f"Izhikevich expects a floating-point input, got dtype {x_t.dtype}")
        for name in _TENSOR_PARAMS:
            p = getattr(self, name)
            if isinstance(p, Tensor):
                try:
                    fits = torch.broadcast_shapes(p.shape, x_t.shape) == x_t.shape
                except RuntimeError:
                    fits = False
                if not fits:
                    raise ValueError(
                        f"Izhikevich: {name} of shape {tuple(p.shape)} does not broadcast to the "
                        f"input shape {tuple(x_t.shape)}"
                    )
        return IzhikevichState.resting(x_t, b=_like(self.b, x_t), v_init=_like(self.v_init, x_t))

    def step(self, x_t: Tensor, state: IzhikevichState) -> tuple[Tensor, IzhikevichState]:
        """One step; see :func:`~spikingtorch_izhikevich.functional.izhikevich_step`."""
        k = self.input_scale
        return izhikevich_step(
            x_t,
            state,
            a=_like(self.a, x_t),
            b=_like(self.b, x_t),
            c=_like(self.c, x_t),
            d=_like(self.d, x_t),
            dt=self.dt,
            v_peak=_like(self.v_peak, x_t),
            input_scale=None if k is None else _like(k, x_t),
            surrogate=self.surrogate,
            surrogate_scale=self.surrogate_scale,
            detach_reset=self.detach_reset,
        )

    def extra_repr(self) -> str:
        parts = [f"preset={self.preset!r}"]
        parts += [f"{name}={_fmt(getattr(self, name))}" for name in ("a", "b", "c", "d")]
        parts.append(f"dt={self.dt:g}")
        if self.input_scale is not None:
            parts.append(f"input_scale={_fmt(self.input_scale)}")
        parts.append(f"surrogate={self.surrogate!r}")
        if self.surrogate_scale != 10.0:
            parts.append(f"surrogate_scale={self.surrogate_scale:g}")
        if self.detach_reset:
            parts.append("detach_reset=True")
        return ", ".join(parts)
