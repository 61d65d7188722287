"""The Triton kernels behind ``_triton_scan`` (defined only where Triton imports).

Kept in a module of their own: Triton resolves ``tl`` through the kernels' module globals, and
decides at decoration time whether they are compiled or interpreted (``TRITON_INTERPRET=1``),
so the tests re-import this module to switch. See ``_triton_scan`` for the equations.
"""

# mypy: ignore-errors
# (no type stubs for Triton; its JIT reads the parameters' annotations itself)

try:
    import triton
    import triton.language as tl
except ImportError as exc:  # importable without Triton (doctest collection, CPU installs)
    IMPORT_ERROR = exc
else:
    IMPORT_ERROR = None

__all__ = ["IMPORT_ERROR", "lif_bwd", "lif_fwd"]


if IMPORT_ERROR is None:

    @triton.jit
    def lif_fwd(
        x_ptr, v0_ptr, s0_ptr, const_ptr, spikes_ptr, vseq_ptr, vlast_ptr, m,
        N_STEPS: tl.constexpr, HAS_V0: tl.constexpr, HAS_S0: tl.constexpr, HAS_DECAY: tl.constexpr,
        RESET: tl.constexpr, RECORD: tl.constexpr, BLOCK: tl.constexpr,
    ):  # fmt: skip
        offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < m
        decay = tl.load(const_ptr)
        theta = tl.load(const_ptr + 1)
        zero = tl.zeros([BLOCK], dtype=decay.dtype)
        v = tl.load(v0_ptr + offs, mask=mask, other=0.0) if HAS_V0 else zero
        s = tl.load(s0_ptr + offs, mask=mask, other=0.0) if HAS_S0 else zero
        x_ptrs = x_ptr + offs  # 64-bit offsets; each step moves the pointers by m
        s_ptrs = spikes_ptr + offs
        v_ptrs = vseq_ptr + offs
        for _ in tl.range(0, N_STEPS):
            x = tl.load(x_ptrs, mask=mask, other=0.0)
            if RESET == 0:
                r = v * (1.0 - s)  # exact: s is 0 or 1
            elif RESET == 1:
                r = v - theta * s  # theta * s is exact
            else:
                r = v
            if HAS_DECAY:
                r = decay * r
            v = r + x
            s = tl.where(v > theta, 1.0, 0.0).to(decay.dtype)
            tl.store(s_ptrs, s, mask=mask)
            if RECORD:
                tl.store(v_ptrs, v, mask=mask)
            x_ptrs += m
            s_ptrs += m
            v_ptrs += m
        tl.store(vlast_ptr + offs, v, mask=mask)

    @triton.jit
    def lif_bwd(
        vseq_ptr, gs_ptr, gvlast_ptr, d_ptr, const_ptr, gv_ptr, m, last,
        N_STEPS: tl.constexpr, HAS_GS: tl.constexpr, HAS_GVLAST: tl.constexpr,
        SURROGATE: tl.constexpr, CARRY: tl.constexpr, BLOCK: tl.constexpr,
    ):  # fmt: skip
        offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < m
        decay = tl.load(const_ptr)
        theta = tl.load(const_ptr + 1)
        k = tl.load(const_ptr + 2)
        zero = tl.zeros([BLOCK], dtype=decay.dtype)
        u = tl.load(gvlast_ptr + offs, mask=mask, other=0.0) if HAS_GVLAST else zero
        at = offs + last  # step T-1 first; each step moves the pointers back by m
        v_ptrs = vseq_ptr + at
        g_ptrs = gs_ptr + at
        d_ptrs = d_ptr + at
        out_ptrs = gv_ptr + at
        for i in tl.range(0, N_STEPS):
            v = tl.load(v_ptrs, mask=mask, other=0.0)
            h = v - theta
            if SURROGATE == 0:
                d = tl.load(d_ptrs, mask=mask, other=0.0)
            elif SURROGATE == 1:  # fast sigmoid: 1 / (1 + k |h|)^2
                q = 1.0 + k * tl.abs(h)
                d = 1.0 / (q * q)
            elif SURROGATE == 2:  # sigmoid: k sig(k h) (1 - sig(k h))
                sig = 1.0 / (1.0 + tl.exp(-k * h))
                d = k * sig * (1.0 - sig)
            elif SURROGATE == 3:  # arctan: (k / 2) / (1 + (pi / 2 k h)^2)
                z = 1.5707963267948966 * k * h
                d = (k / 2.0) / (1.0 + z * z)
            elif SURROGATE == 4:  # triangle: max(0, 1 - |h| / k) / k
                d = tl.maximum(1.0 - tl.abs(h) / k, 0.0) / k
            else:  # straight-through
                d = zero + 1.0
            if i > 0:  # u <- A_t u_{t+1}; the spike s_t = [v_t > theta] decides the reset
                if CARRY == 0:
                    u = decay * (tl.where(v > theta, 0.0, 1.0) - d * v) * u
                elif CARRY == 1:
                    u = tl.where(v > theta, 0.0, decay * u)
                elif CARRY == 2:
                    u = decay * (1.0 - theta * d) * u
                else:
                    u = decay * u
            if HAS_GS:
                u = d * tl.load(g_ptrs, mask=mask, other=0.0) + u
            tl.store(out_ptrs, u.to(decay.dtype), mask=mask)
            v_ptrs -= m
            g_ptrs -= m
            d_ptrs -= m
            out_ptrs -= m
