"""One IF/LIF step as a single autograd node (the fast path of step mode).

:func:`lif_step_fused` computes exactly what :func:`~spikingtorch_neurons.functional.lif_step`
computes (bit-identical spikes and membrane in float32/float64) but records one autograd node
instead of six (reset, decay, input, threshold shift, spike), and its backward is written by
hand (not twice differentiable, like the scans; the plain step function is). With
``h = v_t - theta``, ``d = d(h)`` the surrogate's pseudo-derivative, ``g_s`` and ``g_v`` the
gradients arriving at ``s_t`` and ``v_t``::

    u = g_v + d g_s                      (dL/dv_t)
    dL/dx_t = u,   dL/dv_{t-1} = a dr/dv u,   dL/ds_{t-1} = a dr/ds u,
    dL/dtheta = -d g_s (- a s_{t-1} u for "subtract"),   dL/da = r u

with ``(dr/dv, dr/ds)`` as in :mod:`~spikingtorch_neurons.functional.scan`. An ``input_scale``
is applied outside the node (``b x`` by ordinary autograd). Reduced precision,
``torch.compile`` (which fuses the plain step anyway) and ``torch.func`` transforms (``vmap``,
``grad``, ...) use the plain step function.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from spikingtorch.surrogate import SurrogateFunction, functorch_active, is_compiling
from spikingtorch.surrogate import get as get_surrogate
from spikingtorch_neurons.functional._common import Param, sum_to_param
from spikingtorch_neurons.functional.integrate import IFState, LIFState, if_step, lif_step

__all__ = ["if_step_fused", "lif_step_fused"]

_FAST_DTYPES = (torch.float32, torch.float64)


class _LIFStep(torch.autograd.Function):
    """``(x, v, s, theta, a) -> (s_t, v_t)``; ``a`` is ``None`` for the IF."""

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        v: Tensor,
        s: Tensor,
        threshold: Param,
        decay: Param | None,
        reset: str,
        detach_reset: bool,
        surrogate: SurrogateFunction,
    ) -> tuple[Tensor, Tensor]:
        # the step function's rounding: products with s or 1 - s are exact (see scan.py)
        if reset == "zero":
            keep = 1 - s
            if decay is None:
                v_new = torch.addcmul(x, v, keep)
            elif not isinstance(decay, Tensor) and x.device.type == "cpu":
                # CPU rounds value * (v * keep) before adding; CUDA may fuse it into an FMA
                v_new = torch.addcmul(x, v, keep, value=decay)
            else:
                v_new = (v * keep).mul_(decay).add_(x)
        else:
            if reset == "subtract":
                if isinstance(threshold, Tensor):
                    r = torch.addcmul(v, threshold, s, value=-1)
                else:
                    r = torch.sub(v, s, alpha=threshold)
                v_new = r if decay is None else r.mul_(decay)
            else:
                v_new = v.clone() if decay is None else v * decay
            v_new.add_(x)
        spikes = torch.gt(v_new, threshold, out=torch.empty_like(v_new))
        ctx.set_materialize_grads(False)
        ctx.reset = reset
        ctx.detach_reset = detach_reset
        ctx.surrogate = surrogate
        ctx.threshold = None if isinstance(threshold, Tensor) else threshold
        ctx.decay = None if isinstance(decay, Tensor) else decay
        ctx.tensor_threshold = isinstance(threshold, Tensor)
        ctx.tensor_decay = isinstance(decay, Tensor)
        # zero reset: save 1 - s (the backward needs it, not s); otherwise s
        saved = [v_new, v, keep if reset == "zero" else s]
        if isinstance(threshold, Tensor):
            saved.append(threshold)
        if isinstance(decay, Tensor):
            saved.append(decay)
        ctx.save_for_backward(*saved)
        return spikes, v_new

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, g_s: Tensor | None, g_v: Tensor | None) -> tuple[Any, ...]:
        saved = list(ctx.saved_tensors)
        v_new, v, s_or_keep = saved[:3]
        rest = saved[3:]
        threshold: Param = rest.pop(0) if ctx.tensor_threshold else ctx.threshold
        decay: Param | None = rest.pop(0) if ctx.tensor_decay else ctx.decay
        reset: str = ctx.reset
        needs = ctx.needs_input_grad

        d: Tensor | None = None
        if g_s is not None:
            d = ctx.surrogate.derivative_(v_new - threshold)
            u = d * g_s if g_v is None else torch.addcmul(g_v, d, g_s)
        elif g_v is not None:
            u = g_v
        else:
            return (None,) * 8
        ua = u if decay is None else u * decay
        g_v_prev = g_s_prev = g_theta = g_decay = None
        if needs[1]:
            g_v_prev = sum_to_param(ua * s_or_keep if reset == "zero" else ua, v)
        if needs[2] and not ctx.detach_reset and reset != "none":
            g = ua * v if reset == "zero" else ua * threshold
            g_s_prev = sum_to_param(g.neg_(), s_or_keep)
        if isinstance(threshold, Tensor) and needs[3]:
            total = torch.zeros_like(u) if d is None or g_s is None else -(d * g_s)
            if reset == "subtract":
                total = total - ua * s_or_keep
            g_theta = sum_to_param(total, threshold)
        if isinstance(decay, Tensor) and needs[4]:
            if reset == "zero":
                r = v * s_or_keep
            elif reset == "subtract":
                r = v - threshold * s_or_keep
            else:
                r = v
            g_decay = sum_to_param(u * r, decay)
        g_x = u if needs[0] else None
        return (g_x, g_v_prev, g_s_prev, g_theta, g_decay, None, None, None)


def _fast(x: Tensor) -> bool:
    """float32/float64, not under torch.compile or a torch.func transform (vmap, grad)."""
    return x.dtype in _FAST_DTYPES and not is_compiling() and not functorch_active()


def lif_step_fused(
    x: Tensor,
    state: LIFState,
    *,
    decay: Param,
    threshold: Param = 1.0,
    input_scale: Param | None = None,
    reset: str = "zero",
    surrogate: SurrogateFunction | str = "sigmoid",
    detach_reset: bool = False,
) -> tuple[Tensor, LIFState]:
    """:func:`~spikingtorch_neurons.functional.lif_step` as one autograd node.

    Same arguments, shapes and results (bit-identical in float32/float64); gradients equal
    the step function's up to rounding. Falls back to the step function for other dtypes and
    under ``torch.compile``.

    Example:
        >>> x = torch.tensor([0.6])
        >>> state = LIFState.zeros_like(x)
        >>> for _ in range(3):
        ...     s, state = lif_step_fused(x, state, decay=0.5)
        >>> s.item(), round(state.v.item(), 4)
        (1.0, 1.05)
    """
    if not _fast(x):
        return lif_step(
            x,
            state,
            decay=decay,
            threshold=threshold,
            input_scale=input_scale,
            reset=reset,
            surrogate=surrogate,
            detach_reset=detach_reset,
        )
    drive = x if input_scale is None else input_scale * x
    spikes, v = _LIFStep.apply(
        drive,
        state.v,
        state.s,
        threshold,
        decay,
        reset,
        bool(detach_reset),
        get_surrogate(surrogate),
    )
    return spikes, LIFState(v, spikes)


def if_step_fused(
    x: Tensor,
    state: IFState,
    *,
    threshold: Param = 1.0,
    reset: str = "zero",
    surrogate: SurrogateFunction | str = "sigmoid",
    detach_reset: bool = False,
) -> tuple[Tensor, IFState]:
    """:func:`~spikingtorch_neurons.functional.if_step` as one autograd node.

    Example:
        >>> x = torch.tensor([0.6])
        >>> state = IFState.zeros_like(x)
        >>> out = []
        >>> for _ in range(4):
        ...     s, state = if_step_fused(x, state)
        ...     out.append(s.item())
        >>> out
        [0.0, 1.0, 0.0, 1.0]
    """
    if not _fast(x):
        return if_step(
            x,
            state,
            threshold=threshold,
            reset=reset,
            surrogate=surrogate,
            detach_reset=detach_reset,
        )
    spikes, v = _LIFStep.apply(
        x, state.v, state.s, threshold, None, reset, bool(detach_reset), get_surrogate(surrogate)
    )
    return spikes, IFState(v, spikes)
