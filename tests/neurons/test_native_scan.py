"""The native CPU kernel of the IF/LIF scans: same spikes as stepping, same gradients as
autograd through the step functions, and a clean fallback when it cannot be built."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor

from spikingtorch_neurons import IF, LIF
from spikingtorch_neurons.functional import LIFState, _native
from spikingtorch_neurons.functional.scan import if_scan, lif_scan

from ._stepping import Shifted as _Shifted
from ._stepping import step_reference as _steps

needs_compiler = pytest.mark.skipif(
    _native._compiler() is None, reason="no C compiler: the kernel cannot be built here"
)


@pytest.fixture
def native_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set SPIKINGTORCH_NATIVE for the test (the loaded kernel is looked up again)."""

    def set_mode(value: str) -> None:
        monkeypatch.setenv("SPIKINGTORCH_NATIVE", value)
        _native._reset_cache_for_tests()

    yield set_mode
    monkeypatch.delenv("SPIKINGTORCH_NATIVE", raising=False)
    _native._reset_cache_for_tests()


def _scan(x: Tensor, v0: Tensor, s0: Tensor, decay: float | None, **kw: Any) -> Any:
    if decay is None:
        return if_scan(x, LIFState(v0, s0), **kw)
    return lif_scan(x, LIFState(v0, s0), decay=decay, **kw)


def _inputs(shape: tuple[int, ...], dtype: torch.dtype, seed: int = 0) -> tuple[Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    x = (1.4 * torch.rand(shape, generator=g, dtype=torch.float64) - 0.2).to(dtype)
    v0 = torch.rand(shape[1:], generator=g, dtype=torch.float64).to(dtype)
    s0 = (torch.rand(shape[1:], generator=g) > 0.5).to(dtype)
    return x, v0, s0


@needs_compiler
def test_the_kernel_builds_and_reports_its_library(native_mode: Any) -> None:
    native_mode("1")
    status = _native.native_status()
    assert status.startswith("enabled (") and "spikingtorch_scan_" in status
    assert _native.native_available()


# T*M values around the block (1024) and grain (64) sizes, and a shape split over threads
SHAPES = [(1, 1), (7, 3, 5), (5, 1, 1025), (3, 2, 4, 13, 13), (2, 3000)]


@needs_compiler
@pytest.mark.parametrize(
    ("dtype", "reset", "decay", "shape"),
    list(
        itertools.product(
            (torch.float32, torch.float64), ("zero", "subtract", "none"), (0.9, None), SHAPES
        )
    ),
)
def test_forward_is_bit_identical_to_stepping(
    native_mode: Any, dtype: torch.dtype, reset: str, decay: float | None, shape: Any
) -> None:
    native_mode("1")
    x, v0, s0 = _inputs(shape, dtype)
    kw = {"threshold": 0.7, "reset": reset}
    ref_s, ref_v = _steps(x, v0, s0, decay, **kw)
    spikes, state = _scan(x, v0, s0, decay, **kw)
    assert torch.equal(spikes, ref_s) and torch.equal(state.v, ref_v)
    assert torch.equal(state.s, ref_s[-1])
    with torch.no_grad():  # inference keeps only the last membrane: same results
        spikes, state = _scan(x, v0, s0, decay, **kw)
    assert torch.equal(spikes, ref_s) and torch.equal(state.v, ref_v)


def _bits(t: Tensor) -> Tensor:
    """The raw bit patterns (``torch.equal`` treats -0.0 and +0.0 as equal; this does not)."""
    return t.view(torch.int32 if t.dtype == torch.float32 else torch.int64)


@needs_compiler
@pytest.mark.parametrize("reset", ["zero", "subtract"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_kernel_reproduces_the_sign_of_zero_membranes(
    native_mode: Any, reset: str, dtype: torch.dtype
) -> None:
    """Membranes of -0.0 (started there, fed -0.0) stay -0.0 through both resets: the
    kernel resets at the end of a step with a select, which must round to the very bits of the
    step's v * (1 - s) and v - theta * s (a negative threshold makes the zero reset fire on
    -0.0: -0.0 * 0 = -0.0)."""
    native_mode("1")
    g = torch.Generator().manual_seed(11)
    x = (torch.rand((7, 3, 50), generator=g, dtype=torch.float64) - 0.6).to(dtype)
    v0 = (torch.rand((3, 50), generator=g, dtype=torch.float64) - 0.5).to(dtype)
    s0 = (torch.rand((3, 50), generator=g) > 0.5).to(dtype)
    x[:, :, ::5] = -0.0
    v0[:, ::5] = -0.0
    s0[:, ::5] = 0.0  # at rest after a subtract reset: -0.0 - theta * 0 = -0.0 (theta > 0)
    kw = {"threshold": -0.3 if reset == "zero" else 0.3, "reset": reset}
    ref_s, ref_v = _steps(x, v0, s0, 0.9, **kw)
    negative_zero = _bits(torch.full_like(ref_v, -0.0))
    assert bool((_bits(ref_v) == negative_zero).all(0)[::5].all())  # the -0.0 columns kept it
    for grad in (True, False):
        with torch.set_grad_enabled(grad):
            spikes, state = _scan(x, v0, s0, 0.9, **kw)
        assert torch.equal(spikes, ref_s)
        assert torch.equal(_bits(state.v), _bits(ref_v))


@needs_compiler
@pytest.mark.parametrize("threads", ["one", "many"])
def test_serial_and_parallel_runs_agree(
    native_mode: Any, monkeypatch: pytest.MonkeyPatch, threads: str
) -> None:
    native_mode("1")
    monkeypatch.setattr(_native, "PARALLEL_MIN_ELEMENTS", 1 if threads == "many" else 1 << 60)
    x, v0, s0 = _inputs((6, 4, 777), torch.float32)
    x.requires_grad_()
    ref_s, ref_v = _steps(x, v0, s0, 0.8)
    spikes, state = _scan(x, v0, s0, 0.8)
    assert torch.equal(spikes, ref_s) and torch.equal(state.v, ref_v)
    g = torch.randn(spikes.shape, generator=torch.Generator().manual_seed(3))
    (grad,) = torch.autograd.grad((spikes * g).sum(), x)
    (ref_grad,) = torch.autograd.grad((ref_s * g).sum(), x)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-4, atol=1e-6)


SURROGATES: list[Any] = ["fast_sigmoid", "sigmoid", "atan", "triangle", "ste", _Shifted()]


@needs_compiler
@pytest.mark.parametrize(
    ("reset", "detach_reset", "decay", "surrogate"),
    [
        (r, d, a, sg)
        for r, d, a, sg in itertools.product(
            ("zero", "subtract", "none"), (False, True), (0.85, None), SURROGATES
        )
        if not (r == "none" and d)
    ],
)
def test_backward_equals_autograd_through_the_steps(
    native_mode: Any, reset: str, detach_reset: bool, decay: float | None, surrogate: Any
) -> None:
    native_mode("1")
    x, v0, s0 = _inputs((9, 3, 70), torch.float64, seed=4)
    kw = {"threshold": 0.9, "reset": reset, "surrogate": surrogate, "detach_reset": detach_reset}
    g = torch.Generator().manual_seed(5)
    w = torch.randn(x.shape, generator=g, dtype=torch.float64)

    def grads(run: Any) -> tuple[Tensor, ...]:
        leaves = [t.detach().clone().requires_grad_() for t in (x, v0, s0)]
        spikes, v_last = run(*leaves)
        loss = (spikes * w).sum() + 1.3 * v_last.sum() - 0.7 * spikes[-1].sum()
        got = torch.autograd.grad(loss, leaves, allow_unused=True)
        # s0 takes no part when the reset is detached or absent
        return tuple(
            torch.zeros_like(t) if g is None else g for g, t in zip(got, leaves, strict=True)
        )

    expected = grads(lambda a, b, c: _steps(a, b, c, decay, **kw))
    got = grads(lambda a, b, c: (lambda r: (r[0], r[1].v))(_scan(a, b, c, decay, **kw)))
    assert expected[0].abs().sum() > 0 and expected[1].abs().sum() > 0
    for e, o in zip(expected, got, strict=True):
        torch.testing.assert_close(o, e, rtol=1e-5, atol=1e-9)


@needs_compiler
def test_kernel_and_eager_scan_give_the_same_training_step(native_mode: Any) -> None:
    results = []
    for mode in ("1", "0"):
        native_mode(mode)
        torch.manual_seed(0)
        layer = torch.nn.Conv2d(1, 3, 3)
        neuron = LIF(decay=0.9, surrogate="fast_sigmoid")
        x = (torch.rand(6, 4, 1, 9, 9) < 0.4).float()
        drive = layer(x.flatten(0, 1)).unflatten(0, (6, 4))
        spikes, _ = neuron.scan(drive)
        spikes.sum().backward()
        assert layer.weight.grad is not None
        results.append((spikes.detach(), layer.weight.grad.clone()))
    (s1, g1), (s2, g2) = results
    assert torch.equal(s1, s2) and s1.sum() > 0
    torch.testing.assert_close(g1, g2, rtol=1e-5, atol=1e-6)


@needs_compiler
def test_non_contiguous_input_and_expanded_state(native_mode: Any) -> None:
    native_mode("1")
    x, _, _ = _inputs((5, 3, 8), torch.float32)
    xt = x.transpose(1, 2).contiguous().transpose(1, 2)  # same values, other strides
    assert not xt.is_contiguous()
    zero = torch.zeros(()).expand(3, 8)
    ref_s, ref_v = _steps(x, zero, zero, 0.9)
    spikes, state = _scan(xt, zero, zero, 0.9)
    assert torch.equal(spikes, ref_s) and torch.equal(state.v, ref_v)


def test_disabled_kernel_is_not_used(native_mode: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    native_mode("0")
    assert _native.native_status() == "disabled (SPIKINGTORCH_NATIVE=0)"

    def fail(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the kernel ran although it is disabled")

    monkeypatch.setattr(_native, "native_lif_forward", fail)
    x, v0, s0 = _inputs((4, 2, 6), torch.float32)
    spikes, _ = _scan(x, v0, s0, 0.9)
    assert torch.equal(spikes, _steps(x, v0, s0, 0.9)[0])


def test_without_a_compiler_the_eager_scan_runs(
    native_mode: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    native_mode("auto")
    monkeypatch.setattr(_native, "_compiler", lambda: None)
    x, v0, s0 = _inputs((4, 2, 6), torch.float32)
    spikes, _ = _scan(x, v0, s0, 0.9)
    assert torch.equal(spikes, _steps(x, v0, s0, 0.9)[0])
    assert "no C compiler found" in _native.native_status()
    native_mode("on")
    monkeypatch.setattr(_native, "_compiler", lambda: None)
    with pytest.raises(RuntimeError, match="SPIKINGTORCH_NATIVE=1 but the native scan kernel"):
        _scan(x, v0, s0, 0.9)


@pytest.mark.skipif(shutil.which("false") is None, reason="needs the 'false' program")
def test_a_failing_build_falls_back_and_says_why(
    native_mode: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    native_mode("auto")
    monkeypatch.setenv("SPIKINGTORCH_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_native, "_compiler", lambda: shutil.which("false"))
    x, v0, s0 = _inputs((3, 2, 5), torch.float64)
    spikes, _ = _scan(x, v0, s0, None)
    assert torch.equal(spikes, _steps(x, v0, s0, None)[0])
    assert _native.native_status().startswith("unavailable: building the kernel failed")
    assert not list((tmp_path / "kernels").glob("*.so"))  # no partial library left behind


@needs_compiler
def test_the_library_goes_to_the_cache_dir(
    native_mode: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SPIKINGTORCH_CACHE_DIR", str(tmp_path))
    native_mode("1")
    assert str(tmp_path / "kernels") in _native.native_status()
    built = sorted(p.name for p in (tmp_path / "kernels").iterdir())
    assert built and all(name.startswith("spikingtorch_scan_") for name in built)


def test_bad_mode_is_rejected(native_mode: Any) -> None:
    native_mode("sometimes")
    with pytest.raises(ValueError, match="SPIKINGTORCH_NATIVE must be"):
        _native.native_status()


def test_cases_the_kernel_does_not_serve(native_mode: Any) -> None:
    native_mode("auto")
    x = torch.zeros(3, 2, 4)
    assert not _native.applies(x.half(), 1.0, 0.9)  # reduced precision
    assert not _native.applies(x, torch.ones(4), 0.9)  # per-neuron threshold
    assert not _native.applies(x, 1.0, torch.full((4,), 0.9))  # tensor decay
    assert not _native.applies(x.to("meta"), 1.0, 0.9)  # not on CPU


@needs_compiler
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_baseline_build_agrees_bit_for_bit_with_the_default_one(
    native_mode: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dtype: torch.dtype
) -> None:
    """The default build may pick an AVX2 clone of the loops at load time; the baseline build
    (ST_NO_CLONES: SSE2 only on x86-64) must give the same bits, forward and backward."""
    native_mode("1")
    x, v0, s0 = _inputs((6, 3, 1500), dtype)
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(4), dtype=dtype)
    results = []
    for extra in ((), ("-DST_NO_CLONES",)):
        monkeypatch.setattr(_native, "_FLAGS", (*_native._FLAGS, *extra))
        monkeypatch.setenv("SPIKINGTORCH_CACHE_DIR", str(tmp_path / (extra[0] if extra else "d")))
        _native._reset_cache_for_tests()
        xr = x.clone().requires_grad_()
        spikes, state = _scan(xr, v0, s0, 0.85, reset="subtract", surrogate="fast_sigmoid")
        (grad,) = torch.autograd.grad((spikes * g).sum() + state.v.sum(), xr)
        assert _native.native_status().startswith("enabled")
        results.append((spikes, state.v, grad))
    for a, b in zip(*results, strict=True):
        assert torch.equal(a, b)
    assert 0 < float(results[0][0].detach().mean()) < 1


@needs_compiler
@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("kernel", ["1", "0"])
def test_the_state_of_a_scan_has_its_own_memory(native_mode: Any, kernel: str, grad: bool) -> None:
    native_mode(kernel)
    x, v0, s0 = _inputs((6, 3, 10), torch.float64, seed=7)
    ref_s, ref_v = _steps(x, v0, s0, 0.8)
    with torch.set_grad_enabled(grad):
        for start in (None, LIFState(v0, s0)):
            spikes, state = lif_scan(x.requires_grad_(grad), start, decay=0.8)
            if start is not None:
                assert torch.equal(spikes, ref_s) and torch.equal(state.v, ref_v)
            # the last spikes, copied: keeping the state does not keep all T steps alive
            assert torch.equal(state.s, spikes[-1]) and state.s._base is None
            assert state.s.data_ptr() != spikes[-1].data_ptr()
            assert state.s.requires_grad == grad


@needs_compiler
def test_no_grad_from_rest_is_one_kernel_call(native_mode: Any) -> None:
    native_mode("1")
    x, _, _ = _inputs((5, 4, 7), torch.float32, seed=3)
    zero = torch.zeros_like(x[0])
    ref_s, ref_v = _steps(x, zero, zero, 0.9, threshold=0.8, reset="subtract")
    assert _native.forward_from_rest(x, 0.8, 0.9, "subtract") is None  # not loaded yet
    assert _native.native_available()
    done = _native.forward_from_rest(x, 0.8, 0.9, "subtract")
    assert done is not None
    spikes, v_last, s_last = done
    assert torch.equal(spikes, ref_s) and torch.equal(v_last, ref_v)
    assert torch.equal(s_last, ref_s[-1]) and s_last._base is None
    # everything the general path handles itself is declined
    assert _native.forward_from_rest(x.transpose(1, 2), 0.8, 0.9, "zero") is None
    assert _native.forward_from_rest(x.half(), 0.8, 0.9, "zero") is None
    assert _native.forward_from_rest(x, torch.tensor(0.8), 0.9, "zero") is None
    assert _native.forward_from_rest(x[:, :0], 0.8, 0.9, "zero") is None
    # the modules take it under no_grad from rest, and only then
    calls: list[int] = []

    def counted(*args: Any) -> Any:
        calls.append(1)
        return _native.forward_from_rest(*args)

    from spikingtorch_neurons import _params

    for neuron in (LIF(decay=0.9, threshold=0.8), IF()):
        calls.clear()
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_params, "forward_from_rest", counted)
            with torch.no_grad():
                spikes, state = neuron.scan(x)
            assert calls == [1] and state.s._base is None
            neuron.scan(x)  # autograd on: the autograd Function
            with torch.no_grad():
                neuron.scan(x, state)  # resuming: the general path
            assert calls == [1]


def _merged_calls(neuron: torch.nn.Module, x: Tensor) -> tuple[int, int, Tensor]:
    """A no-grad sequence-mode pass after a first one (which loads the kernel): how many
    kernel calls from rest served it, how many times the general fused scan ran, and the
    output."""
    from spikingtorch_neurons import _params, integrate_fire, leaky

    served: list[int] = []
    general: list[int] = []

    def counted(*args: Any) -> Any:
        done = _native.forward_from_rest(*args)
        served.extend([1] if done is not None else [])
        return done

    def general_scan(*args: Any, **kwargs: Any) -> Any:
        general.append(1)
        return _params.fused_scan(*args, **kwargs)

    model = _seq_model(neuron)
    with torch.no_grad():
        model(x)
    with pytest.MonkeyPatch.context() as mp, torch.no_grad():
        mp.setattr(_params, "forward_from_rest", counted)
        mp.setattr(leaky, "fused_scan", general_scan)
        mp.setattr(integrate_fire, "fused_scan", general_scan)
        out = model(x)
    return len(served), len(general), out


class _OwnStep(LIF):
    def step(self, x_t: Tensor, state: Any) -> Any:
        return super().step(x_t, state)


@needs_compiler
@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: LIF(decay=0.8, threshold=0.7), (1, 0)),  # one kernel call, nothing else
        (lambda: IF(threshold=0.9, reset="subtract"), (1, 0)),
        (lambda: LIF(decay=0.8, input_scale=0.5), (0, 1)),  # scaled: the general scan
        (lambda: LIF(decay=0.8, threshold=torch.full((6,), 0.7)), (0, 1)),  # per-neuron
        (lambda: LIF(decay=0.8, learn_threshold=True), (0, 1)),
        (lambda: LIF(tau=5.0, learn_tau=True), (0, 1)),
        (lambda: _OwnStep(decay=0.8), (0, 0)),  # a subclass's step: the loop over it
    ],
    ids=["LIF", "IF", "scaled", "per-neuron", "learned-threshold", "learned-decay", "own-step"],
)
def test_a_no_grad_sequence_pass_is_one_kernel_call_per_layer_when_served(
    native_mode: Any, make: Any, expected: tuple[int, int]
) -> None:
    native_mode("1")
    x = 2 * torch.rand(3, 7, 4, generator=torch.Generator().manual_seed(5))
    kernel_calls, general_scans, out = _merged_calls(make(), x)
    assert (kernel_calls, general_scans) == expected
    reference = _step_model(make())(x)
    assert torch.equal(out, reference)


def _step_model(neuron: torch.nn.Module) -> Any:
    """``_seq_model``'s net (the same weights) in step mode."""
    from spikingtorch import SpikingNet

    torch.manual_seed(0)
    return SpikingNet(torch.nn.Sequential(torch.nn.Linear(4, 6), neuron))


def _seq_model(neuron: torch.nn.Module) -> Any:
    from spikingtorch import SpikingNet

    torch.manual_seed(0)
    return SpikingNet(torch.nn.Sequential(torch.nn.Linear(4, 6), neuron), mode="sequence")


@needs_compiler
@pytest.mark.parametrize("make", [lambda: LIF(decay=0.8), lambda: IF()], ids=["LIF", "IF"])
def test_inference_reuses_the_state_tensors_only_while_nobody_holds_them(
    native_mode: Any, make: Any
) -> None:
    native_mode("1")
    neuron = make()
    model = _seq_model(neuron)
    x = 2 * torch.rand(3, 7, 4)
    z = 2 * torch.rand(3, 7, 4)
    with torch.no_grad():
        model(x)  # loads the kernel (the general path)
        model(x)
        first = neuron._state
        ptrs = [t.data_ptr() for t in first]
        y = model(z)
        second = neuron._state
    # nobody saw the first state: the second is written into the same memory
    assert [t.data_ptr() for t in second] == ptrs
    reference = make()
    fresh = _seq_model(reference)
    with torch.no_grad():
        assert torch.equal(fresh(z), y)
    assert torch.equal(reference.state.v, second.v) and torch.equal(reference.state.s, second.s)
    # a state that was handed out is never overwritten
    with torch.no_grad():
        held = neuron.state
        kept = [t.clone() for t in held]
        model(x)
    assert all(torch.equal(a, b) for a, b in zip(held, kept, strict=True))
    assert neuron._state.v.data_ptr() != held.v.data_ptr()
    # direct scans return their state to the caller: never recycled
    with torch.no_grad():
        a = neuron.scan_merged(x.transpose(0, 1).reshape(21, 4) @ torch.ones(4, 6), 7)[1]
        b = neuron.scan_merged(z.transpose(0, 1).reshape(21, 4) @ torch.ones(4, 6), 7)[1]
    assert a.v.data_ptr() != b.v.data_ptr()


@needs_compiler
@pytest.mark.parametrize("use", ["step", "resume", "detach"])
def test_a_state_used_after_the_sequence_is_never_overwritten(native_mode: Any, use: str) -> None:
    native_mode("1")
    neuron = LIF(decay=0.8)
    model = _seq_model(neuron)
    x = 2 * torch.rand(3, 5, 4, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        model(x)
        model(x)
    used = neuron._state  # (not through .state, which would hand it out by itself)
    kept = [t.clone() for t in used]
    if use == "step":  # a step continues from it: its autograd graph may keep these tensors
        neuron(model.net[0](x[:, 0]))
    elif use == "resume":  # a later time chunk scans on from it
        model.time_chunk = 2
        model(x.requires_grad_())
        model.time_chunk = "auto"
    else:
        neuron.detach_state()  # detached tensors share the memory
    with torch.no_grad():
        model(2 * x)  # a new no-grad sequence
    assert all(torch.equal(a, b) for a, b in zip(used, kept, strict=True))


# -- the training node: saves the input, recomputes the membranes --------------------------------


def _graph_nodes(root: Any) -> list[Any]:
    """Every autograd node reachable from ``root`` once."""
    seen, stack, found = set(), [root], []
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        found.append(node)
        stack.extend(n for n, _ in node.next_functions)
    return found


@needs_compiler
@pytest.mark.parametrize(
    "make",
    [lambda: LIF(decay=0.8, surrogate="fast_sigmoid"), lambda: IF(reset="subtract")],
    ids=["LIF", "IF"],
)
def test_a_training_sequence_pass_saves_the_input_and_not_the_membranes(
    native_mode: Any, make: Any
) -> None:
    native_mode("1")
    neuron = make()
    model = _seq_model(neuron)
    inputs: list[Tensor] = []
    neuron.register_forward_pre_hook(lambda _m, args: inputs.append(args[0]))
    x = 2 * torch.rand(3, 7, 4, generator=torch.Generator().manual_seed(5))
    out = model(x)
    nodes = [n for n in _graph_nodes(out.grad_fn) if type(n).__name__ == "_NativeScanBackward"]
    assert len(nodes) == 1  # the whole sequence of the layer is one node
    saved = [t for t in nodes[0].saved_tensors if t is not None]
    assert len(saved) == 1  # from rest: the input, and nothing shaped like the membranes
    assert saved[0].data_ptr() == inputs[0].data_ptr() and saved[0].shape == inputs[0].shape
    # and the gradients are those of step mode
    step = _step_model(make())
    w = torch.randn(out.shape, generator=torch.Generator().manual_seed(6))
    (out * w).sum().backward()
    (step(x) * w).sum().backward()
    for a, b in zip(model.parameters(), step.parameters(), strict=True):
        assert a.grad is not None and b.grad is not None
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-5, atol=1e-7)


@needs_compiler
@pytest.mark.parametrize(
    ("n_steps", "width"),
    [(70, 300), (2100, 37)],  # recompute blocks of 224 and of the minimum 16 elements
    ids=["long", "very-long"],
)
@pytest.mark.parametrize("reset", ["zero", "subtract", "none"])
def test_long_sequences_recompute_in_shorter_blocks_with_the_same_gradients(
    native_mode: Any, n_steps: int, width: int, reset: str
) -> None:
    native_mode("1")
    x, v0, s0 = _inputs((n_steps, 1, width), torch.float64, seed=7)
    x = 0.5 * x  # spikes now and then, not on every step
    kw = {"threshold": 0.9, "reset": reset, "surrogate": "atan"}
    w = torch.randn(x.shape, generator=torch.Generator().manual_seed(8), dtype=torch.float64)

    def grads(run: Any) -> tuple[Tensor, ...]:
        leaves = [t.detach().clone().requires_grad_() for t in (x, v0, s0)]
        spikes, v_last = run(*leaves)
        got = torch.autograd.grad((spikes * w).sum() + v_last.sum(), leaves, allow_unused=True)
        return tuple(
            torch.zeros_like(t) if g is None else g for g, t in zip(got, leaves, strict=True)
        )

    expected = grads(lambda a, b, c: _steps(a, b, c, 0.97, **kw))
    got = grads(lambda a, b, c: (lambda r: (r[0], r[1].v))(_scan(a, b, c, 0.97, **kw)))
    assert expected[0].abs().sum() > 0
    for e, o in zip(expected, got, strict=True):
        torch.testing.assert_close(o, e, rtol=1e-5, atol=1e-9)


@needs_compiler
@pytest.mark.parametrize("decay", [0.85, None], ids=["LIF", "IF"])
@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_the_gradient_of_the_state_spikes_joins_the_last_step(
    native_mode: Any, decay: float | None, reset: str
) -> None:
    native_mode("1")
    x, v0, s0 = _inputs((6, 2, 50), torch.float32, seed=9)
    w = torch.randn(x.shape, generator=torch.Generator().manual_seed(10))
    kw = {"threshold": 0.9, "reset": reset, "surrogate": "sigmoid"}

    def grads(run: Any) -> tuple[Tensor, ...]:
        leaves = [t.detach().clone().requires_grad_() for t in (x, v0, s0)]
        spikes, v_last, s_last = run(*leaves)
        loss = (spikes * w).sum() + 0.6 * v_last.sum() - 1.7 * s_last.sum()
        return torch.autograd.grad(loss, leaves)

    def by_steps(a: Tensor, b: Tensor, c: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        spikes, v_last = _steps(a, b, c, decay, **kw)
        return spikes, v_last, spikes[-1]

    def by_scan(a: Tensor, b: Tensor, c: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        spikes, state = _scan(a, b, c, decay, **kw)
        assert type(spikes.grad_fn).__name__ == "_NativeScanBackward"
        return spikes, state.v, state.s

    for e, o in zip(grads(by_steps), grads(by_scan), strict=True):
        torch.testing.assert_close(o, e, rtol=1e-5, atol=1e-6)


@needs_compiler
def test_gradients_arriving_in_any_layout_are_taken(native_mode: Any) -> None:
    native_mode("1")
    x, v0, s0 = _inputs((5, 40, 3), torch.float32, seed=11)
    w = torch.randn(5, 3, 40, generator=torch.Generator().manual_seed(12))

    def grads(run: Any) -> tuple[Tensor, ...]:
        leaf = x.detach().clone().requires_grad_()
        spikes, v_last, s_last = run(leaf)
        # a transposed use: the gradient reaching the scan is dense but not contiguous
        loss = (spikes.transpose(1, 2) * w).sum() + v_last.sum() + 2.0 * s_last.sum()
        return torch.autograd.grad(loss, [leaf])

    def by_steps(a: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        spikes, v_last = _steps(a, v0, s0, 0.9)
        return spikes, v_last, spikes[-1]

    def by_scan(a: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        spikes, state = _scan(a, v0, s0, 0.9)
        return spikes, state.v, state.s

    torch.testing.assert_close(grads(by_scan)[0], grads(by_steps)[0], rtol=1e-5, atol=1e-6)
