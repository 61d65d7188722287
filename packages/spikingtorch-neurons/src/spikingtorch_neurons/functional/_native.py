"""The native CPU kernel behind the fused IF/LIF scans: built on first use, optional.

Eager PyTorch runs a scan as two or three whole-tensor operations per time step; on CPU with
the small feature maps of typical SNNs that is bound by memory traffic and dispatch, not by
arithmetic. ``_native_scan.c`` runs the recurrence in one pass: each element's state stays
in a register-sized block while the loop runs over time, so every input is read once and every
output written once (forward and backward). The results are those of the eager scan: the
forward bit for bit (compiled with ``-ffp-contract=off``, so every product and sum rounds where
:func:`~spikingtorch_neurons.functional.lif_step` rounds), the backward to rounding.
``-fno-trapping-math`` lets the compiler turn the reset's select into vector blends (the
kernel never reads the floating-point exception flags; values and rounding are unchanged).

There are two backwards: ``st_lif_backward`` reads the membranes the forward wrote, and
``st_lif_backward_recompute`` (used by :class:`~spikingtorch_neurons.functional.scan._NativeScan`,
the training path for the core surrogates) recomputes them from the saved input, block by
block, so that the forward writes only the spikes.

The source is plain C on raw pointers (no Python or torch headers), compiled once per
machine with the system C compiler (``$CC``, else ``cc``, ``gcc`` or ``clang``; well under a
second) into ``$SPIKINGTORCH_CACHE_DIR/kernels`` (default ``~/.cache/spikingtorch/kernels``,
or ``$XDG_CACHE_HOME/spikingtorch/kernels``) and loaded with :mod:`ctypes`. The library's
name carries a hash of the source, the flags, the compiler and the platform, so an upgrade or
another machine builds its own.

``SPIKINGTORCH_NATIVE`` selects the behaviour:

* ``auto`` (default): use the kernel when it builds; otherwise the eager scans run (same
  results, slower) and :func:`native_status` says why.
* ``0`` / ``off``: never build or use it.
* ``1`` / ``on``: require it; a scan that would use it raises ``RuntimeError`` with the
  compiler's message when it cannot be built.

It serves CPU tensors of float32/float64 whose threshold and decay are Python numbers (the
modules' defaults); other cases (CUDA, reduced precision, per-neuron or trainable
parameters) take the eager scan.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import Tensor

__all__ = [
    "SURROGATE_CODES",
    "forward_from_rest",
    "native_available",
    "native_lif_backward",
    "native_lif_forward",
    "native_status",
]

_SOURCE = Path(__file__).with_name("_native_scan.c")
_FLAGS = ("-O3", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math", "-fno-trapping-math")
_ABI_VERSION = 4
RESET_CODES = {"zero": 0, "subtract": 1, "none": 2}

#: Surrogate classes whose derivative the kernel computes itself, by ``(module, class)`` name,
#: with the attribute holding their one parameter. Others (plugins, subclasses) pass ``d_t``
#: computed by their own ``derivative`` method.
SURROGATE_CODES: dict[tuple[str, str], tuple[int, str | None]] = {
    ("spikingtorch.surrogate", "FastSigmoid"): (1, "slope"),
    ("spikingtorch.surrogate", "Sigmoid"): (2, "slope"),
    ("spikingtorch.surrogate", "ATan"): (3, "alpha"),
    ("spikingtorch.surrogate", "Triangle"): (4, "width"),
    ("spikingtorch.surrogate", "StraightThrough"): (5, None),
}

#: Below this many elements per sequence (``T * M``) the kernel runs on one thread: starting
#: a thread costs more than it saves.
PARALLEL_MIN_ELEMENTS = 1 << 16

_lock = threading.Lock()
_state: dict[str, Any] = {"lib": None, "status": None, "fns": {}}


def _mode() -> str:
    value = os.environ.get("SPIKINGTORCH_NATIVE", "auto").strip().lower()
    if value in ("", "auto"):
        return "auto"
    if value in ("0", "off", "false", "no"):
        return "off"
    if value in ("1", "on", "true", "yes"):
        return "on"
    raise ValueError(f"SPIKINGTORCH_NATIVE must be 'auto', '0'/'off' or '1'/'on', got {value!r}")


def _cache_dir() -> Path:
    root = os.environ.get("SPIKINGTORCH_CACHE_DIR")
    if root:
        return Path(root) / "kernels"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "spikingtorch" / "kernels"


def _compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name:
            found = shutil.which(name)
            if found:
                return found
    return None


def _library_suffix() -> str:
    if sys.platform == "win32":
        return ".dll"
    return ".dylib" if sys.platform == "darwin" else ".so"


def _openmp_runtimes() -> set[str]:
    """Paths of the OpenMP runtimes mapped into this process (Linux; empty elsewhere)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            lines = maps.read().splitlines()
    except OSError:
        return set()
    names = ("libgomp", "libiomp", "libomp")
    paths = {line.split()[-1] for line in lines if "/" in line}
    return {p for p in paths if os.path.basename(p).startswith(names)}


def _build(compiler: str, flags: tuple[str, ...]) -> Path:
    """Compile the kernel with ``flags`` (or find it compiled) and return the library's path."""
    source = _SOURCE.read_bytes()
    key = hashlib.sha256()
    for part in (source, " ".join(flags).encode(), compiler.encode(), platform.platform().encode()):
        key.update(part)
        key.update(b"\0")
    target = _cache_dir() / f"spikingtorch_scan_{key.hexdigest()[:16]}{_library_suffix()}"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # build into a private file, then rename: concurrent processes never load a partial file
    fd, tmp_name = tempfile.mkstemp(suffix=_library_suffix(), dir=target.parent)
    os.close(fd)
    try:
        proc = subprocess.run(
            [compiler, *flags, "-o", tmp_name, str(_SOURCE), "-lm"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"{compiler} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}"
            )
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return target


def _open(compiler: str) -> tuple[ctypes.CDLL, Path, str]:
    """Build and load the OpenMP variant when it shares torch's OpenMP runtime, else the
    POSIX-threads one. Returns ``(library, path, threading)``."""
    errors = []
    if torch.backends.openmp.is_available():
        before = _openmp_runtimes()
        try:
            path = _build(compiler, (*_FLAGS, "-fopenmp"))
            lib = ctypes.CDLL(str(path))
            # a second OpenMP runtime would start its own threads next to torch's
            if len(_openmp_runtimes()) <= max(1, len(before)):
                return lib, path, "openmp"
            errors.append("its OpenMP runtime is not torch's")
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            errors.append(str(exc))
    path = _build(compiler, (*_FLAGS, "-pthread"))
    return ctypes.CDLL(str(path)), path, "pthreads" + (f" (OpenMP: {errors[0]})" if errors else "")


def _declare(lib: ctypes.CDLL) -> dict[torch.dtype, tuple[Any, Any, Any]]:
    """Declare the kernels' signatures; returns ``{dtype: (forward, backward,
    backward_recompute)}``."""
    ptr, i64, i32 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int
    fns = {}
    for dtype, suffix, real in (
        (torch.float32, "f32", ctypes.c_float),
        (torch.float64, "f64", ctypes.c_double),
    ):
        fwd = getattr(lib, f"st_lif_forward_{suffix}")
        fwd.restype = None
        fwd.argtypes = [ptr] * 7 + [i64, i64, real, i32, real, i32, i32]
        bwd = getattr(lib, f"st_lif_backward_{suffix}")
        bwd.restype = None
        bwd.argtypes = [ptr] * 5 + [i64, i64, real, i32, real, i32, i32, i32, real, i32]
        bwdx = getattr(lib, f"st_lif_backward_recompute_{suffix}")
        bwdx.restype = i32
        bwdx.argtypes = [ptr] * 6 + [i64, i64, real, i32, real, i32, i32, i32, real, i32]
        fns[dtype] = (fwd, bwd, bwdx)
    return fns


def _load() -> ctypes.CDLL | None:
    """The loaded library, building it on the first call; ``None`` when unavailable."""
    if _state["status"] is not None:
        return _state["lib"]
    with _lock:
        if _state["status"] is not None:
            return _state["lib"]
        mode = _mode()
        lib = None
        fns: dict[torch.dtype, tuple[Any, Any, Any]] = {}
        if mode == "off":
            status = "disabled (SPIKINGTORCH_NATIVE=0)"
        else:
            compiler = _compiler()
            if compiler is None:
                status = "unavailable: no C compiler found (set CC, or install cc/gcc/clang)"
            else:
                try:
                    lib, path, threading_kind = _open(compiler)
                    fns = _declare(lib)
                    version = lib.st_native_abi_version()
                    if version != _ABI_VERSION:
                        raise RuntimeError(f"ABI version {version}, expected {_ABI_VERSION}")
                    status = f"enabled ({path}; {threading_kind})"
                except (OSError, RuntimeError, subprocess.SubprocessError, AttributeError) as exc:
                    lib, fns = None, {}
                    status = f"unavailable: building the kernel failed: {exc}"
        _state["lib"], _state["status"], _state["fns"] = lib, status, fns
        return lib


def native_status() -> str:
    """Whether the native scan kernel is in use, and if not, why (builds it if needed).

    Example:
        >>> native_status().split()[0] in ("enabled", "disabled", "unavailable:")
        True
    """
    _load()
    return str(_state["status"])


def native_available() -> bool:
    """Whether the kernel is built and enabled; raises when ``SPIKINGTORCH_NATIVE=1`` and it
    cannot be."""
    lib = _load()
    if lib is None and _mode() == "on":
        raise RuntimeError(f"SPIKINGTORCH_NATIVE=1 but the native scan kernel is {native_status()}")
    return lib is not None


def _reset_cache_for_tests() -> None:
    """Forget the loaded library and its status (the next scan looks again)."""
    with _lock:
        _state["lib"], _state["status"], _state["fns"] = None, None, {}


def kernel_serves(x: Tensor, threshold: Any, decay: Any, device_type: str) -> bool:
    """Whether a one-pass kernel for ``device_type`` can take this scan: float32/float64 on
    that device, scalar threshold and decay, a non-empty ``(T, N, *F)`` input."""
    if x.device.type != device_type or x.dtype not in (torch.float32, torch.float64):
        return False
    if isinstance(threshold, Tensor) or isinstance(decay, Tensor):
        return False
    return x.dim() >= 2 and x.numel() > 0


def applies(x: Tensor, threshold: Any, decay: Any) -> bool:
    """Whether a scan over ``x`` with these parameters can run in the kernel."""
    return kernel_serves(x, threshold, decay, "cpu") and native_available()


def threads_for(elements: int) -> int:
    """The kernel threads for a scan over ``elements`` (``T * M``) values."""
    if elements < PARALLEL_MIN_ELEMENTS:
        return 1
    return max(1, min(torch.get_num_threads(), elements // PARALLEL_MIN_ELEMENTS))


def loaded_kernels(dtype: torch.dtype) -> tuple[Any, Any, Any] | None:
    """``(forward, backward, backward_recompute)`` for ``dtype``, building the library on the
    first call; ``None`` when it is unavailable or does not serve ``dtype``."""
    fns = _state["fns"].get(dtype)
    if fns is None and _state["status"] is None:
        native_available()
        fns = _state["fns"].get(dtype)
    return fns


def _ptr(t: Tensor | None) -> int | None:
    return None if t is None else t.data_ptr()


def _kernels_for(dtype: torch.dtype) -> tuple[Any, Any, Any]:
    """The loaded ``(forward, backward, backward_recompute)`` ctypes functions for ``dtype``."""
    fns = _state["fns"]
    if not fns:
        _load()
        fns = _state["fns"]
    return fns[dtype]


class ForwardOperands(NamedTuple):
    """Contiguous inputs and fresh outputs of a one-pass scan forward (CPU or CUDA kernel)."""

    drive: Tensor
    v0: Tensor | None
    s0: Tensor | None
    spikes: Tensor
    v_seq: Tensor | None
    v_last: Tensor
    s_last: Tensor | None


def dense(t: Tensor, dtype: torch.dtype, shape: torch.Size) -> Tensor:
    """``t`` cast to ``dtype``, broadcast to ``shape`` and contiguous (no copy when it is)."""
    if t.dtype != dtype:
        t = t.to(dtype)
    if t.shape != shape:
        t = t.expand(shape)
    return t if t.is_contiguous() else t.contiguous()


def forward_operands(
    drive: Tensor,
    v0: Tensor | None,
    s0: Tensor | None,
    keep_membranes: bool,
    last_spikes: bool = False,
) -> ForwardOperands:
    """The kernels' forward operands: ``(T, M)``-contiguous drive, ``(M,)`` states (``None``:
    at rest), and outputs allocated like the drive (``v_seq`` when ``keep_membranes``,
    ``s_last``, a copy of the last spike row, when ``last_spikes``)."""
    if not drive.is_contiguous():
        drive = drive.contiguous()
    step_shape = drive.shape[1:]
    if v0 is not None:
        v0 = dense(v0, drive.dtype, step_shape)
    if s0 is not None:
        s0 = dense(s0, drive.dtype, step_shape)
    spikes = torch.empty_like(drive)
    v_seq = torch.empty_like(drive) if keep_membranes else None
    v_last = drive.new_empty(step_shape)
    s_last = drive.new_empty(step_shape) if last_spikes else None
    return ForwardOperands(drive, v0, s0, spikes, v_seq, v_last, s_last)


class BackwardOperands(NamedTuple):
    """Contiguous inputs and the fresh output of a one-pass scan backward."""

    v_seq: Tensor
    g_spikes: Tensor | None
    g_v_last: Tensor | None
    surrogate_code: int
    surrogate_param: float
    d_given: Tensor | None
    g_v: Tensor


def backward_operands(
    v_seq: Tensor,
    g_spikes: Tensor | None,
    g_v_last: Tensor | None,
    threshold: float,
    surrogate: Any,
) -> BackwardOperands:
    """The kernels' backward operands; ``d_given`` holds the surrogate derivative when the
    kernel does not know the surrogate (code 0), computed by the surrogate itself."""
    dtype = v_seq.dtype
    if not v_seq.is_contiguous():
        v_seq = v_seq.contiguous()
    if g_spikes is not None:
        g_spikes = dense(g_spikes, dtype, v_seq.shape)
    if g_v_last is not None:
        g_v_last = dense(g_v_last, dtype, v_seq.shape[1:])
    code, param = surrogate_code(surrogate)
    d_given = None
    if code == 0:
        d_given = surrogate.derivative_(v_seq - threshold).to(dtype).contiguous()
    return BackwardOperands(
        v_seq, g_spikes, g_v_last, code, param, d_given, torch.empty_like(v_seq)
    )


def launch_forward(
    fn: Any,
    drive: Tensor,
    v0: Tensor | None,
    s0: Tensor | None,
    spikes: Tensor,
    v_seq: Tensor | None,
    v_last: Tensor,
    s_last: Tensor | None,
    n_steps: int,
    threshold: float,
    decay: float | None,
    reset: str,
) -> None:
    """Run the forward kernel ``fn`` on prepared operands (``drive`` holds ``n_steps`` rows)."""
    elements = drive.numel()
    fn(
        drive.data_ptr(),
        _ptr(v0),
        _ptr(s0),
        spikes.data_ptr(),
        _ptr(v_seq),
        v_last.data_ptr(),
        _ptr(s_last),
        n_steps,
        elements // n_steps,
        1.0 if decay is None else decay,
        decay is not None,
        threshold,
        RESET_CODES[reset],
        threads_for(elements),
    )


def native_lif_forward(
    drive: Tensor,
    v0: Tensor | None,
    s0: Tensor | None,
    threshold: float,
    decay: float | None,
    reset: str,
    keep_membranes: bool,
    last_spikes: bool = False,
) -> tuple[Tensor, Tensor | None, Tensor, Tensor | None]:
    """``(spikes, v_seq or None, v_last, s_last or None)`` for ``drive`` ``(T, N, *F)`` (see
    the C source); ``v0``/``s0`` ``None`` start at rest. ``s_last`` (with ``last_spikes``) is
    the last spike row in its own memory, for a state that must not keep the spikes alive."""
    ops = forward_operands(drive, v0, s0, keep_membranes, last_spikes)
    launch_forward(
        _kernels_for(ops.drive.dtype)[0], ops.drive, ops.v0, ops.s0, ops.spikes, ops.v_seq,
        ops.v_last, ops.s_last, ops.drive.shape[0], threshold, decay, reset,
    )  # fmt: skip
    return ops.spikes, ops.v_seq, ops.v_last, ops.s_last


def _fits(buffers: tuple[Tensor, ...], x: Tensor, shape: tuple[int, ...]) -> bool:
    """Whether two recycled state tensors can take a scan's last state over ``x``."""
    return len(buffers) == 2 and all(
        b.dtype == x.dtype and b.is_cpu and b.is_contiguous() and tuple(b.shape) == shape
        for b in buffers
    )


def forward_from_rest(
    x: Tensor,
    threshold: Any,
    decay: Any,
    reset: str,
    merged_steps: int | None = None,
    state_buffers: tuple[Tensor, ...] | None = None,
) -> tuple[Tensor, Tensor, Tensor] | None:
    """``(spikes, v_last, s_last)`` of a scan from rest without autograd, or ``None`` when the
    kernel does not serve it (not built yet, not a contiguous float32/float64 CPU tensor, a
    tensor threshold or decay, an empty input). ``x`` is ``(T, N, *F)``, or the time-merged
    ``(T*N, *F)`` with ``merged_steps=T`` (the spikes then come back in that layout).
    ``state_buffers`` ``(v, s)``, when they fit (shape, dtype, contiguous CPU tensors), receive
    ``v_last`` and ``s_last`` instead of new tensors: the caller guarantees that nothing else
    holds them.

    The no-grad fast path of sequence mode: the same kernel launch as
    :func:`native_lif_forward` with the checks and allocations inline. Right after a
    convolution has streamed megabytes through the caches, each extra Python call and tensor
    operation here costs several times what it costs in a hot loop.
    """
    fns = _state["fns"].get(x.dtype)
    if (
        fns is None
        or not x.is_cpu
        or not x.is_contiguous()
        or isinstance(threshold, Tensor)
        or isinstance(decay, Tensor)
        or x.dim() < 2
    ):
        return None
    if x.numel() == 0:
        return None
    if merged_steps is None:
        n_steps, step_shape = x.shape[0], tuple(x.shape[1:])
    else:
        n_steps, step_shape = merged_steps, (x.shape[0] // merged_steps, *x.shape[1:])
    spikes = torch.empty_like(x)
    if state_buffers is not None and _fits(state_buffers, x, step_shape):
        v_last, s_last = state_buffers
    else:
        v_last = x.new_empty(step_shape)
        s_last = x.new_empty(step_shape)
    launch_forward(
        fns[0], x, None, None, spikes, None, v_last, s_last, n_steps, threshold, decay, reset
    )
    return spikes, v_last, s_last


def surrogate_code(surrogate: Any) -> tuple[int, float]:
    """The kernel's code and parameter for ``surrogate``, or ``(0, 0.0)`` when it is not one
    of the core classes (its derivative is then computed by the surrogate itself)."""
    cls = type(surrogate)
    entry = SURROGATE_CODES.get((cls.__module__, cls.__qualname__))
    if entry is None:
        return 0, 0.0
    code, attr = entry
    return code, 0.0 if attr is None else float(getattr(surrogate, attr))


def native_lif_backward(
    v_seq: Tensor,
    g_spikes: Tensor | None,
    g_v_last: Tensor | None,
    threshold: float,
    decay: float | None,
    reset: str,
    detach_reset: bool,
    surrogate: Any,
) -> Tensor:
    """``u_t = dL/dv_t`` for all ``t`` (``(T, N, *F)``), as the eager chunked backward."""
    ops = backward_operands(v_seq, g_spikes, g_v_last, threshold, surrogate)
    n_steps = ops.v_seq.shape[0]
    m = ops.v_seq.numel() // n_steps
    _kernels_for(ops.v_seq.dtype)[1](
        ops.v_seq.data_ptr(),
        _ptr(ops.g_spikes),
        _ptr(ops.g_v_last),
        _ptr(ops.d_given),
        ops.g_v.data_ptr(),
        n_steps,
        m,
        1.0 if decay is None else decay,
        decay is not None,
        threshold,
        RESET_CODES[reset],
        detach_reset,
        ops.surrogate_code,
        ops.surrogate_param,
        threads_for(n_steps * m),
    )
    return ops.g_v
