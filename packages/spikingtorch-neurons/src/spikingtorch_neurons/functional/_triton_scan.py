"""The IF/LIF scans on CUDA as two Triton kernels: one launch per scan forward, one backward.

On a GPU the eager scans launch two or three small kernels per time step, so a layer's cost
grows with ``T`` even when the tensors are tiny. Here each program owns a block of neurons and
loops over time inside the kernel, keeping ``(v, s)`` in registers:

* forward: ``r_t = reset(v_{t-1}, s_{t-1})``, ``v_t = a r_t + x_t`` (``a = decay``, or no
  multiplication for the IF), ``s_t = [v_t > theta]``; writes the spikes, the membranes when
  autograd needs them, and ``v_{T-1}``. The operations and their order are the step function's
  and the kernel is compiled without fused multiply-add, so the spikes and membranes are meant
  to be bit-identical to stepping on the same device (shown in the interpreter; the test on a
  GPU is pending). ``T`` is a compile-time constant: one compilation per sequence length.
* backward: ``u_t = d_t g_t + A_t u_{t+1}`` from ``t = T-1`` down (``d_t`` the surrogate
  derivative at ``v_t - theta``, computed in the kernel for the five core surrogates or passed
  in, ``A_t`` the reset's carry), the same recurrence as the native CPU kernel.

Served: CUDA tensors in float32/float64 with scalar threshold and decay (the modules'
defaults), when Triton imports and ``SPIKINGTORCH_TRITON=1`` is set. **Opt-in for now:** the
kernels have been tested in Triton's interpreter (``tests/neurons/test_triton_scan.py``) but
not yet compiled on a GPU, so by default CUDA scans run eagerly. :func:`triton_status` says
which; a kernel that fails to compile on the device falls back to the eager scans, with the
reason in the status. The scalars travel in a small tensor of the input's dtype, so
float64 keeps double-precision constants (Triton would pass a Python float as float32).
"""

from __future__ import annotations

import importlib
import math
import os
import sys
import threading
from typing import Any

import torch
from torch import Tensor

from spikingtorch_neurons.functional._native import (
    backward_operands,
    forward_operands,
    kernel_serves,
)

__all__ = ["applies", "triton_lif_backward", "triton_lif_forward", "triton_status"]

#: Neurons per program (one program loops over all ``T`` steps of its block).
BLOCK = 512
_RESET_CODES = {"zero": 0, "subtract": 1, "none": 2}
# the backward's carry from step t + 1 to t (as in _native_scan.c)
_CARRY_ZERO_DS, _CARRY_ZERO, _CARRY_SUBTRACT_DS, _CARRY_PLAIN = 0, 1, 2, 3

_KERNELS_MODULE = "spikingtorch_neurons.functional._triton_kernels"
_lock = threading.Lock()
_state: dict[str, Any] = {"kernels": None, "status": None}


def _build() -> tuple[Any, Any]:
    """Import the two kernels (Triton is imported there, so importing this module never
    needs it); a fresh import after :func:`_reset_for_tests`."""
    sys.modules.pop(_KERNELS_MODULE, None)
    module = importlib.import_module(_KERNELS_MODULE)
    if module.IMPORT_ERROR is not None:
        raise module.IMPORT_ERROR
    return module.lif_fwd, module.lif_bwd


def _kernels() -> tuple[Any, Any] | None:
    """The compiled-on-demand kernels, or ``None`` (the reason is in :func:`triton_status`)."""
    if _state["status"] is not None:
        return _state["kernels"]
    with _lock:
        if _state["status"] is None:
            if os.environ.get("SPIKINGTORCH_TRITON", "0").strip().lower() not in ("1", "on"):
                _state["status"] = (
                    "disabled (opt-in while not yet validated on a GPU: SPIKINGTORCH_TRITON=1)"
                )
            else:
                try:
                    _state["kernels"] = _build()
                    _state["status"] = "enabled"
                except ImportError as exc:
                    _state["status"] = f"unavailable: {exc}"
                if _state["kernels"] is not None and torch.cuda.is_available():
                    # compile one variant now (status is already set, so no recursion here):
                    # a broken toolchain makes the scans fall back to eager, not fail
                    try:
                        x = torch.ones(2, 3, device="cuda")
                        triton_lif_forward(x, None, None, 1.5, 0.5, "zero", True)
                    except Exception as exc:  # any compiler or driver error
                        _state["kernels"] = None
                        _state["status"] = (
                            f"unavailable: the kernels failed on CUDA: {type(exc).__name__}: "
                            f"{str(exc).strip()[:300]}"
                        )
        return _state["kernels"]


def triton_status() -> str:
    """``"enabled"``, ``"disabled (...)"`` or ``"unavailable: <why>"`` for the CUDA scans.

    Example:
        >>> triton_status().split()[0] in ("enabled", "disabled", "unavailable:")
        True
    """
    _kernels()
    return str(_state["status"])


def _reset_for_tests() -> None:
    with _lock:
        _state["kernels"], _state["status"] = None, None


def applies(x: Tensor, threshold: Any, decay: Any) -> bool:
    """Whether a scan over ``x`` with these parameters runs in the Triton kernels."""
    return kernel_serves(x, threshold, decay, "cuda") and _kernels() is not None


def _constants(like: Tensor, *values: float) -> Tensor:
    return torch.tensor(values, dtype=like.dtype, device=like.device)


def _grid(m: int) -> tuple[int]:
    return (math.ceil(m / BLOCK),)


def triton_lif_forward(
    drive: Tensor,
    v0: Tensor | None,
    s0: Tensor | None,
    threshold: float,
    decay: float | None,
    reset: str,
    keep_membranes: bool,
    last_spikes: bool = False,
) -> tuple[Tensor, Tensor | None, Tensor, Tensor | None]:
    """``(spikes, v_seq or None, v_last, s_last or None)`` for ``drive`` ``(T, N, *F)``;
    ``v0``/``s0`` ``None`` start at rest (the same contract as the native CPU kernel)."""
    kernels = _kernels()
    assert kernels is not None
    ops = forward_operands(drive, v0, s0, keep_membranes)
    n_steps = ops.drive.shape[0]
    m = ops.drive.numel() // n_steps
    consts = _constants(ops.drive, 1.0 if decay is None else float(decay), float(threshold))
    unread = ops.drive  # for the pointers the kernel does not read (a constexpr says so)
    kernels[0][_grid(m)](
        ops.drive, ops.v0 if ops.v0 is not None else unread,
        ops.s0 if ops.s0 is not None else unread, consts, ops.spikes,
        ops.v_seq if ops.v_seq is not None else ops.spikes, ops.v_last, m, N_STEPS=n_steps,
        HAS_V0=ops.v0 is not None, HAS_S0=ops.s0 is not None, HAS_DECAY=decay is not None,
        RESET=_RESET_CODES[reset], RECORD=ops.v_seq is not None, BLOCK=BLOCK,
        enable_fp_fusion=False,
    )  # fmt: skip
    s_last = ops.spikes[-1].clone() if last_spikes else None
    return ops.spikes, ops.v_seq, ops.v_last, s_last


def triton_lif_backward(
    v_seq: Tensor,
    g_spikes: Tensor | None,
    g_v_last: Tensor | None,
    threshold: float,
    decay: float | None,
    reset: str,
    detach_reset: bool,
    surrogate: Any,
) -> Tensor:
    """``u_t = dL/dv_t`` for all ``t`` (``(T, N, *F)``), as the native CPU kernel computes it."""
    kernels = _kernels()
    assert kernels is not None
    ops = backward_operands(v_seq, g_spikes, g_v_last, threshold, surrogate)
    n_steps = ops.v_seq.shape[0]
    m = ops.v_seq.numel() // n_steps
    if reset == "zero":
        carry = _CARRY_ZERO if detach_reset else _CARRY_ZERO_DS
    elif reset == "subtract" and not detach_reset:
        carry = _CARRY_SUBTRACT_DS
    else:
        carry = _CARRY_PLAIN
    consts = _constants(
        ops.v_seq, 1.0 if decay is None else float(decay), float(threshold), ops.surrogate_param
    )
    unread = ops.v_seq  # for the pointers the kernel does not read (a constexpr says so)
    kernels[1][_grid(m)](
        ops.v_seq, ops.g_spikes if ops.g_spikes is not None else unread,
        ops.g_v_last if ops.g_v_last is not None else unread,
        ops.d_given if ops.d_given is not None else unread, consts, ops.g_v, m,
        (n_steps - 1) * m, N_STEPS=n_steps, HAS_GS=ops.g_spikes is not None,
        HAS_GVLAST=ops.g_v_last is not None, SURROGATE=ops.surrogate_code, CARRY=carry,
        BLOCK=BLOCK, enable_fp_fusion=False,
    )  # fmt: skip
    return ops.g_v
