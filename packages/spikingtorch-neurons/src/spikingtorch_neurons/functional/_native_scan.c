/*
 * Native CPU kernels for the fused IF/LIF scans of spikingtorch_neurons.
 *
 * Built on first use by _native.py with the system C compiler (no Python or torch headers:
 * plain C on raw pointers, called through ctypes). Compile with -ffp-contract=off: the
 * forward must round exactly where spikingtorch_neurons.functional.lif_step rounds, so no
 * multiply-add may be fused. Compile with -fno-trapping-math as well: with trapping math GCC
 * keeps the reset's selects as branches and does not vectorize the forward loops (about 12x
 * slower); nothing here reads the floating-point exception flags.
 *
 * Layout: every sequence is time-first and contiguous, (T, M) with M = N * prod(F); the state
 * tensors are (M,) (NULL: at rest). Work is split over M (each element's recurrence is
 * independent) into blocks of BLOCK elements whose membranes stay in a local array (in L1)
 * while the loop runs over time, so every input element is read once and every output written
 * once. The array holds the membrane after the reset (reset at the end of a step, with the
 * spike still in a register), so nothing is read back from the rows already written: the
 * loops are bound by loads and stores, not by arithmetic. Blocks are long (BLOCK * sizeof(T)
 * bytes per row): rows of one tensor lie M elements apart, and short blocks make the row
 * streams collide in the same cache sets. Each block row is a jump of M elements, which the
 * hardware prefetchers only pick up after several misses, so the backward's row loops
 * prefetch, span by span, the rows their successor will touch (the next step's rows, or the
 * next block's first ones): in a training step its data arrive from memory, and this makes it
 * about a fifth faster there. The forward does without: its reads follow the conv that just
 * wrote them, and prefetching there measured slower on the MLP at T = 32.
 *
 * Forward, per element (a = decay, or 1 for the IF):
 *     r_t = v_{t-1} (1 - s_{t-1})        reset "zero"
 *         = v_{t-1} - theta s_{t-1}      reset "subtract"
 *         = v_{t-1}                      reset "none"
 *     v_t = a r_t + x_t,   s_t = [v_t > theta]
 *
 * Backward, with u_t = dL/dv_t, d_t the surrogate derivative at h_t = v_t - theta, g_t the
 * gradient arriving at s_t and A_t = a (dr/dv + d_t dr/ds) evaluated at (v_t, s_t):
 *     u_{T-1} = d_{T-1} g_{T-1} + dL/dv_{T-1} (the gradient of the returned last membrane)
 *     u_t     = d_t g_t + A_t u_{t+1}
 * where (dr/dv, dr/ds) = (1 - s, -v) for "zero", (1, -theta) for "subtract", (1, 0) for
 * "none"; detach_reset drops dr/ds.
 *
 * Two backwards take the membranes from different places. st_lif_backward reads v_t from the
 * v_seq the forward wrote. st_lif_backward_recompute reads the input x_t instead (which the
 * caller keeps anyway) and runs the forward recurrence again, block by block, into a buffer
 * of T * nb values (nb <= BLOCK elements, the buffer at most RECOMPUTE_BYTES when T allows)
 * before the reverse pass over the same block: the same operations in the same order, so the
 * same bits as the forward's membranes. The forward then writes only the spikes, one output
 * stream instead of two, and no (T, M) membrane tensor lives until the backward.
 *
 * The type-generic part below the first #else is compiled twice (float, double) by
 * including this file into itself (by its own name: quotes search its directory first).
 */
#ifndef ST_SCAN_BODY

#include <math.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>

#ifndef BLOCK
#define BLOCK 1024
#endif
#ifndef RECOMPUTE_BYTES
#define RECOMPUTE_BYTES (128 * 1024)
#endif

enum { RESET_ZERO = 0, RESET_SUBTRACT = 1, RESET_NONE = 2 };
/* The backward's carry from step t + 1 to step t, one per reset mode; at the last step it
 * starts from dL/dv_{T-1} (START) or from nothing (NONE). */
enum { CARRY_ZERO_DS = 0, CARRY_ZERO, CARRY_SUBTRACT_DS, CARRY_PLAIN, CARRY_START, CARRY_NONE };
enum {
    SURR_GIVEN = 0,        /* d_t is passed in */
    SURR_FAST_SIGMOID = 1, /* 1 / (1 + k |h|)^2 */
    SURR_SIGMOID = 2,      /* k sig(k h) (1 - sig(k h)) */
    SURR_ATAN = 3,         /* (k / 2) / (1 + (pi / 2 k h)^2) */
    SURR_TRIANGLE = 4,     /* max(0, 1 - |h| / k) / k */
    SURR_STRAIGHT = 5      /* 1 */
};

/* The block loops are compiled twice on x86-64 with glibc: for AVX2 (8 floats per vector) and
 * for the baseline (SSE2), chosen once at load time by the CPU (an ifunc). Both compute the same
 * IEEE operations in the same order (-ffp-contract=off: no fused multiply-add), so the results
 * are bit-identical; only the vector width differs. ST_NO_CLONES turns this off. */
#if !defined(ST_NO_CLONES) && defined(__x86_64__) && defined(__GLIBC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define ST_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef ST_CLONES
#define ST_CLONES
#endif

int st_native_abi_version(void) { return 4; }

typedef void (*range_fn)(const void *args, int64_t lo, int64_t hi);

/* Split [0, m) into nthreads contiguous ranges of whole grains. */
static void split_range(int64_t m, int k, int nthreads, int64_t *lo, int64_t *hi) {
    const int64_t grain = 64, pieces = (m + grain - 1) / grain;
    const int64_t p0 = pieces * k / nthreads, p1 = pieces * (k + 1) / nthreads;
    *lo = p0 * grain < m ? p0 * grain : m;
    *hi = p1 * grain < m ? p1 * grain : m;
}

#ifdef _OPENMP
/* With OpenMP the work runs on the process's OpenMP pool: loaded after torch, this library's
 * libgomp.so.1 is torch's own, so its (already spinning) workers take the ranges and no
 * extra threads compete for the cores. */
#include <omp.h>

static void parallel_range(range_fn fn, const void *args, int64_t m, int nthreads) {
    if (nthreads <= 1 || m <= 64) {
        fn(args, 0, m);
        return;
    }
#pragma omp parallel num_threads(nthreads)
    {
        int64_t lo, hi;
        split_range(m, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
        if (lo < hi) fn(args, lo, hi);
    }
}

int st_native_openmp(void) { return 1; }

#else /* no OpenMP: POSIX threads started per call */
#include <pthread.h>

#define MAX_THREADS 64

typedef struct {
    range_fn fn;
    const void *args;
    int64_t lo, hi;
} job_t;

static void *run_job(void *p) {
    job_t *job = (job_t *)p;
    if (job->lo < job->hi) job->fn(job->args, job->lo, job->hi);
    return NULL;
}

static void parallel_range(range_fn fn, const void *args, int64_t m, int nthreads) {
    if (nthreads > MAX_THREADS) nthreads = MAX_THREADS;
    if (nthreads <= 1 || m <= 64) {
        fn(args, 0, m);
        return;
    }
    job_t jobs[MAX_THREADS];
    pthread_t threads[MAX_THREADS];
    int started[MAX_THREADS];
    for (int k = 0; k < nthreads; ++k) {
        jobs[k].fn = fn;
        jobs[k].args = args;
        split_range(m, k, nthreads, &jobs[k].lo, &jobs[k].hi);
    }
    for (int k = 1; k < nthreads; ++k)
        started[k] = pthread_create(&threads[k], NULL, run_job, &jobs[k]) == 0;
    run_job(&jobs[0]);
    for (int k = 1; k < nthreads; ++k) {
        if (started[k])
            pthread_join(threads[k], NULL);
        else /* could not start a thread: do its share here */
            run_job(&jobs[k]);
    }
}

int st_native_openmp(void) { return 0; }
#endif

#define ST_SCAN_BODY
#define T_ float
#define FN(name) name##_f32
#define EXP expf
#define FABS fabsf
#include "_native_scan.c"
#undef T_
#undef FN
#undef EXP
#undef FABS
#define T_ double
#define FN(name) name##_f64
#define EXP exp
#define FABS fabs
#include "_native_scan.c"

#else /* ST_SCAN_BODY: the type-generic kernels */

typedef struct {
    const T_ *x, *v0, *s0;
    T_ *spikes, *v_seq, *v_last, *s_last;
    int64_t n_steps, m;
    T_ decay, theta;
    int has_decay, reset;
} FN(fwd_args);

/* One step of one element: v_t from the reset membrane r of the step before. The IF runs
 * with decay 1: 1 * r is r exactly, so it rounds as the IF's r + x. */
static inline __attribute__((always_inline)) T_ FN(fwd_v)(T_ decay, T_ r, T_ x) {
    return decay * r + x;
}

/* The reset of v_t after a spike fire (0 or 1): the value the next step's leak acts on. It
 * is the expression the step computes, r * (1 - s) or r - theta * s with s = fire as 1 or 0,
 * written as a select between the two products (theta0 = theta * 0, hoisted; theta * 0 keeps
 * theta's sign), so every value rounds as in functional.lif_step. */
static inline __attribute__((always_inline)) T_ FN(fwd_reset)(int reset, T_ theta, T_ theta0,
                                                              T_ v, int fire) {
    if (reset == RESET_ZERO) return fire ? v * (T_)0 : v;
    if (reset == RESET_SUBTRACT) return fire ? v - theta : v - theta0;
    return v;
}

/* Steps t (and t + 1 when pair) of one block. r holds each element's membrane after the
 * previous step's reset; the loop reads x, writes the spikes (and the membranes when vo is not
 * NULL) and leaves the reset membrane in r. Nothing is read back from the rows already
 * written, and a pair runs two steps per pass over r, so each step costs one read stream and
 * one or two write streams (stores, not arithmetic, bound these loops). When last is set, the
 * final step's membrane goes to vl (the returned state) instead of r. Inlined with constant
 * reset, pair, last and NULL-ness of vo, so each variant is one branch-free loop. */
static inline __attribute__((always_inline)) void FN(fwd_rows)(
    int reset, int pair, int last, T_ decay, T_ theta, const T_ *restrict x0,
    const T_ *restrict x1, T_ *restrict r, T_ *restrict so0, T_ *restrict so1,
    T_ *restrict vo0, T_ *restrict vo1, T_ *restrict vl, int64_t n) {
    const T_ theta0 = theta * (T_)0;
    for (int64_t i = 0; i < n; ++i) {
        T_ v = FN(fwd_v)(decay, r[i], x0[i]);
        int fire = v > theta;
        so0[i] = fire ? (T_)1 : (T_)0;
        if (vo0) vo0[i] = v;
        if (pair) {
            v = FN(fwd_v)(decay, FN(fwd_reset)(reset, theta, theta0, v, fire), x1[i]);
            fire = v > theta;
            so1[i] = fire ? (T_)1 : (T_)0;
            if (vo1) vo1[i] = v;
        }
        if (last) {
            vl[i] = v;
        } else {
            r[i] = FN(fwd_reset)(reset, theta, theta0, v, fire);
        }
    }
}

/* r_i = the reset of the initial state (v0, s0) of elements b0 .. b0 + n - 1, as a step
 * would reset it; NULL states are at rest. */
static inline __attribute__((always_inline)) void FN(initial_reset)(int reset, T_ theta,
                                                                    const T_ *v0, const T_ *s0,
                                                                    int64_t b0, T_ *restrict r,
                                                                    int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        const T_ v = v0 ? v0[b0 + i] : (T_)0, s = s0 ? s0[b0 + i] : (T_)0;
        if (reset == RESET_ZERO)
            r[i] = v * ((T_)1 - s);
        else if (reset == RESET_SUBTRACT)
            r[i] = v - theta * s;
        else
            r[i] = v;
    }
}

ST_CLONES static void FN(fwd_range)(const void *p, int64_t lo, int64_t hi) {
    const FN(fwd_args) *a = (const FN(fwd_args) *)p;
    const int64_t m = a->m, n_steps = a->n_steps;
    const T_ decay = a->has_decay ? a->decay : (T_)1, theta = a->theta;
    T_ r[BLOCK];
    for (int64_t b0 = lo; b0 < hi; b0 += BLOCK) {
        const int64_t n = hi - b0 < BLOCK ? hi - b0 : BLOCK;
        FN(initial_reset)(a->reset, theta, a->v0, a->s0, b0, r, n);
        T_ *vl = a->v_last + b0, *sl = a->s_last ? a->s_last + b0 : NULL;
        for (int64_t t = 0; t < n_steps;) {
            /* two steps per pass while at least two remain; the last pass ends the sequence */
            const int pair = t + 1 < n_steps, last = t + 1 + pair == n_steps;
            const int64_t next = pair ? m : 0; /* a single last step: the second row unused */
            const T_ *x0 = a->x + t * m + b0, *x1 = x0 + next;
            T_ *so0 = a->spikes + t * m + b0, *so1 = so0 + next;
            T_ *vo0 = a->v_seq ? a->v_seq + t * m + b0 : NULL, *vo1 = vo0 ? vo0 + next : NULL;
#define ST_ROWS(R, P, L)                                                                       \
    do {                                                                                       \
        if (vo0)                                                                               \
            FN(fwd_rows)(R, P, L, decay, theta, x0, x1, r, so0, so1, vo0, vo1, vl, n);         \
        else                                                                                   \
            FN(fwd_rows)(R, P, L, decay, theta, x0, x1, r, so0, so1, NULL, NULL, vl, n);       \
    } while (0)
#define ST_STEP(R)                                                                             \
    do {                                                                                       \
        if (!last) ST_ROWS(R, 1, 0);                                                           \
        else if (pair) ST_ROWS(R, 1, 1);                                                       \
        else ST_ROWS(R, 0, 1);                                                                 \
    } while (0)
            switch (a->reset) {
            case RESET_ZERO: ST_STEP(RESET_ZERO); break;
            case RESET_SUBTRACT: ST_STEP(RESET_SUBTRACT); break;
            default: ST_STEP(RESET_NONE); break;
            }
#undef ST_STEP
#undef ST_ROWS
            t += 1 + pair;
        }
        if (sl) { /* a copy of the last spike row: the state must not view the spikes */
            const T_ *last_row = a->spikes + (n_steps - 1) * m + b0;
            for (int64_t i = 0; i < n; ++i) sl[i] = last_row[i];
        }
    }
}

void FN(st_lif_forward)(const T_ *x, const T_ *v0, const T_ *s0, T_ *spikes, T_ *v_seq,
                        T_ *v_last, T_ *s_last, int64_t n_steps, int64_t m, T_ decay, int has_decay,
                        T_ theta, int reset, int nthreads) {
    FN(fwd_args) a = {x, v0, s0, spikes, v_seq, v_last, s_last, n_steps, m, decay, theta, has_decay,
                      reset};
    parallel_range(FN(fwd_range), &a, m, nthreads);
}

/* d_i = surrogate'(v_i - theta) for one row of n elements (one loop per kind). */
static inline __attribute__((always_inline)) void FN(surrogate_row)(int kind, T_ k, T_ theta, const T_ *restrict v,
                              T_ *restrict d, int64_t n) {
    switch (kind) {
    case SURR_FAST_SIGMOID:
        for (int64_t i = 0; i < n; ++i) {
            const T_ q = (T_)1 + k * FABS(v[i] - theta);
            d[i] = (T_)1 / (q * q);
        }
        break;
    case SURR_SIGMOID:
        for (int64_t i = 0; i < n; ++i) {
            const T_ sig = (T_)1 / ((T_)1 + EXP(-k * (v[i] - theta)));
            d[i] = k * sig * ((T_)1 - sig);
        }
        break;
    case SURR_ATAN:
        for (int64_t i = 0; i < n; ++i) {
            const T_ z = (T_)1.5707963267948966 * k * (v[i] - theta);
            d[i] = (k / (T_)2) / ((T_)1 + z * z);
        }
        break;
    case SURR_TRIANGLE:
        for (int64_t i = 0; i < n; ++i) {
            const T_ q = (T_)1 - FABS(v[i] - theta) / k;
            d[i] = (q > (T_)0 ? q : (T_)0) / k;
        }
        break;
    default:
        for (int64_t i = 0; i < n; ++i) d[i] = (T_)1;
    }
}

typedef struct {
    const T_ *v_seq, *g_spikes, *g_v_last, *d_given;
    T_ *g_v;
    int64_t n_steps, m;
    T_ decay, theta, k;
    int has_decay, reset, detach_reset, surrogate;
} FN(bwd_args);

/* One step of the backward for one block: out = d * g + A_t u_{t+1}, with u_{t+1} read from the
 * gradient row written one step earlier (up; at the last step, dL/dv_{T-1} or nothing). One
 * loop, one store per element. Inlined with constant carry and has_g. */
#ifndef PF_SPAN
#define PF_SPAN 64
#endif
/* Software prefetch of elements [i0, e) of up to three rows a later step reads (pf0, pf1) or
 * writes (pfw); NULL rows are skipped. */
static inline __attribute__((always_inline)) void FN(prefetch)(const T_ *pf0, const T_ *pf1,
                                                               T_ *pfw, int64_t i0, int64_t e) {
    const int64_t line = 64 / (int64_t)sizeof(T_);
    for (int64_t i = i0; i < e; i += line) {
        if (pf0) __builtin_prefetch(pf0 + i, 0, 3);
        if (pf1) __builtin_prefetch(pf1 + i, 0, 3);
        if (pfw) __builtin_prefetch(pfw + i, 1, 3);
    }
}

static inline __attribute__((always_inline)) void FN(bwd_row_span)(
    int carry, int has_g, T_ decay, T_ theta, const T_ *restrict v, const T_ *restrict d,
    const T_ *restrict g, const T_ *restrict up, T_ *restrict out, int64_t i0, int64_t n) {
    for (int64_t i = i0; i < n; ++i) {
        T_ u;
        if (carry == CARRY_ZERO_DS) {
            const T_ keep = v[i] > theta ? (T_)0 : (T_)1;
            u = decay * (keep - d[i] * v[i]) * up[i];
        } else if (carry == CARRY_ZERO) {
            const T_ w = decay * up[i]; /* loaded unconditionally: the select vectorizes */
            u = v[i] > theta ? (T_)0 : w;
        } else if (carry == CARRY_SUBTRACT_DS) {
            u = decay * ((T_)1 - theta * d[i]) * up[i];
        } else if (carry == CARRY_PLAIN) {
            u = decay * up[i];
        } else if (carry == CARRY_START) {
            u = up[i];
        } else {
            u = (T_)0;
        }
        out[i] = has_g ? d[i] * g[i] + u : u;
    }
}

static inline __attribute__((always_inline)) void FN(bwd_row)(
    int carry, int has_g, T_ decay, T_ theta, const T_ *restrict v, const T_ *restrict d,
    const T_ *restrict g, const T_ *restrict up, T_ *restrict out, int64_t n,
    const T_ *pf0, const T_ *pf1, T_ *pfw) {
    for (int64_t i0 = 0; i0 < n; i0 += PF_SPAN) {
        const int64_t e = i0 + PF_SPAN < n ? i0 + PF_SPAN : n;
        FN(prefetch)(pf0, pf1, pfw, i0, e);
        FN(bwd_row_span)(carry, has_g, decay, theta, v, d, g, up, out, i0, e);
    }
}

/* Step t of the backward for one block of n elements starting at b0: u_t into g_v's row t,
 * from the membranes v of that step (the v_seq row, or the recomputed one). */
static inline __attribute__((always_inline)) void FN(bwd_step)(
    const FN(bwd_args) *a, const T_ *restrict v, int64_t t, int64_t b0, int64_t n,
    int carry_mode, T_ decay, T_ *restrict dbuf, const T_ *pf0, const T_ *pf1, T_ *pfw) {
    const int64_t m = a->m;
    const int has_g = a->g_spikes != NULL;
    T_ *out = a->g_v + t * m + b0;
    const T_ *g = has_g ? a->g_spikes + t * m + b0 : NULL;
    const T_ *d = dbuf;
    if (a->d_given) {
        d = a->d_given + t * m + b0;
    } else {
        FN(surrogate_row)(a->surrogate, a->k, a->theta, v, dbuf, n);
    }
    const T_ *up = out + m; /* dL/dv_{t+1}, written one step earlier */
    int carry = carry_mode;
    if (t == a->n_steps - 1) {
        up = a->g_v_last ? a->g_v_last + b0 : NULL;
        carry = up ? CARRY_START : CARRY_NONE;
    }
    const T_ theta = a->theta;
#define ST_BWD(C)                                                                          \
    do {                                                                                   \
        if (has_g)                                                                         \
            FN(bwd_row)(C, 1, decay, theta, v, d, g, up, out, n, pf0, pf1, pfw);                    \
        else                                                                               \
            FN(bwd_row)(C, 0, decay, theta, v, d, g, up, out, n, pf0, pf1, pfw);                    \
    } while (0)
    switch (carry) {
    case CARRY_ZERO_DS: ST_BWD(CARRY_ZERO_DS); break;
    case CARRY_ZERO: ST_BWD(CARRY_ZERO); break;
    case CARRY_SUBTRACT_DS: ST_BWD(CARRY_SUBTRACT_DS); break;
    case CARRY_PLAIN: ST_BWD(CARRY_PLAIN); break;
    case CARRY_START: ST_BWD(CARRY_START); break;
    default: ST_BWD(CARRY_NONE); break;
    }
#undef ST_BWD
}

static int FN(carry_mode)(const FN(bwd_args) *a) {
    const int keep_ds = !a->detach_reset;
    return a->reset == RESET_ZERO ? (keep_ds ? CARRY_ZERO_DS : CARRY_ZERO)
           : a->reset == RESET_SUBTRACT && keep_ds ? CARRY_SUBTRACT_DS
                                                   : CARRY_PLAIN;
}

ST_CLONES static void FN(bwd_range)(const void *p, int64_t lo, int64_t hi) {
    const FN(bwd_args) *a = (const FN(bwd_args) *)p;
    const int64_t m = a->m, n_steps = a->n_steps;
    const T_ decay = a->has_decay ? a->decay : (T_)1;
    const int carry_mode = FN(carry_mode)(a);
    T_ dbuf[BLOCK];
    for (int64_t b0 = lo; b0 < hi; b0 += BLOCK) {
        const int64_t n = hi - b0 < BLOCK ? hi - b0 : BLOCK;
        for (int64_t t = n_steps - 1; t >= 0; --t) {
            const int64_t p = (t > 0 ? t - 1 : t) * m + b0; /* the next step's rows */
            FN(bwd_step)(a, a->v_seq + t * m + b0, t, b0, n, carry_mode, decay, dbuf,
                         t > 0 ? a->v_seq + p : NULL, t > 0 && a->g_spikes ? a->g_spikes + p : NULL,
                         t > 0 ? a->g_v + p : NULL);
        }
    }
}

/* One forward step of one block without outputs: v_t into vo, the reset membrane left in r
 * (the operations of fwd_rows, so the same bits). Inlined with constant reset. */
static inline __attribute__((always_inline)) void FN(recompute_row)(
    int reset, T_ decay, T_ theta, const T_ *restrict x, T_ *restrict r, T_ *restrict vo,
    int64_t n, const T_ *pf0, const T_ *pf1, T_ *pfw) {
    const T_ theta0 = theta * (T_)0;
    for (int64_t i0 = 0; i0 < n; i0 += PF_SPAN) {
        const int64_t e = i0 + PF_SPAN < n ? i0 + PF_SPAN : n;
        FN(prefetch)(pf0, pf1, pfw, i0, e);
        for (int64_t i = i0; i < e; ++i) {
            const T_ v = FN(fwd_v)(decay, r[i], x[i]);
            vo[i] = v;
            r[i] = FN(fwd_reset)(reset, theta, theta0, v, v > theta);
        }
    }
}

/* Elements per block of the recomputing backward: BLOCK while T rows of it fit in
 * RECOMPUTE_BYTES, else fewer (a multiple of 16, at least 16). */
static int64_t FN(recompute_block)(int64_t n_steps) {
    const int64_t row_bytes = n_steps * (int64_t)sizeof(T_);
    int64_t nb = RECOMPUTE_BYTES / (row_bytes > 0 ? row_bytes : 1);
    nb = nb >= BLOCK ? BLOCK : nb & ~(int64_t)15;
    return nb < 16 ? 16 : nb;
}

typedef struct {
    FN(bwd_args) bwd;
    const T_ *x, *v0, *s0;
    int failed; /* a thread could not allocate its membrane buffer */
} FN(bwdx_args);

ST_CLONES static void FN(bwdx_range)(const void *p, int64_t lo, int64_t hi) {
    FN(bwdx_args) *ax = (FN(bwdx_args) *)p;
    const FN(bwd_args) *a = &ax->bwd;
    const int64_t m = a->m, n_steps = a->n_steps, nb = FN(recompute_block)(n_steps);
    const T_ decay = a->has_decay ? a->decay : (T_)1, theta = a->theta;
    const int carry_mode = FN(carry_mode)(a);
    T_ *vbuf = (T_ *)malloc((size_t)(n_steps * nb) * sizeof(T_));
    if (!vbuf) {
        __atomic_store_n(&ax->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    T_ r[BLOCK], dbuf[BLOCK];
    for (int64_t b0 = lo; b0 < hi; b0 += nb) {
        const int64_t n = hi - b0 < nb ? hi - b0 : nb;
        FN(initial_reset)(a->reset, theta, ax->v0, ax->s0, b0, r, n);
        const int64_t last = (n_steps - 1) * m + b0;
        for (int64_t t = 0; t < n_steps; ++t) {
            const T_ *x = ax->x + t * m + b0;
            T_ *vo = vbuf + t * nb;
            /* the rows needed next: x of step t + 1, then g and g_v of the last step */
            const T_ *p0 = t + 1 < n_steps ? x + m : (a->g_spikes ? a->g_spikes + last : NULL);
            T_ *pw = t + 1 < n_steps ? NULL : a->g_v + last;
            switch (a->reset) {
            case RESET_ZERO:
                FN(recompute_row)(RESET_ZERO, decay, theta, x, r, vo, n, p0, NULL, pw);
                break;
            case RESET_SUBTRACT:
                FN(recompute_row)(RESET_SUBTRACT, decay, theta, x, r, vo, n, p0, NULL, pw);
                break;
            default:
                FN(recompute_row)(RESET_NONE, decay, theta, x, r, vo, n, p0, NULL, pw);
                break;
            }
        }
        for (int64_t t = n_steps - 1; t >= 0; --t) {
            /* the rows needed next: g and g_v of step t - 1, then x of the next block */
            const int64_t p = (t - 1) * m + b0;
            const T_ *p0 = t > 0 ? (a->g_spikes ? a->g_spikes + p : NULL)
                           : b0 + nb < hi ? ax->x + b0 + nb : NULL;
            FN(bwd_step)(a, vbuf + t * nb, t, b0, n, carry_mode, decay, dbuf, p0, NULL,
                         t > 0 ? a->g_v + p : NULL);
        }
    }
    free(vbuf);
}

void FN(st_lif_backward)(const T_ *v_seq, const T_ *g_spikes, const T_ *g_v_last,
                         const T_ *d_given, T_ *g_v, int64_t n_steps, int64_t m, T_ decay,
                         int has_decay, T_ theta, int reset, int detach_reset, int surrogate,
                         T_ k, int nthreads) {
    FN(bwd_args) a = {v_seq, g_spikes, g_v_last, d_given, g_v,          n_steps, m,
                      decay, theta,    k,        has_decay, reset, detach_reset, surrogate};
    parallel_range(FN(bwd_range), &a, m, nthreads);
}

/* st_lif_backward with the membranes recomputed from the input x (T, M) and the initial
 * state (v0, s0; NULL: rest) instead of read from v_seq. Returns 0, or -1 when a buffer could
 * not be allocated (g_v is then incomplete). */
int FN(st_lif_backward_recompute)(const T_ *x, const T_ *v0, const T_ *s0, const T_ *g_spikes,
                                  const T_ *g_v_last, T_ *g_v, int64_t n_steps, int64_t m,
                                  T_ decay, int has_decay, T_ theta, int reset, int detach_reset,
                                  int surrogate, T_ k, int nthreads) {
    FN(bwdx_args) a = {{NULL, g_spikes, g_v_last, NULL, g_v, n_steps, m, decay, theta, k,
                        has_decay, reset, detach_reset, surrogate},
                       x, v0, s0, 0};
    parallel_range(FN(bwdx_range), &a, m, nthreads);
    return a.failed ? -1 : 0;
}

#endif /* ST_SCAN_BODY */
