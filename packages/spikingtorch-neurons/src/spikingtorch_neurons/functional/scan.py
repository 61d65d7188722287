"""Fused sequence scans with a hand-written backward (the fast path of sequence mode).

:func:`lif_scan` runs the LIF recurrence of :func:`~spikingtorch_neurons.functional.lif_step`
over a whole time-first sequence ``(T, N, *F)`` inside one ``torch.autograd.Function``;
:func:`if_scan` is the IF special case (no decay, unscaled input). Autograd records one node for
the whole sequence instead of several per step, and the node saves the membranes ``v_t`` only
(plus the input when a trainable ``input_scale`` needs it): spikes are recomputed from them.

Forward. The spikes and membranes are bit-identical to stepping. In float32/float64 each step
is two or three in-place operations writing into preallocated buffers; they round exactly where
the step function rounds, because every product with a spike or its complement is exact (so
``addcmul(x, v, 1 - s, value=a)`` equals ``a * (v * (1 - s)) + x``), and ``v > theta`` is the
same predicate as ``v - theta > 0``. Reduced precision repeats the step's operations verbatim.

Backward (BPTT), with ``u_t = dL/dv_t``, ``g_t`` the gradient arriving at the spikes,
``d_t = d(v_t - theta)`` the surrogate's pseudo-derivative and ``r_t = r(v_{t-1}, s_{t-1})``
the reset, the spike's total gradient is ``g_t + a dr_{t+1}/ds_t u_{t+1}``, so::

    u_t = d_t g_t + A_t u_{t+1},     A_t = a (dr_{t+1}/dv_t + d_t dr_{t+1}/ds_t)

where ``(dr/dv, dr/ds)`` is ``(1 - s, -v)`` for "zero", ``(1, -theta)`` for "subtract" and
``(1, 0)`` for "none" (``detach_reset`` drops ``dr/ds``). ``A`` and ``d g`` are built for all
steps at once; the reverse loop is then one multiply-add per step. Then::

    dL/dx_t = b u_t,  dL/da = sum_t u_t r_t,  dL/db = sum_t u_t x_t,
    dL/dtheta = -sum_t d_t (g_t + a dr_{t+1}/ds_t u_{t+1})  (- sum_t a u_t s_{t-1} for "subtract")

and ``v_{-1}``, ``s_{-1}`` (the initial state) receive ``a dr_0/dv u_0`` and ``a dr_0/ds u_0``.
Parameter gradients are summed to the parameter's shape (per-neuron tensors broadcast against
``(T, N, *F)``). The scans are not twice differentiable.

On CPU, in float32/float64 with a scalar threshold and decay (the modules' defaults), forward
and backward run in the native kernel of :mod:`spikingtorch_neurons.functional._native`: the
same recurrences in one pass over memory (forward bit-identical, backward equal to rounding),
on torch's OpenMP threads. Without autograd the forward then keeps only the last membrane.
With autograd and one of the core surrogates (the kernel computes their derivatives itself),
the scan is one lean node (:class:`_NativeScan`) that saves the input instead of the
membranes: the forward writes only the spikes, and the backward runs the recurrence again,
block by block, to get ``v_t`` (the same operations, so the same bits) just before it needs
them. No ``(T, N, *F)`` membrane tensor is kept between the passes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor

from spikingtorch.surrogate import SurrogateFunction
from spikingtorch.surrogate import get as get_surrogate
from spikingtorch_neurons.functional import _native
from spikingtorch_neurons.functional import _triton_scan as _triton
from spikingtorch_neurons.functional._common import Param, check_reset, sum_to_param
from spikingtorch_neurons.functional.integrate import IFState, LIFState

__all__ = ["if_scan", "lif_scan"]


_FAST_DTYPES = (torch.float32, torch.float64)


def _reset(v: Tensor, s: Tensor, threshold: Param, reset: str) -> Tensor:
    """``r(v, s)`` with the same operations as :func:`reset_membrane` (bit-identical)."""
    if reset == "zero":
        return v * (1 - s)
    if reset == "subtract":
        return v - threshold * s
    return v


def _spike_exact(out: Tensor, v: Tensor, threshold: Param) -> Tensor:
    """Write ``H(v - theta)`` into the float tensor ``out`` with the step's own subtraction.

    Comparing straight into a float buffer is several times cheaper on CPU than building a
    bool tensor and converting it. Reduced precision rounds ``v - theta`` differently from
    comparing with a rounded ``theta``, so this keeps the subtraction; float32/float64 use
    ``torch.gt(v, theta)``, the same predicate there (a difference of two floats is zero only
    when they are equal).
    """
    return torch.gt(v - threshold, 0, out=out)


def _forward_fast(
    drive: Tensor,
    v0: Tensor,
    s0: Tensor,
    threshold: Param,
    decay: Param | None,
    reset: str,
) -> tuple[Tensor, Tensor]:
    """The recurrence in float32/float64 with two or three in-place ops per step.

    Every step rounds exactly where the step function rounds: products with a spike (or its
    complement) are exact, so ``addcmul`` with such a factor rounds once, like ``+``.
    """
    v_seq = torch.empty_like(drive)
    spikes = torch.empty_like(drive)
    v = v0
    on_cpu = drive.device.type == "cpu"
    if reset == "zero":
        # keep = 1 - s_{t-1}; the reset membrane a * v * keep is exact up to the product a * v
        keep = (1 - s0).expand(drive.shape[1:]).clone()
        for t in range(drive.shape[0]):
            v_t = v_seq[t]
            if decay is None:
                torch.addcmul(drive[t], v, keep, out=v_t)
            elif not isinstance(decay, Tensor) and on_cpu:
                torch.addcmul(drive[t], v, keep, value=decay, out=v_t)
            else:  # a * (v * keep) + x, in the step's order (CUDA may fuse value * into an FMA)
                torch.mul(v, keep, out=v_t)
                v_t.mul_(decay).add_(drive[t])
            torch.le(v_t, threshold, out=keep)
            v = v_t
        torch.gt(v_seq, threshold, out=spikes)
    elif reset == "subtract":
        s = s0
        for t in range(drive.shape[0]):
            v_t = v_seq[t]
            if isinstance(threshold, Tensor):  # v - theta * s (theta * s is exact)
                torch.addcmul(v, threshold, s, value=-1, out=v_t)
            else:
                torch.sub(v, s, alpha=threshold, out=v_t)
            if decay is not None:
                v_t.mul_(decay)
            v_t.add_(drive[t])
            s = torch.gt(v_t, threshold, out=spikes[t])
            v = v_t
    else:
        for t in range(drive.shape[0]):
            v_t = v_seq[t]
            if decay is None:
                torch.add(v, drive[t], out=v_t)
            else:
                torch.mul(v, decay, out=v_t)
                v_t.add_(drive[t])
            v = v_t
        torch.gt(v_seq, threshold, out=spikes)
    return spikes, v_seq


def _forward_exact(
    drive: Tensor,
    v0: Tensor,
    s0: Tensor,
    threshold: Param,
    decay: Param | None,
    reset: str,
) -> tuple[Tensor, Tensor]:
    """The step function's operations verbatim (reduced precision: every op rounds)."""
    v_seq = torch.empty_like(drive)
    spikes = torch.empty_like(drive)
    v, s = v0, s0
    for t in range(drive.shape[0]):
        r = _reset(v, s, threshold, reset)
        v = r if decay is None else decay * r
        v = torch.add(v, drive[t], out=v_seq[t])
        s = _spike_exact(spikes[t], v, threshold)
    return spikes, v_seq


#: On CPU the common backward (no tensor hyper-parameter needs a gradient) runs over chunks of
#: steps whose temporaries hold about this many bytes each, in reused buffers: whole-sequence
#: temporaries make it memory-bound, and every fresh multi-MB buffer page-faults.
CPU_CHUNK_BYTES = 1 << 20


def _grad_membrane_chunked(
    v_seq: Tensor,
    g_spikes: Tensor | None,
    g_v_last: Tensor | None,
    threshold: Param,
    decay: Param | None,
    reset: str,
    detach_reset: bool,
    surrogate: SurrogateFunction,
) -> Tensor:
    """``u_t = dL/dv_t`` for all ``t`` (see the module docstring), chunk by chunk from the end."""
    n_steps = v_seq.shape[0]
    g_v = torch.empty_like(v_seq)
    step_bytes = max(1, v_seq[0].numel() * v_seq.element_size())
    chunk = n_steps
    if v_seq.device.type == "cpu":
        chunk = max(1, min(n_steps, CPU_CHUNK_BYTES // step_bytes))
    h_buf = torch.empty((chunk, *v_seq.shape[1:]), dtype=v_seq.dtype, device=v_seq.device)
    c_buf = (
        torch.empty_like(h_buf)
        if reset != "none" and not (reset == "subtract" and detach_reset)
        else None
    )
    a_const: Param = 1.0 if decay is None else decay  # the carry when it is not per step
    for t1 in range(n_steps, 0, -chunk):
        t0 = max(0, t1 - chunk)
        k = t1 - t0
        h = torch.sub(v_seq[t0:t1], threshold, out=h_buf[:k])
        carry: Tensor | None = None
        if reset == "zero":
            assert c_buf is not None
            carry = torch.le(h, 0, out=c_buf[:k])  # 1 - s_t
        d = surrogate.derivative_(h)
        if carry is not None and not detach_reset:  # zero: 1 - s_t - d_t v_t
            carry.addcmul_(d, v_seq[t0:t1], value=-1)
        elif reset == "subtract" and not detach_reset:  # 1 - theta d_t
            assert c_buf is not None
            carry = torch.mul(d, threshold, out=c_buf[:k]).neg_().add_(1)
        scale = 1.0  # a scalar decay is folded into the loop's multiply-add
        if carry is not None and isinstance(decay, Tensor):
            carry.mul_(decay)
        elif carry is not None and decay is not None:
            scale = float(decay)
        g = g_v[t0:t1]
        if g_spikes is None:
            g.zero_()
        else:
            torch.mul(d, g_spikes[t0:t1], out=g)
        if t1 == n_steps and g_v_last is not None:
            g[-1] += g_v_last
        for t in range(t1 - 1, t0 - 1, -1):
            if t == n_steps - 1:
                continue
            if carry is not None:
                g_v[t].addcmul_(carry[t - t0], g_v[t + 1], value=scale)
            elif isinstance(a_const, Tensor):
                g_v[t].addcmul_(a_const, g_v[t + 1])
            else:
                g_v[t].add_(g_v[t + 1], alpha=a_const)
    return g_v


#: The one-pass kernels, ``(forward, backward)``: native C on CPU, Triton on CUDA.
_NATIVE = (_native.native_lif_forward, _native.native_lif_backward)
_TRITON = (_triton.triton_lif_forward, _triton.triton_lif_backward)


def _kernel(drive: Tensor, threshold: Param, decay: Param | None) -> tuple[Any, Any] | None:
    """The kernel pair that serves a scan over ``drive``, or ``None`` (the eager scans run)."""
    if _native.applies(drive, threshold, decay):
        return _NATIVE
    if _triton.applies(drive, threshold, decay):  # checks the device before Triton
        return _TRITON
    return None


def _state_grads(
    u0: Tensor,
    v0: Tensor | None,
    s0: Tensor | None,
    needs_v0: bool,
    needs_s0: bool,
    threshold: Param,
    decay: Param | None,
    reset: str,
    detach_reset: bool,
) -> tuple[Tensor | None, Tensor | None]:
    """Gradients of the initial state ``(v_{-1}, s_{-1})`` from ``u_0 = dL/dv_0``:
    ``a dr_0/dv u_0`` and ``a dr_0/ds u_0``."""
    g_v0 = g_s0 = None
    if needs_v0:
        assert v0 is not None and s0 is not None
        g = u0 * (1 - s0) if reset == "zero" else u0
        g_v0 = sum_to_param(g if decay is None else g * decay, v0)
    if needs_s0 and not detach_reset and reset != "none":
        assert v0 is not None and s0 is not None
        g = u0 * v0 if reset == "zero" else u0 * threshold
        g_s0 = sum_to_param(-g if decay is None else -(g * decay), s0)
    return g_v0, g_s0


class _NativePlan(NamedTuple):
    """What :class:`_NativeScan` passes to the kernel besides the tensors (checked once, by
    :func:`native_scan`)."""

    n_steps: int
    step_shape: tuple[int, ...]
    threshold: float
    decay: float | None
    reset: str
    detach_reset: bool
    surrogate_code: int
    surrogate_param: float
    kernels: tuple[Any, Any, Any]


class _NativeScan(torch.autograd.Function):
    """The IF/LIF scan in the native kernel: ``(x, v0, s0, plan) -> (spikes, v_last, s_last)``.

    ``x`` is a contiguous ``(T, N, *F)``, or sequence mode's time-merged ``(T*N, *F)`` (the
    kernel sees both as ``(T, M)``; the spikes keep ``x``'s shape). ``v0``/``s0`` are the
    initial state, ``None`` at rest. The node saves ``x`` (and the initial state), not the
    membranes: the backward recomputes ``v_t`` in the kernel. ``s_last`` is a copy of the
    last spike row in its own memory; its gradient joins the last step's.
    """

    @staticmethod
    def forward(
        ctx: Any, x: Tensor, v0: Tensor | None, s0: Tensor | None, plan: _NativePlan
    ) -> tuple[Tensor, Tensor, Tensor]:
        spikes = torch.empty_like(x)
        v_last = x.new_empty(plan.step_shape)
        s_last = x.new_empty(plan.step_shape)
        _native.launch_forward(
            plan.kernels[0], x, v0, s0, spikes, None, v_last, s_last, plan.n_steps,
            plan.threshold, plan.decay, plan.reset,
        )  # fmt: skip
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(x, v0, s0)
        ctx.plan = plan
        return spikes, v_last, s_last

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(
        ctx: Any, g_spikes: Tensor | None, g_v_last: Tensor | None, g_s_last: Tensor | None
    ) -> tuple[Tensor | None, Tensor | None, Tensor | None, None]:
        x, v0, s0 = ctx.saved_tensors
        plan: _NativePlan = ctx.plan
        n_steps = plan.n_steps
        if g_s_last is not None:  # the state's spikes are the last step's: same gradient
            g_spikes = (
                torch.zeros_like(x)
                if g_spikes is None
                else g_spikes.clone(memory_format=torch.contiguous_format)
            )
            g_spikes.view(n_steps, -1)[-1] += g_s_last.reshape(-1)
        if g_spikes is not None:
            g_spikes = _native.dense(g_spikes, x.dtype, x.shape)
        if g_v_last is not None:
            g_v_last = _native.dense(g_v_last, x.dtype, torch.Size(plan.step_shape))
        g_v = torch.empty_like(x)
        decay = plan.decay
        failed = plan.kernels[2](
            x.data_ptr(), None if v0 is None else v0.data_ptr(),
            None if s0 is None else s0.data_ptr(),
            None if g_spikes is None else g_spikes.data_ptr(),
            None if g_v_last is None else g_v_last.data_ptr(), g_v.data_ptr(), n_steps,
            x.numel() // n_steps, 1.0 if decay is None else decay, decay is not None,
            plan.threshold, _native.RESET_CODES[plan.reset], plan.detach_reset,
            plan.surrogate_code, plan.surrogate_param, _native.threads_for(x.numel()),
        )  # fmt: skip
        if failed:
            raise MemoryError(
                "the native scan backward could not allocate its membrane buffer "
                f"({n_steps} steps); set SPIKINGTORCH_NATIVE=0 to use the eager scan"
            )
        needs = ctx.needs_input_grad
        g_v0 = g_s0 = None
        if needs[1] or needs[2]:
            u0 = g_v.view(n_steps, *plan.step_shape)[0]
            g_v0, g_s0 = _state_grads(
                u0, v0, s0, needs[1], needs[2], plan.threshold, decay, plan.reset,
                plan.detach_reset,
            )  # fmt: skip
        return (g_v if needs[0] else None), g_v0, g_s0, None


def native_scan(
    x: Tensor,
    v0: Tensor | None,
    s0: Tensor | None,
    threshold: Any,
    decay: Any,
    reset: str,
    surrogate: SurrogateFunction,
    detach_reset: bool,
    n_steps: int,
) -> tuple[Tensor, Tensor, Tensor] | None:
    """The scan as one :class:`_NativeScan` node, or ``None`` when it does not serve it.

    Served: a contiguous float32/float64 CPU ``x`` holding ``n_steps`` rows (``(T, N, *F)``
    or the merged ``(T*N, *F)``), a float threshold and decay (or no decay: the IF), a core
    surrogate (:data:`~spikingtorch_neurons.functional._native.SURROGATE_CODES`), an initial
    state that is ``None`` (rest) or two contiguous tensors of ``x``'s dtype shaped like one
    step, and the kernel built. ``reset`` must already be valid.
    """
    kernels = _native.loaded_kernels(x.dtype)
    if (
        kernels is None
        or not x.is_cpu
        or not x.is_contiguous()
        or type(threshold) not in (float, int)  # not bool, not a tensor
        or (decay is not None and type(decay) not in (float, int))
        or n_steps <= 0
        or x.dim() < 1
    ):
        return None
    if x.numel() == 0 or x.shape[0] % n_steps != 0:
        return None
    if x.shape[0] == n_steps:  # time-first (T, N, *F)
        step_shape = tuple(x.shape[1:])
        if not step_shape:
            return None
    else:  # merged (T*N, *F)
        step_shape = (x.shape[0] // n_steps, *x.shape[1:])
    code, param = _native.surrogate_code(surrogate)
    if code == 0:
        return None
    if v0 is not None or s0 is not None:
        for t in (v0, s0):
            if (
                t is None
                or t.dtype != x.dtype
                or not t.is_cpu
                or not t.is_contiguous()
                or tuple(t.shape) != step_shape
            ):
                return None
    plan = _NativePlan(
        n_steps, step_shape, float(threshold), None if decay is None else float(decay), reset,
        bool(detach_reset), code, param, kernels,
    )  # fmt: skip
    result: tuple[Tensor, Tensor, Tensor] = _NativeScan.apply(x, v0, s0, plan)
    return result


class _LIFScan(torch.autograd.Function):
    """The LIF recurrence over ``(T, N, *F)``:
    ``(x, v0, s0, theta, a, b) -> (spikes, v_last, s_last)``.

    ``s_last`` is a copy of ``spikes[-1]`` in its own memory (a state kept between calls then
    does not keep the whole spike sequence alive); its gradient joins the last step's.

    ``a`` is ``None`` for the IF (no multiplication), ``b`` is ``None`` for an unscaled input.
    """

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        v0: Tensor | None,
        s0: Tensor | None,
        threshold: Param,
        decay: Param | None,
        input_scale: Param | None,
        reset: str,
        detach_reset: bool,
        surrogate: SurrogateFunction,
        record: bool,
        merged_steps: int | None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        ctx.merged_shape = None
        x_given = x  # saved when the input scale learns (an input, not an internal view)
        if merged_steps is not None:  # x is (T*N, *F): the view is internal (no autograd node)
            ctx.merged_shape = x.shape
            x = x.view(merged_steps, x.shape[0] // merged_steps, *x.shape[1:])
        drive = x if input_scale is None else input_scale * x
        ctx.kernel = _kernel(drive, threshold, decay)
        v_last: Tensor | None = None
        s_last: Tensor | None = None
        if ctx.kernel is not None:  # one pass; without autograd only the last membrane is kept
            assert not isinstance(threshold, Tensor) and not isinstance(decay, Tensor)
            spikes, v_kept, v_last, s_last = ctx.kernel[0](
                drive, v0, s0, threshold, decay, reset, record, True
            )
            v_seq = drive.new_empty((0,)) if v_kept is None else v_kept
        else:  # None is the resting state (the kernel needs no zero tensors for it)
            v0 = torch.zeros_like(drive[0]) if v0 is None else v0
            s0 = torch.zeros_like(drive[0]) if s0 is None else s0
            if drive.dtype in _FAST_DTYPES:
                spikes, v_seq = _forward_fast(drive, v0, s0, threshold, decay, reset)
            else:
                spikes, v_seq = _forward_exact(drive, v0, s0, threshold, decay, reset)
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
            tensors.append(x_given)
        ctx.save_for_backward(*tensors)
        if v_last is None:
            v_last = v_seq[-1].clone()
        if s_last is None:
            s_last = spikes[-1].clone()
        if ctx.merged_shape is not None:
            spikes = spikes.view(ctx.merged_shape)
        return spikes, v_last, s_last

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(
        ctx: Any, g_spikes: Tensor | None, g_v_last: Tensor | None, g_s_last: Tensor | None
    ) -> tuple[Any, ...]:
        saved = list(ctx.saved_tensors)
        v_seq, v0, s0 = saved[:3]
        if ctx.merged_shape is not None and g_spikes is not None:
            g_spikes = g_spikes.reshape(v_seq.shape)
        if g_s_last is not None:  # the state's spikes are the last step's: same gradient
            g_spikes = torch.zeros_like(v_seq) if g_spikes is None else g_spikes.clone()
            g_spikes[-1] += g_s_last
        params: list[Any] = list(ctx.params)
        for k, i in enumerate(ctx.tensor_params):
            params[i] = saved[3 + k]
        threshold, decay, input_scale = params
        x = saved[-1] if ctx.save_x else None
        if x is not None and ctx.merged_shape is not None:
            x = x.view(v_seq.shape)
        reset: str = ctx.reset
        detach_reset: bool = ctx.detach_reset
        needs = ctx.needs_input_grad
        n_steps = v_seq.shape[0]
        a: Param = 1.0 if decay is None else decay
        unit_a = decay is None

        need_gh = isinstance(threshold, Tensor) and needs[3]
        need_ga = isinstance(decay, Tensor) and needs[4]
        if not (need_gh or need_ga):
            if ctx.kernel is not None:
                assert not isinstance(threshold, Tensor) and not isinstance(decay, Tensor)
                g_v = ctx.kernel[1](
                    v_seq, g_spikes, g_v_last, threshold, decay, reset, detach_reset, ctx.surrogate
                )
                return _LIFScan._finish(ctx, g_v, v0, s0, threshold, decay, input_scale, x)
            g_v = _grad_membrane_chunked(
                v_seq, g_spikes, g_v_last, threshold, decay, reset, detach_reset, ctx.surrogate
            )
            return _LIFScan._finish(ctx, g_v, v0, s0, threshold, decay, input_scale, x)
        h = v_seq - threshold
        # spikes s_t = [h_t > 0], and 1 - s_t = [h_t <= 0] for the zero reset's carry
        s_seq: Tensor | None = None
        if need_ga or (need_gh and reset == "subtract"):
            s_seq = torch.gt(h, 0, out=torch.empty_like(h))
        keep: Tensor | None = None
        if reset == "zero":
            keep = torch.le(h[:-1], 0, out=torch.empty_like(h[:-1]))
        d = ctx.surrogate.derivative_(h)  # h is consumed
        # dr/ds: -v (zero), -theta (subtract), or None (no reset gradient to the spike)
        drds: Param | None = None
        if not detach_reset and reset == "subtract":
            drds = -threshold
        elif not detach_reset and reset == "zero":
            drds = v_seq  # a marker; its sign is applied where it is used

        # u_t = dL/dv_t obeys u_t = d_t gs_t + A_t u_{t+1} with
        # A_t = a (dr/dv_t + d_t dr/ds_t): built for all steps at once, then one multiply-add
        # per step in the loop.
        carry: Param
        if keep is not None:
            carry = keep
            if drds is not None:
                carry.addcmul_(d[:-1], v_seq[:-1], value=-1)
        elif drds is not None:  # subtract: 1 - theta d_t
            carry = torch.mul(d[:-1], threshold).neg_().add_(1)
        else:
            carry = 1.0
        per_step = isinstance(carry, Tensor)  # (T-1, N, *F); else a constant
        if isinstance(carry, Tensor):
            if not unit_a:
                carry.mul_(a)
        else:
            carry = a

        if g_spikes is None:
            g_v = torch.zeros_like(v_seq)
        elif need_gh:  # d is needed again below
            g_v = d * g_spikes
        else:
            g_v = d.mul_(g_spikes)  # d's memory: a fresh multi-MB buffer costs as much as an op
        if g_v_last is not None:
            g_v[-1] += g_v_last
        for t in range(n_steps - 2, -1, -1):
            if per_step:
                assert isinstance(carry, Tensor)
                g_v[t].addcmul_(carry[t], g_v[t + 1])
            elif isinstance(carry, Tensor):
                g_v[t].addcmul_(carry, g_v[t + 1])
            else:
                g_v[t].add_(g_v[t + 1], alpha=carry)

        g_theta = g_decay = None
        s_prev: Tensor | None = None
        if s_seq is not None:
            s_prev = torch.cat([s0.expand(v_seq.shape[1:]).unsqueeze(0), s_seq[:-1]])
        if need_gh:
            # theta enters through h_t = v_t - theta (with gs_t the total spike gradient) and,
            # for "subtract", through r_t = v_{t-1} - theta s_{t-1}
            g_s = torch.zeros_like(v_seq) if g_spikes is None else g_spikes.clone()
            if drds is not None:
                ud = g_v[1:] if unit_a else g_v[1:] * a
                if reset == "zero":
                    g_s[:-1].addcmul_(ud, v_seq[:-1], value=-1)
                else:
                    g_s[:-1].addcmul_(ud, torch.as_tensor(drds).expand_as(ud))
            total = g_s.mul_(d).neg_()
            if reset == "subtract":
                assert s_prev is not None
                total.addcmul_(g_v if unit_a else g_v * a, s_prev, value=-1)
            g_theta = sum_to_param(total, threshold)
        if need_ga:
            assert s_prev is not None
            v_prev = torch.cat([v0.expand(v_seq.shape[1:]).unsqueeze(0), v_seq[:-1]])
            g_decay = sum_to_param(g_v * _reset(v_prev, s_prev, threshold, reset), decay)
        grads = _LIFScan._finish(ctx, g_v, v0, s0, threshold, decay, input_scale, x)
        return (*grads[:3], g_theta, g_decay, *grads[5:])

    @staticmethod
    def _finish(
        ctx: Any,
        g_v: Tensor,
        v0: Tensor | None,
        s0: Tensor | None,
        threshold: Param,
        decay: Param | None,
        input_scale: Param | None,
        x: Tensor | None,
    ) -> tuple[Any, ...]:
        """Gradients of the input, the initial state and the input scale, from ``u = g_v``."""
        needs = ctx.needs_input_grad
        g_scale = g_x = None
        g_v0, g_s0 = _state_grads(
            g_v[0], v0, s0, needs[1], needs[2], threshold, decay, ctx.reset, ctx.detach_reset
        )
        if isinstance(input_scale, Tensor) and needs[5] and x is not None:
            g_scale = sum_to_param(g_v * x, input_scale)
        if needs[0]:
            g_x = g_v if input_scale is None else g_v * input_scale
            if ctx.merged_shape is not None:
                g_x = g_x.reshape(ctx.merged_shape)
        return (g_x, g_v0, g_s0, None, None, g_scale, None, None, None, None, None)


RESET_MODES = ("zero", "subtract", "none")


def _run(
    x_seq: Tensor,
    state: LIFState | IFState | None,
    threshold: Param,
    decay: Param | None,
    input_scale: Param | None,
    reset: str,
    surrogate: SurrogateFunction | str,
    detach_reset: bool,
    merged_steps: int | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """``(spikes, v_last, s_last)``: straight into the one-pass kernel without autograd
    (nothing to record for a backward), else through :class:`_LIFScan`. ``s_last`` equals
    ``spikes[-1]`` but has its own memory.

    With ``merged_steps=T``, ``x_seq`` is the time-merged ``(T*N, *F)`` of sequence mode and
    the spikes come back in that layout (no reshape nodes in the autograd graph).
    """
    if merged_steps is None:
        _check(x_seq)
    if reset not in RESET_MODES:
        reset = check_reset(reset)  # raises, naming the valid modes
    sg = surrogate if isinstance(surrogate, SurrogateFunction) else get_surrogate(surrogate)
    v0, s0 = (None, None) if state is None else (state.v, state.s)
    if not torch.is_grad_enabled() and not isinstance(input_scale, Tensor):
        drive = x_seq if input_scale is None else input_scale * x_seq
        if merged_steps is not None:
            drive = drive.view(merged_steps, drive.shape[0] // merged_steps, *drive.shape[1:])
        kernel = _kernel(drive, threshold, decay)
        if kernel is not None:
            assert not isinstance(threshold, Tensor) and not isinstance(decay, Tensor)
            spikes, _, v_last, s_last = kernel[0](
                drive, v0, s0, threshold, decay, reset, False, True
            )
            return (spikes if merged_steps is None else spikes.view(x_seq.shape)), v_last, s_last
    if input_scale is None:
        done = native_scan(
            x_seq, v0, s0, threshold, decay, reset, sg, bool(detach_reset),
            x_seq.shape[0] if merged_steps is None else merged_steps,
        )  # fmt: skip
        if done is not None:
            return done
    result: tuple[Tensor, Tensor, Tensor] = _LIFScan.apply(
        x_seq, v0, s0, threshold, decay, input_scale, reset, bool(detach_reset), sg,
        torch.is_grad_enabled(), merged_steps,
    )  # fmt: skip
    return result


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
    spikes, v_last, s_last = _run(
        x_seq, state, threshold, decay, input_scale, reset, surrogate, detach_reset
    )
    return spikes, LIFState(v_last, s_last)


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
    spikes, v_last, s_last = _run(
        x_seq, state, threshold, None, None, reset, surrogate, detach_reset
    )
    return spikes, IFState(v_last, s_last)
