"""Hyper-parameter handling shared by the neuron modules (validation, storage, repr).

A hyper-parameter (``threshold``, ``decay``, ...) is a Python float, a tensor broadcastable to
the feature shape (per-neuron values, stored as a buffer so that ``.to()`` moves it), or an
``nn.Parameter`` when learned. Decays are stored so that they stay inside ``(0, 1)``: a learned
decay ``a`` is kept as its logit and read back as ``sigmoid(logit)``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from spikingtorch.surrogate import functorch_active
from spikingtorch_neurons.functional import Param
from spikingtorch_neurons.functional._native import forward_from_rest
from spikingtorch_neurons.functional.scan import RESET_MODES, native_scan
from spikingtorch_neurons.functional.scan import _run as scan_run


def check_hyper(name: str, value: Any) -> Param:
    """Validate a hyper-parameter: a finite real number or a real tensor of finite values.

    Returns a float, or a floating tensor detached from the caller's (a copy).
    """
    if isinstance(value, Tensor):
        if value.dtype == torch.bool or value.is_complex():
            raise TypeError(f"{name} must be a real tensor, got dtype {value.dtype}")
        t = value.detach().clone()
        if not t.is_floating_point():
            t = t.to(torch.get_default_dtype())
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} must be finite, got {t}")
        return t
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float or a tensor, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def store(module: nn.Module, name: str, value: Param, *, learn: bool) -> None:
    """Store a hyper-parameter: an ``nn.Parameter`` if learned, else a buffer or a float."""
    if learn:
        t = value if isinstance(value, Tensor) else torch.tensor(value)
        setattr(module, name, nn.Parameter(t))
    elif isinstance(value, Tensor):
        module.register_buffer(name, value)
    else:
        setattr(module, name, value)


def like(p: Param, x: Tensor) -> Param:
    """``p`` on ``x``'s device with ``x``'s dtype (floats pass through: exact in any dtype)."""
    return p.to(device=x.device, dtype=x.dtype) if isinstance(p, Tensor) else p


def check_input(module: nn.Module, x: Tensor, **params: Param | None) -> None:
    """Check that ``x`` is floating and that per-neuron ``params`` broadcast to its shape."""
    if not x.is_floating_point():
        raise TypeError(
            f"{type(module).__name__} expects a floating-point input, got dtype {x.dtype}"
        )
    for name, p in params.items():
        if not isinstance(p, Tensor):
            continue
        try:
            ok = torch.broadcast_shapes(p.shape, x.shape) == x.shape
        except RuntimeError:
            ok = False
        if not ok:
            raise ValueError(
                f"{type(module).__name__}: {name} of shape {tuple(p.shape)} does not "
                f"broadcast to the input shape {tuple(x.shape)}"
            )


def fmt(value: Any) -> str:
    """Short form of a hyper-parameter: 4 significant digits, tensors by their shape."""
    if isinstance(value, Tensor):
        if value.dim() > 0:
            return f"tensor(shape={tuple(value.shape)})"
        value = value.item()
    if isinstance(value, float):
        text = format(value, ".4g")
        return text if any(c in text for c in ".ein") else text + ".0"
    return repr(value)


def repr_args(**args: Any) -> str:
    """``name=value`` pairs for ``extra_repr``, leaving out ``None`` values."""
    return ", ".join(f"{k}={fmt(v)}" for k, v in args.items() if v is not None)


def decay_from_tau(tau: Param) -> Param:
    """``exp(-1 / tau)`` after checking ``tau > 0``."""
    if isinstance(tau, Tensor):
        if not bool((tau > 0).all()):
            raise ValueError(f"tau must be positive, got {tau}")
        return torch.exp(-1 / tau)
    if tau <= 0:
        raise ValueError(f"tau must be positive, got {tau!r}")
    return math.exp(-1 / tau)


def check_decay(a: Param) -> Param:
    """Check ``0 < a <= 1``."""
    ok = bool(((a > 0) & (a <= 1)).all()) if isinstance(a, Tensor) else 0 < a <= 1
    if not ok:
        raise ValueError(f"decay must lie in (0, 1], got {a!r}")
    return a


def logit(a: Param) -> Tensor:
    """``log(a / (1 - a))`` as a tensor, for the learned decay; needs ``0 < a < 1``."""
    ok = bool(((a > 0) & (a < 1)).all()) if isinstance(a, Tensor) else 0 < a < 1
    if not ok:
        raise ValueError(
            f"learn_tau needs a decay strictly inside (0, 1) (a finite tau), got decay {a!r}"
        )
    if isinstance(a, Tensor):
        return torch.log(a) - torch.log1p(-a)
    return torch.tensor(math.log(a) - math.log1p(-a), dtype=torch.get_default_dtype())


def store_decay(
    module: nn.Module,
    name: str,
    *,
    tau: Param | None,
    decay: Param | None,
    learn: bool,
    default_tau: float,
    tau_name: str = "tau",
) -> None:
    """Validate ``tau`` or ``decay`` and store the decay factor ``a`` on ``module``.

    ``a = decay``, or ``exp(-1 / tau)`` when ``tau`` is given, or ``exp(-1 / default_tau)``
    when neither is. A fixed ``a`` is stored as ``_<name>`` (a float or a buffer); a learned
    one as the ``nn.Parameter`` ``<name>_logit`` with ``a = sigmoid(<name>_logit)``, which
    keeps ``a`` inside ``(0, 1)`` whatever the gradient step. Read it back with
    :func:`read_decay`.

    Raises:
        ValueError: both given; ``tau <= 0`` or non-finite; ``decay`` outside ``(0, 1]``;
            ``learn`` with ``decay == 1`` (no leak has no finite logit).
    """
    decay_name = name
    if tau is not None and decay is not None:
        raise ValueError(
            f"give {tau_name} or {decay_name}, not both "
            f"(got {tau_name}={tau!r}, {decay_name}={decay!r})"
        )
    if decay is None:
        a = decay_from_tau(check_hyper(tau_name, default_tau if tau is None else tau))
    else:
        a = check_decay(check_hyper(decay_name, decay))
    if learn:
        module.register_parameter(f"{name}_logit", nn.Parameter(logit(a)))
        setattr(module, f"_{name}", None)
    else:
        store(module, f"_{name}", a, learn=False)


def read_decay(module: nn.Module, name: str) -> Param:
    """The decay factor stored by :func:`store_decay` (a tensor when learned or per-neuron)."""
    fixed = getattr(module, f"_{name}")
    if fixed is not None:
        return fixed
    a = torch.sigmoid(getattr(module, f"{name}_logit"))
    info = torch.finfo(a.dtype)
    # sigmoid rounds to exactly 1 (or 0) for large logits: keep a strictly inside (0, 1).
    return a.clamp(info.tiny, 1 - info.eps)


def tau_of(a: Param) -> Param:
    """The time constant ``tau = -1 / log(a)`` in steps of a decay ``a`` (``inf`` at ``a = 1``)."""
    if isinstance(a, Tensor):
        return 1 / torch.log(1 / a)
    return math.inf if a == 1 else -1 / math.log(a)


# -- helpers for models with several time constants (AdaptiveLIF, SynapticLIF, ...) -----------


def check_positive(name: str, value: Param) -> Param:
    """Check ``value > 0`` (every element of a tensor); the error names ``name``."""
    ok = bool((value > 0).all()) if isinstance(value, Tensor) else value > 0
    if not ok:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return value


def check_non_negative(name: str, value: Param) -> Param:
    """Check ``value >= 0`` (every element of a tensor); the error names ``name``."""
    ok = bool((value >= 0).all()) if isinstance(value, Tensor) else value >= 0
    if not ok:
        raise ValueError(f"{name} must be non-negative, got {value!r}")
    return value


def store_named_decay(
    module: nn.Module,
    name: str,
    *,
    tau: Param | None,
    decay: Param | None,
    learn: bool,
    default_tau: float,
    tau_name: str,
    learn_name: str,
) -> None:
    """:func:`store_decay` for a second decay (``adapt_decay``, ``syn_decay``, ...).

    Validates first so that every error names the parameter as the user spelled it
    (``tau_adapt must be positive``, ``adapt_decay must lie in (0, 1]``,
    ``learn_tau_adapt needs ...``), then stores the decay as :func:`store_decay` does (read it
    back with :func:`read_decay`).
    """
    if tau is not None and decay is not None:
        raise ValueError(
            f"give {tau_name} or {name}, not both (got {tau_name}={tau!r}, {name}={decay!r})"
        )
    if decay is None:
        t = check_positive(tau_name, check_hyper(tau_name, default_tau if tau is None else tau))
        a = decay_from_tau(t)
    else:
        a = check_hyper(name, decay)
        ok = bool(((a > 0) & (a <= 1)).all()) if isinstance(a, Tensor) else 0 < a <= 1
        if not ok:
            raise ValueError(f"{name} must lie in (0, 1], got {a!r}")
    if learn:
        inside = bool(((a > 0) & (a < 1)).all()) if isinstance(a, Tensor) else 0 < a < 1
        if not inside:
            raise ValueError(
                f"{learn_name} needs {name} strictly inside (0, 1) (a finite {tau_name}), "
                f"got {name} {a!r}"
            )
    store_decay(module, name, tau=None, decay=a, learn=learn, default_tau=default_tau)


def check_shapes(owner: str, feature_shape: tuple[int, ...] | None, **params: Any) -> None:
    """Construction-time shape check of per-neuron hyper-parameters.

    Tensors among ``params`` must broadcast to ``feature_shape`` when it is known, and to one
    common shape otherwise (a ``(3,)`` threshold beside a ``(4,)`` tau can fit no input); the
    full check against the input happens at the first step (:func:`check_input`).

    Raises:
        ValueError: naming the parameter, its shape and what it should broadcast to.
    """
    shapes = {k: tuple(v.shape) for k, v in params.items() if isinstance(v, Tensor)}
    if feature_shape is not None:
        for name, shape in shapes.items():
            try:
                ok = torch.broadcast_shapes(shape, feature_shape) == torch.Size(feature_shape)
            except RuntimeError:
                ok = False
            if not ok:
                raise ValueError(
                    f"{owner}: {name} of shape {shape} does not broadcast to the feature "
                    f"shape {feature_shape}"
                )
        return
    seen: list[tuple[str, tuple[int, ...]]] = []
    for name, shape in shapes.items():
        for other, other_shape in seen:
            try:
                torch.broadcast_shapes(shape, other_shape)
            except RuntimeError:
                raise ValueError(
                    f"{owner}: {name} of shape {shape} and {other} of shape {other_shape} "
                    f"do not broadcast together"
                ) from None
        seen.append((name, shape))


def fused_scan_applies(module: nn.Module, owner: type, x_seq: Tensor) -> bool:
    """Whether ``owner``'s fused ``scan`` may run for ``module`` on ``x_seq``.

    It may when ``module`` still uses ``owner.step`` (a subclass that overrides ``step`` gets
    the per-step loop, which follows its own step), ``x_seq`` is ``(T, N, *F)`` with ``T > 0``
    (otherwise the loop raises the shape error), and no ``torch.func`` transform is active (the
    fused autograd Functions do not support ``vmap``/``grad``).
    """
    return (
        getattr(type(module), "step", None) is getattr(owner, "step", None)
        and x_seq.dim() >= 2
        and x_seq.shape[0] > 0
        and not functorch_active()
    )


_MISSING = object()


def merged_kernel(
    module: Any,
    owner: Any,
    x: Tensor,
    n_steps: int,
    state: Any,
    state_type: Any,
    decay_attr: str | None = None,
    scaled: bool = False,
) -> tuple[Tensor, Any] | None:
    """Sequence mode's IF/LIF pass over the time-merged ``x`` ``(T*N, *F)`` as one native
    kernel call: ``(spikes, state_type(v_last, s_last))``, or ``None`` when the kernel does not
    serve it (the caller then runs :func:`fused_scan`, which gives the same result).

    Without autograd (from rest only) it is the bare forward kernel; with autograd it is one
    :class:`~spikingtorch_neurons.functional.scan._NativeScan` node, from rest or from the
    ``state`` a previous time chunk left.

    Served: a module of ``owner``'s model (its class overrides neither ``step`` nor
    ``scan``), a float ``threshold`` (and a float decay in the plain attribute
    ``decay_attr``; with ``scaled``, an ``input_scale`` attribute that is ``None``), no
    ``torch.func`` transform, and an input the kernel takes (see
    :func:`~spikingtorch_neurons.functional._native.forward_from_rest` and
    :func:`~spikingtorch_neurons.functional.scan.native_scan`).

    This is the path sequence mode takes once per spiking layer, right after a convolution or
    a matrix product has streamed through the caches, where every Python call and attribute
    lookup costs several times its hot cost: hence plain ``__dict__`` reads and no detour
    through :func:`fused_scan`.
    """
    cls = type(module)
    attrs = module.__dict__
    threshold = attrs.get("threshold")
    decay = None if decay_attr is None else attrs.get(decay_attr)
    if (
        cls.step is not owner.step
        or cls.scan is not owner.scan
        or type(threshold) is not float
        or (decay_attr is not None and type(decay) is not float)
        or (scaled and attrs.get("input_scale", _MISSING) is not None)
        or functorch_active()
    ):
        return None
    if not torch.is_grad_enabled():
        if state is not None:
            return None
        return _kernel_from_rest(module, x, threshold, decay, n_steps, state_type)
    reset = attrs.get("reset")
    if reset not in RESET_MODES:
        return None  # the general path names the problem
    v0, s0 = (None, None) if state is None else (state.v, state.s)
    done = native_scan(
        x, v0, s0, threshold, decay, reset, module.surrogate, module.detach_reset, n_steps
    )
    if done is None:
        return None
    return done[0], state_type(done[1], done[2])


def _kernel_from_rest(
    module: Any,
    x: Tensor,
    threshold: Param,
    decay: Param | None,
    merged_steps: int | None,
    state_type: Any,
) -> tuple[Tensor, Any] | None:
    """The no-grad scan from rest as one kernel call, or ``None`` when the kernel declines.
    On the merged layout (a sequence-mode call) the last state's tensors, when nothing else
    holds them, take the new state; a direct scan hands its state to the caller, so never
    there."""
    reuse = None if merged_steps is None else module._reusable_state_buffers()
    done = forward_from_rest(x, threshold, decay, module.reset, merged_steps, reuse)
    if done is None:
        return None
    if merged_steps is not None:
        module._offer_state_buffers((done[1], done[2]))
    return done[0], state_type(done[1], done[2])


def fused_scan(
    module: Any,
    x: Tensor,
    state: Any,
    merged_steps: int | None,
    *,
    state_type: Any,
    threshold: Param,
    decay: Param | None = None,
    input_scale: Param | None = None,
) -> tuple[Tensor, Any]:
    """The IF/LIF fused scan of ``module`` over ``(T, N, *F)``, or over the time-merged
    ``(T*N, *F)`` with ``merged_steps=T``; returns ``(spikes, state_type(v, s))``.

    Without autograd from rest it is one kernel call (:func:`_kernel_from_rest`).
    """
    if state is None and input_scale is None and not torch.is_grad_enabled():
        done = _kernel_from_rest(module, x, threshold, decay, merged_steps, state_type)
        if done is not None:
            return done
    # starting at rest needs no zero tensors, but the input still gets the step's checks
    # (per-neuron tensors must broadcast to it); with float parameters only its dtype
    if state is None and (
        not x.is_floating_point()
        or isinstance(decay, Tensor)
        or isinstance(threshold, Tensor)
        or isinstance(input_scale, Tensor)
    ):
        step = x[0] if merged_steps is None else x[: x.shape[0] // merged_steps]
        check_input(module, step, decay=decay, threshold=threshold, input_scale=input_scale)
    spikes, v_last, s_last = scan_run(
        x,
        state,
        like(threshold, x),
        None if decay is None else like(decay, x),
        None if input_scale is None else like(input_scale, x),
        module.reset,
        module.surrogate,
        module.detach_reset,
        merged_steps,
    )
    return spikes, state_type(v_last, s_last)
