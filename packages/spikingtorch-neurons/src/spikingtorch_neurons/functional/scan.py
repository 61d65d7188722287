"""Fused sequence scans with a hand-written backward (the fast path of sequence mode).

:func:`lif_scan` runs the LIF recurrence of :func:`~spikingtorch_neurons.functional.lif_step`
over a whole time-first sequence ``(T, N, *F)`` inside one ``torch.autograd.Function``;
:func:`if_scan` is the IF special case (no decay, unscaled input). The forward performs exactly
the step function's floating-point operations, so its spikes and membranes are bit-identical
to stepping. Autograd records one node for the whole sequence instead of several per step; the
node saves the membranes ``v_t`` only (the spikes ``s_t = [v_t - theta > 0]`` and the surrogate
argument are recomputed from them), plus the input when a trainable ``input_scale`` needs it.

Backward (BPTT through the recurrence), with ``g`` the gradient of the loss, ``d`` the
surrogate's pseudo-derivative, ``h_t = v_t - theta`` and ``r_t = r(v_{t-1}, s_{t-1})``::

    gs_t = dL/ds_t + (from step t+1)  dr_{t+1}/ds_t * a * gv_{t+1}
    gv_t = (from step t+1) dr_{t+1}/dv_t * a * gv_{t+1} + d(h_t) * gs_t
    dL/dx_t = b * gv_t,   dL/da = sum_t gv_t r_t,   dL/db = sum_t gv_t x_t,
    dL/dtheta = -sum_t d(h_t) gs_t  (- sum_t a gv_t s_{t-1} for "subtract")

where ``dr/dv`` and ``dr/ds`` are ``(1 - s, -v)`` (zero), ``(1, -theta)`` (subtract) or
``(1, 0)`` (none); ``detach_reset`` drops ``dr/ds``. The gradients reaching ``v_{-1}`` and
``s_{-1}`` go to the initial state. Parameter gradients are summed to the parameter's shape
(per-neuron tensors broadcast against ``(T, N, *F)``). The scans are not twice differentiable.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from spikingtorch.surrogate import SurrogateFunction
from spikingtorch.surrogate import get as get_surrogate
from spikingtorch_neurons.functional._common import Param, check_reset
from spikingtorch_neurons.functional.integrate import IFState, LIFState

__all__ = ["if_scan", "lif_scan"]


def _reset(v: Tensor, s: Tensor, threshold: Param, reset: str) -> Tensor:
    """``r(v, s)`` with the same operations as :func:`reset_membrane` (bit-identical)."""
    if reset == "zero":
        return v * (1 - s)
    if reset == "subtract":
        return v - threshold * s
    return v


def _sum_to(g: Tensor, p: Tensor) -> Tensor:
    """Reduce a broadcast gradient ``g`` to the shape of parameter ``p``."""
    if g.shape != p.shape:
        g = g.sum_to_size(p.shape) if p.dim() > 0 else g.sum()
    return g.to(p.dtype)


class _LIFScan(torch.autograd.Function):
    """The LIF recurrence over ``(T, N, *F)``: ``(x, v0, s0, theta, a, b) -> (spikes, v_last)``.

    ``a`` is ``None`` for the IF (no multiplication), ``b`` is ``None`` for an unscaled input.
    """

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        v0: Tensor,
        s0: Tensor,
        threshold: Param,
        decay: Param | None,
        input_scale: Param | None,
        reset: str,
        detach_reset: bool,
        surrogate: SurrogateFunction,
    ) -> tuple[Tensor, Tensor]:
        drive = x if input_scale is None else input_scale * x
        v_seq = torch.empty_like(drive)
        spikes = torch.empty_like(drive)
        v, s = v0, s0
        for t in range(x.shape[0]):
            r = _reset(v, s, threshold, reset)
            v = r if decay is None else decay * r
            v = torch.add(v, drive[t], out=v_seq[t])
            s = spikes[t]
            s.copy_(v - threshold > 0)
        ctx.set_materialize_grads(False)
        params = (threshold, decay, input_scale)
        ctx.reset = reset
        ctx.detach_reset = detach_reset
        ctx.surrogate = surrogate
        # floats (or None) on ctx; tensors go through save_for_backward
        ctx.params = tuple(None if isinstance(p, Tensor) else p for p in params)
        tensors = [v_seq, v0, s0]
        ctx.tensor_params = []
        for i, p in enumerate(params):
            if isinstance(p, Tensor):
                ctx.tensor_params.append(i)
                tensors.append(p)
        ctx.save_x = isinstance(input_scale, Tensor) and input_scale.requires_grad
        if ctx.save_x:
            tensors.append(x)
        ctx.save_for_backward(*tensors)
        return spikes, v_seq[-1].clone()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, g_spikes: Tensor | None, g_v_last: Tensor | None) -> tuple[Any, ...]:
        saved = list(ctx.saved_tensors)
        v_seq, v0, s0 = saved[:3]
        params: list[Any] = list(ctx.params)
        for k, i in enumerate(ctx.tensor_params):
            params[i] = saved[3 + k]
        threshold, decay, input_scale = params
        x = saved[-1] if ctx.save_x else None
        reset: str = ctx.reset
        detach_reset: bool = ctx.detach_reset
        needs = ctx.needs_input_grad
        n_steps = v_seq.shape[0]

        h = v_seq - threshold
        d = ctx.surrogate.derivative(h)
        s_seq = (h > 0).to(v_seq.dtype)
        del h
        need_ga = isinstance(decay, Tensor) and needs[4]
        need_gh = isinstance(threshold, Tensor) and needs[3]
        shape = v_seq[0].shape
        v_prev = s_prev = v_seq  # placeholders, replaced where they are used
        if need_ga or (reset == "zero" and not detach_reset):
            v_prev = torch.cat([v0.expand(shape).unsqueeze(0), v_seq[:-1]])
        if need_ga or reset == "zero" or (reset == "subtract" and need_gh):
            s_prev = torch.cat([s0.expand(shape).unsqueeze(0), s_seq[:-1]])
        del s_seq
        if g_spikes is None:
            g_spikes = torch.zeros_like(v_seq)
        # The carries into step t-1 are gv_t * cv_t and gv_t * cs_t with cv = a dr/dv and
        # cs = a dr/ds: per-step tensors, constants, or None (cv = 1, cs = 0). They are built
        # for all steps at once so that the loop does four elementwise ops per step.
        a: Param = 1.0 if decay is None else decay
        cv: Param | None = None if decay is None else decay
        cv_seq: Tensor | None = None
        cs: Param | None = None
        cs_seq: Tensor | None = None
        if reset == "zero":
            cv_seq = 1 - s_prev if decay is None else decay * (1 - s_prev)
            if not detach_reset:
                cs_seq = -v_prev if decay is None else -(decay * v_prev)
        elif reset == "subtract" and not detach_reset:
            cs = -(a * threshold)

        g_v = torch.empty_like(v_seq)
        g_s = torch.empty_like(v_seq) if need_gh else None
        gv_carry: Tensor | None = g_v_last
        gs_carry: Tensor | None = None
        for t in range(n_steps - 1, -1, -1):
            if gs_carry is None:
                gs = g_spikes[t]
                if g_s is not None:
                    g_s[t] = gs
            else:
                gs = torch.add(g_spikes[t], gs_carry, out=g_s[t] if g_s is not None else None)
            if gv_carry is None:
                gv = torch.mul(gs, d[t], out=g_v[t])
            else:
                gv = torch.addcmul(gv_carry, gs, d[t], out=g_v[t])
            cv_t = cv if cv_seq is None else cv_seq[t]
            gv_carry = gv if cv_t is None else gv * cv_t
            if cs_seq is not None:
                gs_carry = gv * cs_seq[t]
            elif cs is not None:
                gs_carry = gv * cs
            else:
                gs_carry = None
        g_h = None if g_s is None else g_s * d

        g_x = g_v if input_scale is None else g_v * input_scale
        g_v0 = g_s0 = None
        if needs[1] and gv_carry is not None:
            g_v0 = gv_carry.sum_to_size(v0.shape) if gv_carry.shape != v0.shape else gv_carry
        if needs[2] and gs_carry is not None:
            g_s0 = gs_carry.sum_to_size(s0.shape) if gs_carry.shape != s0.shape else gs_carry
        g_theta = g_decay = g_scale = None
        if g_h is not None:
            total = -g_h
            if reset == "subtract":
                total = total - (g_v if decay is None else g_v * decay) * s_prev
            g_theta = _sum_to(total, threshold)
        if need_ga:
            g_decay = _sum_to(g_v * _reset(v_prev, s_prev, threshold, reset), decay)
        if isinstance(input_scale, Tensor) and needs[5] and x is not None:
            g_scale = _sum_to(g_v * x, input_scale)
        return (
            g_x if needs[0] else None,
            g_v0,
            g_s0,
            g_theta,
            g_decay,
            g_scale,
            None,
            None,
            None,
        )


def _check(x_seq: Tensor) -> None:
    if x_seq.dim() < 2 or x_seq.shape[0] == 0:
        raise ValueError(
            f"scan expects a time-first input (T, N, *F) with T > 0, got shape {tuple(x_seq.shape)}"
        )


def lif_scan(
    x_seq: Tensor,
    state: LIFState | None = None,
    *,
    decay: Param,
    threshold: Param = 1.0,
    input_scale: Param | None = None,
    reset: str = "zero",
    surrogate: SurrogateFunction | str = "sigmoid",
    detach_reset: bool = False,
) -> tuple[Tensor, LIFState]:
    """Run :func:`~spikingtorch_neurons.functional.lif_step` over a whole sequence, fused.

    Args:
        x_seq: input currents, time first: ``(T, N, *F)``.
        state: ``(v_{-1}, s_{-1})`` before the first step; ``None`` starts at rest.
        decay, threshold, input_scale, reset, surrogate, detach_reset: as for
            :func:`~spikingtorch_neurons.functional.lif_step`; tensors broadcast to ``(N, *F)``.

    Returns:
        ``(spikes, LIFState(v_{T-1}, s_{T-1}))`` with spikes of shape ``(T, N, *F)``:
        bit-identical to stepping, with gradients to ``x_seq``, the initial state and every
        tensor hyper-parameter that requires them.

    Example:
        >>> x = torch.full((3, 1), 0.6)
        >>> spikes, state = lif_scan(x, decay=0.5)
        >>> spikes.flatten().tolist(), round(state.v.item(), 4)
        ([0.0, 0.0, 1.0], 1.05)
    """
    _check(x_seq)
    reset = check_reset(reset)
    if state is None:
        state = LIFState.zeros_like(x_seq[0])
    spikes, v_last = _LIFScan.apply(
        x_seq,
        state.v,
        state.s,
        threshold,
        decay,
        input_scale,
        reset,
        bool(detach_reset),
        get_surrogate(surrogate),
    )
    return spikes, LIFState(v_last, spikes[-1])


def if_scan(
    x_seq: Tensor,
    state: IFState | None = None,
    *,
    threshold: Param = 1.0,
    reset: str = "zero",
    surrogate: SurrogateFunction | str = "sigmoid",
    detach_reset: bool = False,
) -> tuple[Tensor, IFState]:
    """Run :func:`~spikingtorch_neurons.functional.if_step` over a whole sequence, fused.

    Args:
        x_seq: input currents, time first: ``(T, N, *F)``.
        state: ``(v_{-1}, s_{-1})`` before the first step; ``None`` starts at rest.
        threshold, reset, surrogate, detach_reset: as for
            :func:`~spikingtorch_neurons.functional.if_step`.

    Returns:
        ``(spikes, IFState(v_{T-1}, s_{T-1}))``, spikes ``(T, N, *F)``, equal to stepping.

    Example:
        >>> spikes, state = if_scan(torch.full((4, 1), 0.6))
        >>> spikes.flatten().tolist()
        [0.0, 1.0, 0.0, 1.0]
    """
    _check(x_seq)
    reset = check_reset(reset)
    if state is None:
        state = IFState.zeros_like(x_seq[0])
    spikes, v_last = _LIFScan.apply(
        x_seq,
        state.v,
        state.s,
        threshold,
        None,
        None,
        reset,
        bool(detach_reset),
        get_surrogate(surrogate),
    )
    return spikes, IFState(v_last, spikes[-1])
