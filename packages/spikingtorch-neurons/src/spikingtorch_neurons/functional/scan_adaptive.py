"""Fused sequence scans of the adaptive and the current-based LIF, with a hand-written backward.

:func:`alif_scan` runs :func:`~spikingtorch_neurons.functional.alif_step` and
:func:`synaptic_lif_scan` runs :func:`~spikingtorch_neurons.functional.synaptic_lif_step` over a
whole time-first sequence ``(T, N, *F)`` inside one ``torch.autograd.Function`` each. The
forward loops over ``T`` doing exactly the step function's floating-point operations, in the
same order, into preallocated buffers (no autograd graph), so spikes and states are
bit-identical to stepping (the spike is ``torch.gt(v, theta)`` straight into a float buffer:
for IEEE floats ``v > theta`` is the step's ``v - theta > 0``). Autograd records one node for
the sequence; backward is BPTT written out by hand, looping over ``T`` in reverse with the
per-step coefficients precomputed for chunks of steps. Neither scan is twice differentiable.

Notation: ``g`` is the gradient of the loss, ``g^out_t = dL/ds_t`` the gradient reaching the
spike output, ``d`` the surrogate's pseudo-derivative, ``h_t = v_t - theta_t``, ``a`` the
membrane decay, ``b`` the input scale, ``s_{-1}, v_{-1}, ...`` the initial state. The reset
``r(v, s; theta)`` and its partial derivatives are::

    "zero":      r = (1 - s) v         dr/dv = 1 - s   dr/ds = -v       dr/dtheta = 0
    "subtract":  r = v - theta s       dr/dv = 1       dr/ds = -theta   dr/dtheta = -s
    "none":      r = v                 dr/dv = 1       dr/ds = 0        dr/dtheta = 0

and ``detach_reset`` sets ``dr/ds = 0`` (only the spike inside ``r`` is detached).

**Adaptive LIF** (state ``(v, s, w)``; ``rho`` the adaptation decay, ``beta`` its strength,
``theta_0`` the baseline threshold)::

    w_t = rho w_{t-1} + s_{t-1},   theta_t = theta_0 + beta w_t
    v_t = a r(v_{t-1}, s_{t-1}; theta_{t-1}) + b x_t,   s_t = H(v_t - theta_t)

Backward, for ``t = T-1, ..., 0``, with ``c^v_t = a dr/dv``, ``c^s_t = a dr/ds`` and
``c^w_t = -a beta s_{t-1}`` (``"subtract"`` only) evaluated at ``(v_{t-1}, s_{t-1},
theta_{t-1})``, and the carries from step ``T`` being the gradients of the final state::

    gh_t = d(h_t) (g^out_t + c^s_{t+1} gv_{t+1} + gw_{t+1})
    gv_t = gh_t + c^v_{t+1} gv_{t+1}
    gw_t = -beta gh_t + rho gw_{t+1} + c^w_{t+1} gv_{t+1}

    dL/dx_t = b gv_t,   dL/dv_{-1} = c^v_0 gv_0,   dL/ds_{-1} = c^s_0 gv_0 + gw_0,
    dL/dw_{-1} = rho gw_0 + c^w_0 gv_0,
    dL/da = sum_t gv_t r_t,   dL/db = sum_t gv_t x_t,   dL/drho = sum_t gw_t w_{t-1},
    dL/dtheta_0 = -sum_t gh_t (- sum_t a gv_t s_{t-1} for "subtract"),
    dL/dbeta = -sum_t gh_t w_t (- sum_t a gv_t s_{t-1} w_{t-1} for "subtract").

**Synaptic (current-based) LIF** (state ``(i, v, s)``; ``alpha`` the current decay)::

    i_t = alpha i_{t-1} + b x_t,   v_t = a r(v_{t-1}, s_{t-1}; theta) + i_t,
    s_t = H(v_t - theta)

Backward, with ``c^v`` and ``c^s`` as above::

    gh_t = d(h_t) (g^out_t + c^s_{t+1} gv_{t+1})
    gv_t = gh_t + c^v_{t+1} gv_{t+1}
    gi_t = gv_t + alpha gi_{t+1}

    dL/dx_t = b gi_t,   dL/di_{-1} = alpha gi_0,   dL/dv_{-1} = c^v_0 gv_0,
    dL/ds_{-1} = c^s_0 gv_0,   dL/dalpha = sum_t gi_t i_{t-1},   dL/db = sum_t gi_t x_t,
    dL/da = sum_t gv_t r_t,   dL/dtheta = -sum_t gh_t (- sum_t a gv_t s_{t-1} for "subtract").

Gradients of per-neuron hyper-parameters (tensors broadcast against ``(N, *F)``) and of a
broadcast initial state are summed to their shapes; the sums over ``t`` that pair step
``t+1``'s adjoints with step ``t``'s values are accumulated inside the reverse loop.

Saved for backward: the membranes ``v_t``; for the ALIF also the thresholds ``theta_t``, and
the adaptations ``w_t`` only when a trainable ``rho`` or ``beta`` needs them; for the synaptic
LIF the currents ``i_t`` only when a trainable ``alpha`` needs them; the input only when a
trainable ``b`` does. Spikes and ``h_t`` are recomputed from them with the step's own
operations. The backward builds the surrogate derivatives and the carry coefficients for a
chunk of steps at once, then runs the chunk's reverse loop (a handful of multiply-adds per
step): on CUDA the chunk is the whole sequence (fewest launches); on CPU it is about
:data:`CPU_CHUNK_BYTES` per temporary, so that the temporaries stay in cache (whole-sequence
temporaries make the backward memory-bound there).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from spikingtorch.surrogate import SurrogateFunction
from spikingtorch.surrogate import get as get_surrogate
from spikingtorch_neurons.functional._common import Param, check_reset, sum_to_param
from spikingtorch_neurons.functional.adaptive import ALIFState
from spikingtorch_neurons.functional.synaptic import SynapticLIFState

__all__ = ["alif_scan", "synaptic_lif_scan"]

# dtypes in which ``v > c`` and ``v - c > 0`` agree for a Python-number ``c`` (both kernels round
# the scalar to the tensor's dtype); half-precision kernels may subtract the unrounded scalar in
# float32, so there the scans subtract first, as the step does.
_EXACT_SCALAR_DTYPES = (torch.float32, torch.float64)


# -- forward helpers: the step functions' exact operations, written into buffers ---------------


def _leak_into(
    out: Tensor, v: Tensor, s: Tensor, theta: Param | None, decay: Param, reset: str
) -> Tensor:
    """``out = decay * r(v, s; theta)`` with :func:`reset_membrane`'s operations."""
    if reset == "zero":
        torch.sub(1, s, out=out)  # 1 - s
        torch.mul(v, out, out=out)  # v * (1 - s)
    elif reset == "subtract":
        assert theta is not None
        torch.mul(s, theta, out=out)  # theta * s
        torch.sub(v, out, out=out)  # v - theta * s
    else:
        return torch.mul(v, decay, out=out)
    return torch.mul(out, decay, out=out)


def _fire_into(out: Tensor, v: Tensor, theta: Param) -> Tensor:
    """``out = [v - theta > 0]`` as a float tensor (the surrogate's forward)."""
    if isinstance(theta, Tensor) or v.dtype in _EXACT_SCALAR_DTYPES:
        # v > theta is the predicate v - theta > 0 (finite IEEE floats: the exact difference
        # of two floats of one format never rounds to zero nor changes sign); one kernel.
        return torch.gt(v, theta, out=out)
    torch.sub(v, theta, out=out)
    return torch.gt(out, 0, out=out)


# -- backward helpers ---------------------------------------------------------------------------

#: On CPU the backward works through the sequence in chunks of about this many bytes per
#: temporary (at least one step), so that a chunk's temporaries stay in cache; elsewhere (CUDA)
#: the whole sequence is one chunk, which makes the fewest kernel launches.
CPU_CHUNK_BYTES = 1 << 18


def _chunk_len(seq: Tensor) -> int:
    """The number of steps of ``seq`` (``(T, N, *F)``) that the backward processes at once."""
    n_steps = seq.shape[0]
    if seq.device.type != "cpu":
        return n_steps
    step_bytes = max(1, seq[0].numel() * seq.element_size())
    return max(1, min(n_steps, CPU_CHUNK_BYTES // step_bytes))


class _Workspace:
    """Chunk-sized scratch tensors ``(K, N, *F)``, allocated once and reused by every chunk
    (fresh allocations of this size cost more than the arithmetic on CPU)."""

    def __init__(self, like: Tensor, chunk: int) -> None:
        self.shape = (chunk, *like.shape[1:])
        self.options: dict[str, Any] = {"dtype": like.dtype, "device": like.device}
        self.buffers: dict[str, Tensor] = {}

    def __call__(self, name: str, n_steps: int) -> Tensor:
        """The first ``n_steps`` steps of the scratch tensor ``name``."""
        buffer = self.buffers.get(name)
        if buffer is None:
            buffer = self.buffers[name] = torch.empty(self.shape, **self.options)
        return buffer[:n_steps]


def _reset_into(out: Tensor, v: Tensor, s: Tensor, theta: Param, reset: str) -> Tensor:
    """``r(v, s; theta)`` for a chunk of steps, written into ``out`` (``v`` itself for none)."""
    if reset == "zero":
        return torch.sub(1, s, out=out).mul_(v)
    if reset == "subtract":
        return torch.sub(v, torch.mul(s, theta, out=out), out=out)
    return v


def _save(ctx: Any, tensors: Sequence[Tensor], params: Sequence[Param | None]) -> None:
    """Save ``tensors`` and the tensor ``params``; keep the number params on ``ctx``."""
    ctx.params = tuple(None if isinstance(p, Tensor) else p for p in params)
    ctx.tensor_params = [i for i, p in enumerate(params) if isinstance(p, Tensor)]
    ctx.n_tensors = len(tensors)
    ctx.save_for_backward(*tensors, *(p for p in params if isinstance(p, Tensor)))


def _load(ctx: Any) -> tuple[list[Tensor], list[Any]]:
    saved = list(ctx.saved_tensors)
    params: list[Any] = list(ctx.params)
    for k, i in enumerate(ctx.tensor_params):
        params[i] = saved[ctx.n_tensors + k]
    return saved[: ctx.n_tensors], params


def _add_scaled(out: Tensor, base: Tensor, scale: Param, other: Tensor) -> Tensor:
    """``out = base + scale * other`` (``scale`` a number or a broadcastable tensor)."""
    if isinstance(scale, Tensor):
        return torch.addcmul(base, scale, other, out=out)
    return torch.add(base, other, alpha=scale, out=out)


def _add_scaled_(acc: Tensor, scale: Param, other: Tensor) -> Tensor:
    """``acc += scale * other`` in place."""
    if isinstance(scale, Tensor):
        return acc.addcmul_(scale, other)
    return acc.add_(other, alpha=scale)


class _Sums:
    """Running ``(N, *F)`` sums of products, reduced to the parameters' shapes at the end."""

    def __init__(self) -> None:
        self.sums: dict[str, Tensor] = {}
        self.scratch: Tensor | None = None

    def add(self, key: str, a: Tensor, b: Tensor | None = None) -> None:
        """``sums[key] += a * b`` (``+= a`` without ``b``)."""
        acc = self.sums.get(key)
        if acc is None:
            self.sums[key] = a.clone() if b is None else a * b
        elif b is None:
            acc.add_(a)
        else:
            acc.addcmul_(a, b)

    def add_steps(self, key: str, chunk: Tensor) -> None:
        """``sums[key] += chunk.sum(0)`` for a chunk ``(K, N, *F)``."""
        if chunk.shape[0] == 1:
            self.add(key, chunk[0])
            return
        if self.scratch is None:
            self.scratch = torch.empty_like(chunk[0])
        self.add(key, torch.sum(chunk, 0, out=self.scratch))

    def __getitem__(self, key: str) -> Tensor:
        return self.sums[key]


def _coef(ws: _Workspace, name: str, factor: Tensor, scale: Param) -> tuple[Tensor, float]:
    """A per-step coefficient ``factor * scale`` as ``(tensor, number)``: a number ``scale``
    stays a number (folded into the loop's multiply-adds), a tensor one is multiplied in."""
    if isinstance(scale, Tensor):
        return torch.mul(factor, scale, out=ws(name, factor.shape[0])), 1.0
    return factor, float(scale)


# -- adaptive LIF -------------------------------------------------------------------------------


class _ALIFScan(torch.autograd.Function):
    """``(x, v0, s0, w0, theta_0, a, rho, beta, b) -> (spikes, v_last, w_last)``."""

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        v0: Tensor,
        s0: Tensor,
        w0: Tensor,
        threshold: Param,
        decay: Param,
        adapt_decay: Param,
        adapt_strength: Param,
        input_scale: Param | None,
        reset: str,
        detach_reset: bool,
        surrogate: SurrogateFunction,
    ) -> tuple[Tensor, Tensor, Tensor]:
        shape = x.shape[1:]
        options: dict[str, Any] = {"dtype": x.dtype, "device": x.device}
        needs = ctx.needs_input_grad
        keep_w = (isinstance(adapt_decay, Tensor) and needs[6]) or (
            isinstance(adapt_strength, Tensor) and needs[7]
        )
        drive = x if input_scale is None else input_scale * x
        v_seq = torch.empty(x.shape, **options)
        theta_seq = torch.empty(x.shape, **options)
        spikes = torch.empty(x.shape, **options)
        w_seq = torch.empty(x.shape, **options) if keep_w else None
        w_buf = None if keep_w else torch.empty(shape, **options)
        v, s, w = v0.expand(shape), s0.expand(shape), w0.expand(shape)
        theta: Tensor | None = None  # theta_{t-1}, the threshold that s_{t-1} crossed
        if reset == "subtract":
            theta = torch.mul(w, adapt_strength)
            theta.add_(threshold)
        for t in range(x.shape[0]):
            v_t = _leak_into(v_seq[t], v, s, theta, decay, reset)  # a r(v, s; theta_{t-1})
            v_t.add_(drive[t])
            w = torch.mul(w, adapt_decay, out=w_buf if w_seq is None else w_seq[t])
            w.add_(s)  # rho w_{t-1} + s_{t-1}
            theta = torch.mul(w, adapt_strength, out=theta_seq[t])
            theta.add_(threshold)  # theta_0 + beta w_t
            s = _fire_into(spikes[t], v_t, theta)
            v = v_t

        ctx.set_materialize_grads(False)
        ctx.reset, ctx.detach_reset, ctx.surrogate = reset, detach_reset, surrogate
        ctx.keep_w = keep_w
        ctx.save_x = isinstance(input_scale, Tensor) and needs[8]
        tensors = [v_seq, theta_seq, v0, s0, w0]
        tensors += ([w_seq] if w_seq is not None else []) + ([x] if ctx.save_x else [])
        _save(ctx, tensors, (threshold, decay, adapt_decay, adapt_strength, input_scale))
        return spikes, v_seq[-1].clone(), w.clone()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(
        ctx: Any, g_spikes: Tensor | None, g_v_last: Tensor | None, g_w_last: Tensor | None
    ) -> tuple[Tensor | None, ...]:
        tensors, params = _load(ctx)
        v_seq, theta_seq, v0, s0, w0 = tensors[:5]
        rest = tensors[5:]
        w_seq = rest.pop(0) if ctx.keep_w else None
        x = rest.pop(0) if ctx.save_x else None
        threshold, decay, rho, beta, input_scale = params
        reset: str = ctx.reset
        detach: bool = ctx.detach_reset
        surrogate: SurrogateFunction = ctx.surrogate
        needs = ctx.needs_input_grad
        need_theta = isinstance(threshold, Tensor) and needs[4]
        need_a = isinstance(decay, Tensor) and needs[5]
        need_rho = isinstance(rho, Tensor) and needs[6] and w_seq is not None
        need_beta = isinstance(beta, Tensor) and needs[7] and w_seq is not None
        zero, subtract = reset == "zero", reset == "subtract"
        need_us = subtract and (need_theta or need_beta)
        n_steps, shape = v_seq.shape[0], v_seq.shape[1:]
        a: Param = decay
        neg_a: Param = -a
        neg_beta: Param = -beta

        g_v = torch.empty_like(v_seq)  # u_t = dL/dv_t
        gw = torch.empty(shape, dtype=v_seq.dtype, device=v_seq.device)  # gw_{t+1}, then gw_t
        buf = torch.empty_like(gw)
        sums = _Sums()  # parameter sums pairing step t+1's adjoints with step t's values
        chunk = _chunk_len(v_seq)
        ws = _Workspace(v_seq, chunk)
        for end in range(n_steps, 0, -chunk):
            start = max(0, end - chunk)
            n = end - start
            v_c, theta_c = v_seq[start:end], theta_seq[start:end]
            w_c = None if w_seq is None else w_seq[start:end]
            h_c = torch.sub(v_c, theta_c, out=ws("h", n))  # the step's v_t - theta_t
            s_c = torch.gt(h_c, 0, out=ws("s", n))
            d_c = surrogate.derivative_(h_c)  # h_c is consumed
            gh_c = ws("gh", n)
            if g_spikes is None:
                gh_c.zero_()
            else:
                torch.mul(d_c, g_spikes[start:end], out=gh_c)
            # carry coefficients c^v_t = a dr/dv, c^s_t = a dr/ds, c^w_t at the chunk's steps,
            # each as (per-step tensor, number)
            cv: tuple[Tensor, float] | None = None
            if zero:
                cv = _coef(ws, "cv", torch.sub(1, s_c, out=ws("keep", n)), a)
            cs: tuple[Tensor, float] | None = None
            if not detach and zero:
                cs = _coef(ws, "cs", v_c, neg_a)
            elif not detach and subtract:
                cs = _coef(ws, "cs", theta_c, neg_a)
            cw = _coef(ws, "cw", s_c, neg_a * beta) if subtract else None
            r_c = _reset_into(ws("r", n), v_c, s_c, theta_c, reset) if need_a else None
            sw_c = None
            if need_beta and subtract and w_c is not None:
                sw_c = torch.mul(s_c, w_c, out=ws("sw", n))
            for t in range(end - 1, start - 1, -1):
                k = t - start
                gh = gh_c[k]  # becomes gh_t = d_t (g_t + c^s_t u_{t+1} + gw_{t+1})
                if t == n_steps - 1:  # the final state's gradients enter here
                    if g_v_last is None:
                        g_v[t].copy_(gh)
                    else:
                        torch.add(g_v_last, gh, out=g_v[t])
                    if g_w_last is None:
                        torch.mul(gh, neg_beta, out=gw)
                    else:
                        _add_scaled(gw, g_w_last, neg_beta, gh)
                    continue
                u_next = g_v[t + 1]
                if r_c is not None:
                    sums.add("a", u_next, r_c[k])
                if need_us:
                    sums.add("us", u_next, s_c[k])
                if sw_c is not None:
                    sums.add("usw", u_next, sw_c[k])
                if need_rho and w_c is not None:
                    sums.add("rho", gw, w_c[k])
                gs_in = gw  # gs_in = gw_{t+1} + c^s_t u_{t+1}
                if cs is not None:
                    gs_in = torch.addcmul(gw, cs[0][k], u_next, value=cs[1], out=buf)
                gh.addcmul_(d_c[k], gs_in)
                gw.mul_(rho)  # gw_t = rho gw_{t+1} + c^w_t u_{t+1} - beta gh_t
                if cw is not None:
                    gw.addcmul_(cw[0][k], u_next, value=cw[1])
                _add_scaled_(gw, neg_beta, gh)
                if cv is None:  # u_t = gh_t + c^v_t u_{t+1}
                    _add_scaled(g_v[t], gh, a, u_next)
                else:
                    torch.addcmul(gh, cv[0][k], u_next, value=cv[1], out=g_v[t])
            if need_theta or need_beta:
                sums.add_steps("h", gh_c)
            if need_beta and w_c is not None:
                sums.add_steps("hw", torch.mul(gh_c, w_c, out=ws("hw", n)))

        # the initial state (step -1) and its terms of the parameter sums
        u0 = g_v[0]
        v_i, s_i, w_i = v0.expand(shape), s0.expand(shape), w0.expand(shape)
        theta_i: Param = w_i * beta + threshold if subtract else threshold
        if need_a:
            sums.add("a", u0, _reset_into(torch.empty_like(u0), v_i, s_i, theta_i, reset))
        if need_us:
            sums.add("us", u0, s_i)
        if subtract and need_beta:
            sums.add("usw", u0, s_i * w_i)
        if need_rho:
            sums.add("rho", gw, w_i)
        g_v0 = g_s0 = g_w0 = None
        if needs[1]:
            g_v0 = sum_to_param(u0 * ((1 - s_i) * a) if zero else u0 * a, v0)
        if needs[2]:
            g = gw
            if zero and not detach:
                g = torch.addcmul(gw, v_i * neg_a, u0)
            elif subtract and not detach:
                g = torch.addcmul(gw, torch.as_tensor(theta_i * neg_a), u0)
            g_s0 = sum_to_param(g, s0)
        if needs[3]:
            g = gw * rho
            if subtract:
                g.addcmul_(s_i * (neg_a * beta), u0)
            g_w0 = sum_to_param(g, w0)

        g_theta = g_a = g_rho = g_beta = g_b = None
        if need_theta:
            total = -sums["h"]
            if subtract:
                total = total - sums["us"] * a
            g_theta = sum_to_param(total, threshold)
        if need_beta:
            total = -sums["hw"]
            if subtract:
                total = total - sums["usw"] * a
            g_beta = sum_to_param(total, beta)
        if need_a:
            g_a = sum_to_param(sums["a"], decay)
        if need_rho:
            g_rho = sum_to_param(sums["rho"], rho)
        if isinstance(input_scale, Tensor) and needs[8] and x is not None:
            g_b = sum_to_param(g_v * x, input_scale)
        g_x = None
        if needs[0]:
            g_x = g_v if input_scale is None else g_v * input_scale
        return (g_x, g_v0, g_s0, g_w0, g_theta, g_a, g_rho, g_beta, g_b, None, None, None)


# -- synaptic (current-based) LIF ---------------------------------------------------------------


class _SynapticScan(torch.autograd.Function):
    """``(x, i0, v0, s0, theta, a, alpha, b) -> (spikes, i_last, v_last)``."""

    @staticmethod
    def forward(
        ctx: Any,
        x: Tensor,
        i0: Tensor,
        v0: Tensor,
        s0: Tensor,
        threshold: Param,
        decay: Param,
        syn_decay: Param,
        input_scale: Param | None,
        reset: str,
        detach_reset: bool,
        surrogate: SurrogateFunction,
    ) -> tuple[Tensor, Tensor, Tensor]:
        shape = x.shape[1:]
        options: dict[str, Any] = {"dtype": x.dtype, "device": x.device}
        drive = x if input_scale is None else input_scale * x
        v_seq = torch.empty(x.shape, **options)
        spikes = torch.empty(x.shape, **options)
        keep_i = isinstance(syn_decay, Tensor) and ctx.needs_input_grad[6]
        i_seq = torch.empty(x.shape, **options) if keep_i else None
        i_buf = None if keep_i else torch.empty(shape, **options)
        i, v, s = i0.expand(shape), v0.expand(shape), s0.expand(shape)
        for t in range(x.shape[0]):
            i = torch.mul(i, syn_decay, out=i_buf if i_seq is None else i_seq[t])
            i.add_(drive[t])  # alpha i_{t-1} + b x_t
            v = _leak_into(v_seq[t], v, s, threshold, decay, reset)
            v.add_(i)  # a r(v_{t-1}, s_{t-1}) + i_t
            s = _fire_into(spikes[t], v, threshold)

        ctx.set_materialize_grads(False)
        ctx.reset, ctx.detach_reset, ctx.surrogate = reset, detach_reset, surrogate
        ctx.save_x = isinstance(input_scale, Tensor) and ctx.needs_input_grad[7]
        ctx.keep_i = keep_i
        tensors = [v_seq, i0, v0, s0]
        tensors += ([i_seq] if i_seq is not None else []) + ([x] if ctx.save_x else [])
        _save(ctx, tensors, (threshold, decay, syn_decay, input_scale))
        return spikes, i.clone(), v_seq[-1].clone()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(
        ctx: Any, g_spikes: Tensor | None, g_i_last: Tensor | None, g_v_last: Tensor | None
    ) -> tuple[Tensor | None, ...]:
        tensors, params = _load(ctx)
        v_seq, i0, v0, s0 = tensors[:4]
        rest = tensors[4:]
        i_seq = rest.pop(0) if ctx.keep_i else None
        x = rest.pop(0) if ctx.save_x else None
        threshold, decay, alpha, input_scale = params
        reset: str = ctx.reset
        detach: bool = ctx.detach_reset
        surrogate: SurrogateFunction = ctx.surrogate
        needs = ctx.needs_input_grad
        need_theta = isinstance(threshold, Tensor) and needs[4]
        need_a = isinstance(decay, Tensor) and needs[5]
        need_alpha = isinstance(alpha, Tensor) and needs[6] and i_seq is not None
        zero, subtract = reset == "zero", reset == "subtract"
        need_us = subtract and need_theta
        n_steps, shape = v_seq.shape[0], v_seq.shape[1:]
        a: Param = decay
        neg_a: Param = -a
        cs: Param | None = threshold * neg_a if subtract and not detach else None

        g_i = torch.empty_like(v_seq)  # gi_t = dL/di_t
        u_bufs = [torch.empty(shape, dtype=v_seq.dtype, device=v_seq.device) for _ in range(2)]
        sums = _Sums()  # parameter sums pairing step t+1's adjoints with step t's values
        chunk = _chunk_len(v_seq)
        ws = _Workspace(v_seq, chunk)
        for end in range(n_steps, 0, -chunk):
            start = max(0, end - chunk)
            n = end - start
            v_c = v_seq[start:end]
            h_c = torch.sub(v_c, threshold, out=ws("h", n))  # the step's v_t - theta
            s_c = torch.gt(h_c, 0, out=ws("s", n)) if zero or need_us or need_a else None
            d_c = surrogate.derivative_(h_c)  # h_c is consumed
            gh_c = ws("gh", n)
            if g_spikes is None:
                gh_c.zero_()
            else:
                torch.mul(d_c, g_spikes[start:end], out=gh_c)
            # c^v_t = a dr/dv and dcs_t = d_t c^s_t (the spike carry) as (tensor, number)
            cv: tuple[Tensor, float] | None = None
            if zero and s_c is not None:
                cv = _coef(ws, "cv", torch.sub(1, s_c, out=ws("keep", n)), a)
            dcs: tuple[Tensor, float] | None = None
            if zero and not detach:
                dcs = _coef(ws, "dcs", torch.mul(v_c, d_c, out=ws("vd", n)), neg_a)
            elif cs is not None:
                dcs = _coef(ws, "dcs", d_c, cs)
            r_c = None
            if need_a and s_c is not None:
                r_c = _reset_into(ws("r", n), v_c, s_c, threshold, reset)
            i_c = i_seq[start:end] if need_alpha and i_seq is not None else None
            for t in range(end - 1, start - 1, -1):
                k = t - start
                gh = gh_c[k]  # becomes gh_t = d_t (g_t + c^s_t u_{t+1})
                u = u_bufs[t % 2]  # u_t = dL/dv_t
                if t == n_steps - 1:  # the final state's gradients enter here
                    if g_v_last is None:
                        u.copy_(gh)
                    else:
                        torch.add(g_v_last, gh, out=u)
                    if g_i_last is None:
                        g_i[t].copy_(u)
                    else:
                        torch.add(g_i_last, u, out=g_i[t])
                    continue
                u_next, gi_next = u_bufs[(t + 1) % 2], g_i[t + 1]
                if r_c is not None:
                    sums.add("a", u_next, r_c[k])
                if need_us and s_c is not None:
                    sums.add("us", u_next, s_c[k])
                if i_c is not None:
                    sums.add("alpha", gi_next, i_c[k])
                if dcs is not None:
                    gh.addcmul_(dcs[0][k], u_next, value=dcs[1])
                if cv is None:
                    _add_scaled(u, gh, a, u_next)
                else:
                    torch.addcmul(gh, cv[0][k], u_next, value=cv[1], out=u)
                _add_scaled(g_i[t], u, alpha, gi_next)  # gi_t = u_t + alpha gi_{t+1}
            if need_theta:
                sums.add_steps("h", gh_c)

        # the initial state (step -1) and its terms of the parameter sums
        u0, gi0 = u_bufs[0], g_i[0]
        v_i, s_i = v0.expand(shape), s0.expand(shape)
        if need_a:
            sums.add("a", u0, _reset_into(torch.empty_like(u0), v_i, s_i, threshold, reset))
        if need_us:
            sums.add("us", u0, s_i)
        if need_alpha:
            sums.add("alpha", gi0, i0.expand(shape))
        g_i0 = g_v0 = g_s0 = None
        if needs[1]:
            g_i0 = sum_to_param(gi0 * alpha, i0)
        if needs[2]:
            g_v0 = sum_to_param(u0 * ((1 - s_i) * a) if zero else u0 * a, v0)
        if needs[3] and zero and not detach:
            g_s0 = sum_to_param(u0 * (v_i * neg_a), s0)
        elif needs[3] and cs is not None:
            g_s0 = sum_to_param(u0 * cs, s0)

        g_theta = g_a = g_alpha = g_b = None
        if need_theta:
            total = -sums["h"]
            if subtract:
                total = total - sums["us"] * a
            g_theta = sum_to_param(total, threshold)
        if need_a:
            g_a = sum_to_param(sums["a"], decay)
        if need_alpha:
            g_alpha = sum_to_param(sums["alpha"], alpha)
        if isinstance(input_scale, Tensor) and needs[7] and x is not None:
            g_b = sum_to_param(g_i * x, input_scale)
        g_x = None
        if needs[0]:
            g_x = g_i if input_scale is None else g_i * input_scale
        return (g_x, g_i0, g_v0, g_s0, g_theta, g_a, g_alpha, g_b, None, None, None)


# -- the public scans ---------------------------------------------------------------------------


def _check_seq(fn: str, x_seq: Tensor) -> None:
    if not isinstance(x_seq, Tensor) or x_seq.dim() < 2 or x_seq.shape[0] == 0:
        got = tuple(x_seq.shape) if isinstance(x_seq, Tensor) else type(x_seq).__name__
        raise ValueError(f"{fn} expects a time-first input (T, N, *F) with T > 0, got {got}")
    if not x_seq.is_floating_point():
        raise TypeError(f"{fn} expects a floating-point input, got dtype {x_seq.dtype}")


def _cast(fn: str, x_seq: Tensor, **values: Any) -> list[Any]:
    """Check that every tensor in ``values`` broadcasts to one step ``(N, *F)`` of ``x_seq``;
    return them cast to ``x_seq``'s dtype and device (numbers and ``None`` pass through)."""
    step_shape = x_seq.shape[1:]
    out: list[Any] = []
    for name, p in values.items():
        if isinstance(p, Tensor):
            try:
                ok = torch.broadcast_shapes(p.shape, step_shape) == step_shape
            except RuntimeError:
                ok = False
            if not ok:
                raise ValueError(
                    f"{fn}: {name} of shape {tuple(p.shape)} does not broadcast to the shape "
                    f"(N, *F) = {tuple(step_shape)} of one step of the input "
                    f"{tuple(x_seq.shape)}"
                )
            p = p.to(dtype=x_seq.dtype, device=x_seq.device)
        out.append(p)
    return out


def alif_scan(
    x_seq: Tensor,
    state: ALIFState | None = None,
    *,
    decay: Param,
    adapt_decay: Param,
    adapt_strength: Param,
    threshold: Param = 1.0,
    input_scale: Param | None = None,
    reset: str = "zero",
    surrogate: SurrogateFunction | str = "sigmoid",
    detach_reset: bool = False,
) -> tuple[Tensor, ALIFState]:
    """Run :func:`~spikingtorch_neurons.functional.alif_step` over a whole sequence, fused.

    For ``t = 0, ..., T-1``, from the state ``(v_{-1}, s_{-1}, w_{-1})``::

        w_t = rho w_{t-1} + s_{t-1},   theta_t = theta_0 + beta w_t
        v_t = a r(v_{t-1}, s_{t-1}; theta_{t-1}) + b x_t,   s_t = H(v_t - theta_t)

    The forward is bit-identical to stepping; the backward is the hand-written BPTT of the
    module docstring, equal to autograd through the steps.

    Args:
        x_seq: input currents, time first: ``(T, N, *F)``, floating point.
        state: ``ALIFState(v_{-1}, s_{-1}, w_{-1})``, each broadcastable to ``(N, *F)``;
            ``None`` starts at rest.
        decay, adapt_decay, adapt_strength, threshold, input_scale, reset, surrogate,
            detach_reset: as for :func:`~spikingtorch_neurons.functional.alif_step`
            (``a``, ``rho``, ``beta``, ``theta_0``, ``b``); numbers or tensors broadcastable to
            ``(N, *F)``.

    Tensor hyper-parameters and the state are cast to ``x_seq``'s dtype and device (a no-op in
    the modules, which cast them already).

    Returns:
        ``(spikes, ALIFState(v_{T-1}, s_{T-1}, w_{T-1}))`` with spikes ``(T, N, *F)`` in
        ``x_seq``'s dtype; gradients reach ``x_seq``, the initial state and every tensor
        hyper-parameter that requires them.

    Raises:
        ValueError: ``x_seq`` not of shape ``(T, N, *F)`` with ``T > 0``; a state tensor or a
            hyper-parameter that does not broadcast to ``(N, *F)``; an unknown reset mode.
        TypeError: a non-floating ``x_seq``.

    Example:
        >>> x = torch.full((8, 1), 0.6)
        >>> spikes, state = alif_scan(x, decay=0.5, adapt_decay=0.5, adapt_strength=0.5)
        >>> spikes.flatten().int().tolist()  # the raised threshold delays the second spike
        [0, 0, 1, 0, 0, 0, 1, 0]
        >>> state.w.item()  # w_7 = 0.5 w_6 + s_6 = 0.5 * 0.125 + 1
        1.0625
    """
    _check_seq("alif_scan", x_seq)
    reset = check_reset(reset)
    if state is None:
        state = ALIFState.zeros_like(x_seq[0])
    args = _cast(
        "alif_scan",
        x_seq,
        **{"state.v": state.v, "state.s": state.s, "state.w": state.w},
        threshold=threshold,
        decay=decay,
        adapt_decay=adapt_decay,
        adapt_strength=adapt_strength,
        input_scale=input_scale,
    )
    spikes, v_last, w_last = _ALIFScan.apply(
        x_seq, *args, reset, bool(detach_reset), get_surrogate(surrogate)
    )
    return spikes, ALIFState(v_last, spikes[-1], w_last)


def synaptic_lif_scan(
    x_seq: Tensor,
    state: SynapticLIFState | None = None,
    *,
    decay: Param,
    syn_decay: Param,
    threshold: Param = 1.0,
    input_scale: Param | None = None,
    reset: str = "zero",
    surrogate: SurrogateFunction | str = "sigmoid",
    detach_reset: bool = False,
) -> tuple[Tensor, SynapticLIFState]:
    """Run :func:`~spikingtorch_neurons.functional.synaptic_lif_step` over a sequence, fused.

    For ``t = 0, ..., T-1``, from the state ``(i_{-1}, v_{-1}, s_{-1})``::

        i_t = alpha i_{t-1} + b x_t
        v_t = a r(v_{t-1}, s_{t-1}; theta) + i_t,   s_t = H(v_t - theta)

    The forward is bit-identical to stepping; the backward is the hand-written BPTT of the
    module docstring, equal to autograd through the steps.

    Args:
        x_seq: inputs, time first: ``(T, N, *F)``, floating point.
        state: ``SynapticLIFState(i_{-1}, v_{-1}, s_{-1})``, each broadcastable to
            ``(N, *F)``; ``None`` starts at rest.
        decay, syn_decay, threshold, input_scale, reset, surrogate, detach_reset: as for
            :func:`~spikingtorch_neurons.functional.synaptic_lif_step` (``a``, ``alpha``,
            ``theta``, ``b``); numbers or tensors broadcastable to ``(N, *F)``.

    Tensor hyper-parameters and the state are cast to ``x_seq``'s dtype and device.

    Returns:
        ``(spikes, SynapticLIFState(i_{T-1}, v_{T-1}, s_{T-1}))`` with spikes ``(T, N, *F)``
        in ``x_seq``'s dtype; gradients reach ``x_seq``, the initial state and every tensor
        hyper-parameter that requires them.

    Raises:
        ValueError: ``x_seq`` not of shape ``(T, N, *F)`` with ``T > 0``; a state tensor or a
            hyper-parameter that does not broadcast to ``(N, *F)``; an unknown reset mode.
        TypeError: a non-floating ``x_seq``.

    Example:
        >>> x = torch.tensor([0.7, 0.0, 0.0]).view(3, 1)  # one pulse, then silence
        >>> spikes, state = synaptic_lif_scan(x, decay=0.9, syn_decay=0.9)
        >>> spikes.flatten().tolist()  # the current outlasts the pulse: v = 0.7, 1.26, ...
        [0.0, 1.0, 0.0]
        >>> round(state.i.item(), 4)  # i_2 = 0.9^2 * 0.7
        0.567
    """
    _check_seq("synaptic_lif_scan", x_seq)
    reset = check_reset(reset)
    if state is None:
        state = SynapticLIFState.zeros_like(x_seq[0])
    args = _cast(
        "synaptic_lif_scan",
        x_seq,
        **{"state.i": state.i, "state.v": state.v, "state.s": state.s},
        threshold=threshold,
        decay=decay,
        syn_decay=syn_decay,
        input_scale=input_scale,
    )
    spikes, i_last, v_last = _SynapticScan.apply(
        x_seq, *args, reset, bool(detach_reset), get_surrogate(surrogate)
    )
    return spikes, SynapticLIFState(i_last, v_last, spikes[-1])
