"""The Izhikevich neuron as a pure step function, and the named parameter presets.

Izhikevich (2003), "Simple model of spiking neurons", IEEE Trans. Neural Networks 14(6):

.. math::

    \\dot v = 0.04 v^2 + 5 v + 140 - u + I, \\qquad \\dot u = a (b v - u),

    \\text{if } v \\ge 30\\,\\text{mV}: \\quad v \\leftarrow c, \\quad u \\leftarrow u + d

Units: ``v`` is the membrane potential in mV, ``u`` the recovery variable (same units as ``v``),
time in ms, and the input ``I`` a current in the model's dimensionless units (the paper drives
cortical neurons with ``I`` of about 5-20; a constant ``I = 10`` makes a regular-spiking neuron
fire tonically). The input of :func:`izhikevich_step` is that *current* (times ``input_scale``),
not a voltage increment and not a spike.

Discrete time: one explicit Euler step of ``dt`` ms from the previous state, then the spike and
the reset within the same step (the state is stored after the reset; unlike the paper's code,
``u`` is updated from ``v_{t-1}``, not from the new ``v``)::

    I_t  = k x_t                                       (k = input_scale, default 1)
    v'_t = v_{t-1} + dt (0.04 v_{t-1}^2 + 5 v_{t-1} + 140 - u_{t-1} + I_t)
    u'_t = u_{t-1} + dt a (b v_{t-1} - u_{t-1})
    s_t  = H((v'_t - v_peak) / scale)                  (a spike iff v'_t > v_peak = 30 mV)
    v_t  = (1 - s_t) v'_t + s_t c
    u_t  = u'_t + d s_t

``H`` is the Heaviside step; in the backward pass its derivative is the surrogate's, taken at
``(v'_t - v_peak) / scale`` and divided by ``scale`` (the chain rule), so ``scale`` (mV) sets how
far below the peak the membrane still receives gradient. The paper's code spikes at
``v >= 30``; here, as everywhere in spikingtorch, a spike is ``v > v_peak`` (the two differ only
when ``v'`` is exactly 30). The paper integrates ``v`` in two half-steps of 0.5 ms for numerical
stability; ``dt = 0.5`` with twice the steps is the closest equivalent here.

Shapes: ``x`` is ``(N, *F)`` (``N`` the batch, ``F`` the feature shape); the state tensors and the
spikes have the same shape. ``a``, ``b``, ``c``, ``d``, ``v_peak`` and ``input_scale`` are floats
or tensors broadcastable to ``x`` (per-neuron values).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias

import torch
from spikingtorch.surrogate import ATan, SurrogateFunction
from spikingtorch.surrogate import get as get_surrogate
from torch import Tensor

__all__ = [
    "PRESETS",
    "PRESET_ALIASES",
    "IzhikevichPreset",
    "IzhikevichState",
    "Param",
    "izhikevich_step",
    "preset",
]

#: A hyper-parameter: a Python number or a tensor broadcastable to the input.
Param: TypeAlias = float | Tensor

#: The default surrogate: arctangent, whose slowly decaying tails give the membrane gradient
#: far below the 30 mV peak (resting is about -70 mV).
DEFAULT_SURROGATE = ATan(alpha=2.0)


@dataclass(frozen=True)
class IzhikevichPreset:
    """One named cell type: the four parameters of the model and what it does.

    Attributes:
        a: time scale of the recovery variable ``u`` (1/ms; smaller is slower recovery).
        b: sensitivity of ``u`` to sub-threshold fluctuations of ``v``.
        c: after-spike reset value of ``v`` (mV).
        d: after-spike increment of ``u``.
        description: the firing pattern under a constant input current.
    """

    a: float
    b: float
    c: float
    d: float
    description: str


#: The cell types of Izhikevich (2003), Fig. 2: name -> (a, b, c, d).
PRESETS: dict[str, IzhikevichPreset] = {
    "regular_spiking": IzhikevichPreset(
        0.02, 0.2, -65.0, 8.0, "RS, excitatory cortical: tonic spiking that adapts (slows down)"
    ),
    "intrinsically_bursting": IzhikevichPreset(
        0.02, 0.2, -55.0, 4.0, "IB, excitatory: an initial burst, then tonic single spikes"
    ),
    "chattering": IzhikevichPreset(
        0.02, 0.2, -50.0, 2.0, "CH, excitatory: repetitive bursts of closely spaced spikes"
    ),
    "fast_spiking": IzhikevichPreset(
        0.1, 0.2, -65.0, 2.0, "FS, inhibitory interneuron: high-frequency tonic spiking"
    ),
    "low_threshold_spiking": IzhikevichPreset(
        0.02, 0.25, -65.0, 2.0, "LTS, inhibitory interneuron: high frequency, adapting"
    ),
    "thalamo_cortical": IzhikevichPreset(
        0.02, 0.25, -65.0, 0.05, "TC, thalamo-cortical: tonic, or a rebound burst"
    ),
    "resonator": IzhikevichPreset(
        0.1, 0.26, -65.0, 2.0, "RZ, resonator: responds to inputs at its resonant frequency"
    ),
}

#: The paper's abbreviations, accepted as preset names too.
PRESET_ALIASES: dict[str, str] = {
    "rs": "regular_spiking",
    "ib": "intrinsically_bursting",
    "ch": "chattering",
    "fs": "fast_spiking",
    "lts": "low_threshold_spiking",
    "tc": "thalamo_cortical",
    "rz": "resonator",
}


def preset(name: str) -> IzhikevichPreset:
    """Look up a preset by name or abbreviation (case-insensitive, ``-`` equals ``_``).

    Raises:
        ValueError: An unknown name; the message lists the presets and suggests the closest.

    Example:
        >>> p = preset("FS")
        >>> p == PRESETS["fast_spiking"], (p.a, p.b, p.c, p.d)
        (True, (0.1, 0.2, -65.0, 2.0))
    """
    if not isinstance(name, str):
        raise TypeError(f"preset must be a string, got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_")
    key = PRESET_ALIASES.get(key, key)
    found = PRESETS.get(key)
    if found is None:
        known = [*PRESETS, *PRESET_ALIASES]
        close = difflib.get_close_matches(key, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown Izhikevich preset {name!r}; presets: {', '.join(PRESETS)} "
            f"(or {', '.join(PRESET_ALIASES)}).{hint}"
        )
    return found


class IzhikevichState(NamedTuple):
    """State of an Izhikevich neuron after a step (after the reset).

    Attributes:
        v: membrane potential ``v_t`` in mV, shape ``(N, *F)``.
        u: recovery variable ``u_t``, shape ``(N, *F)``.
    """

    v: Tensor
    u: Tensor

    @classmethod
    def resting(cls, x: Tensor, *, b: Param = 0.2, v_init: Param = -65.0) -> IzhikevichState:
        """The initial state for inputs shaped like ``x``: ``v = v_init``, ``u = b v_init``.

        This is the paper's initial condition (``v = -65``, ``u = b v``).
        """
        v = torch.zeros_like(x) + v_init
        return cls(v, b * v)


def izhikevich_step(
    x: Tensor,
    state: IzhikevichState,
    *,
    a: Param = 0.02,
    b: Param = 0.2,
    c: Param = -65.0,
    d: Param = 8.0,
    dt: float = 1.0,
    v_peak: Param = 30.0,
    input_scale: Param | None = None,
    surrogate: SurrogateFunction | str = DEFAULT_SURROGATE,
    surrogate_scale: float = 10.0,
    detach_reset: bool = False,
) -> tuple[Tensor, IzhikevichState]:
    """One Euler step of the Izhikevich neuron (equations in the module docstring).

    .. math::

        v'_t = v_{t-1} + \\Delta t\\,(0.04 v_{t-1}^2 + 5 v_{t-1} + 140 - u_{t-1} + k x_t),
        \\quad u'_t = u_{t-1} + \\Delta t\\, a (b v_{t-1} - u_{t-1}),

        s_t = H\\big((v'_t - v_{peak}) / \\sigma\\big), \\quad
        v_t = (1 - s_t) v'_t + s_t c, \\quad u_t = u'_t + d s_t

    Args:
        x: input current ``x_t`` (model units; see the module docstring), shape ``(N, *F)``.
        state: ``(v_{t-1}, u_{t-1})``; :meth:`IzhikevichState.resting` starts at rest.
        a, b, c, d: the model parameters (see :data:`PRESETS`; the defaults are regular spiking).
        dt: Euler step in ms (``> 0``).
        v_peak: spike cut-off in mV (30 in the paper).
        input_scale: ``k``, multiplies the input; ``None`` means ``k = 1``.
        surrogate: surrogate gradient of ``H`` (instance or registered name).
        surrogate_scale: ``σ`` in mV: the surrogate sees ``(v' - v_peak) / σ``.
        detach_reset: no gradient through the spike inside the reset of ``v`` and ``u``.

    Returns:
        ``(s_t, IzhikevichState(v_t, u_t))``; spikes shaped and typed like ``x``, in ``{0, 1}``.

    Example:
        >>> x = torch.tensor([10.0])
        >>> state = IzhikevichState.resting(x)     # v = -65, u = -13
        >>> s, state = izhikevich_step(x, state)   # v' = -65 + (169 - 325 + 140 + 13 + 10)
        >>> s.item(), state.v.item(), round(state.u.item(), 4)
        (0.0, -58.0, -13.0)
    """
    current = x if input_scale is None else input_scale * x
    v, u = state.v, state.u
    v_next = v + dt * (0.04 * v * v + 5.0 * v + 140.0 - u + current)
    u_next = u + dt * a * (b * v - u)
    s = get_surrogate(surrogate)((v_next - v_peak) / surrogate_scale)
    r = s.detach() if detach_reset else s
    v_next = (1 - r) * v_next + r * c
    u_next = u_next + d * r
    return s, IzhikevichState(v_next, u_next)
