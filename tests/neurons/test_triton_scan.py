"""The Triton IF/LIF scans (the CUDA path): forward bit-identical to stepping, backward equal to
autograd through the step functions.

On a machine with CUDA the kernels are compiled and run on the GPU. Without one they run in
Triton's interpreter (``TRITON_INTERPRET=1``, numpy on CPU tensors), which checks the kernels'
logic; without Triton installed (the CI machines) the module is skipped.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import torch
from torch import Tensor

ON_GPU = torch.cuda.is_available()
if not ON_GPU:  # Triton decides at import whether its own library is interpreted
    if "triton" in sys.modules and os.environ.get("TRITON_INTERPRET") != "1":
        pytest.skip(
            "Triton was imported before TRITON_INTERPRET=1 could be set: run this file alone",
            allow_module_level=True,
        )
    os.environ["TRITON_INTERPRET"] = "1"
if "triton" in os.environ.get("SPIKINGTORCH_TEST_REQUIRE", "").split(","):
    # tox env "triton": a missing Triton fails, never skips
    import triton  # type: ignore[import-not-found, unused-ignore]  # noqa: F401
else:
    pytest.importorskip("triton")

from spikingtorch.surrogate import get as get_surrogate  # noqa: E402
from spikingtorch_neurons import LIF  # noqa: E402
from spikingtorch_neurons.functional import _triton_scan as tri  # noqa: E402
from spikingtorch_neurons.functional import scan as scan_module  # noqa: E402
from spikingtorch_neurons.functional.scan import lif_scan  # noqa: E402

from ._stepping import Shifted as _Shifted  # noqa: E402
from ._stepping import step_reference as _steps  # noqa: E402

DEVICE = "cuda" if ON_GPU else "cpu"
RESETS = ("zero", "subtract", "none")
# m below, at and across BLOCK (512) neurons per program
SHAPES = [(1, 1), (6, 3, 5), (5, 2, 512), (4, 3, 333)]


@pytest.fixture(autouse=True)
def kernels(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fresh kernels per test: compiled on a GPU, else in Triton's interpreter."""
    if not ON_GPU:
        monkeypatch.setenv("TRITON_INTERPRET", "1")
    monkeypatch.setenv("SPIKINGTORCH_TRITON", "1")  # opt-in until validated on a GPU
    tri._reset_for_tests()
    yield
    tri._reset_for_tests()


def _inputs(shape: Any, dtype: torch.dtype, seed: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = 1.4 * torch.rand(shape, generator=g, dtype=torch.float64) - 0.2
    v0 = torch.rand(shape[1:], generator=g, dtype=torch.float64)
    s0 = (torch.rand(shape[1:], generator=g) > 0.5).double()
    return tuple(t.to(device=DEVICE, dtype=dtype) for t in (x, v0, s0))  # type: ignore[return-value]


def test_status_and_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tri.triton_status() == "enabled"
    for value in ("0", None):  # off, and off by default for now
        if value is None:
            monkeypatch.delenv("SPIKINGTORCH_TRITON")
        else:
            monkeypatch.setenv("SPIKINGTORCH_TRITON", value)
        tri._reset_for_tests()
        assert tri.triton_status().startswith("disabled")
    x = torch.zeros(3, 2, 4, device=DEVICE)
    assert not tri.applies(x, 1.0, 0.9)


@pytest.mark.parametrize(
    ("dtype", "reset", "decay", "shape", "start"),
    list(
        itertools.product(
            (torch.float32, torch.float64), RESETS, (0.9, None), SHAPES, ("given", "rest")
        )
    ),
)
def test_forward_is_bit_identical_to_stepping(
    dtype: torch.dtype, reset: str, decay: float | None, shape: Any, start: str
) -> None:
    x, v0, s0 = _inputs(shape, dtype)
    if start == "rest":
        v0, s0 = torch.zeros_like(v0), torch.zeros_like(s0)
    ref_s, ref_v = _steps(x, v0, s0, decay, threshold=0.7, reset=reset)
    given = start == "given"
    for record, last in ((True, False), (False, True)):
        spikes, v_seq, v_last, s_last = tri.triton_lif_forward(
            x, v0 if given else None, s0 if given else None, 0.7, decay, reset, record, last
        )
        assert torch.equal(spikes, ref_s) and torch.equal(v_last, ref_v)
        assert (v_seq is not None) == record
        assert (s_last is not None) == last
        if s_last is not None:  # its own memory, equal to the last spike row
            assert s_last._base is None and torch.equal(s_last, ref_s[-1])
        if v_seq is not None:
            assert torch.equal(v_seq[-1], ref_v)
    assert 0 < float(ref_s.mean()) < 1 or ref_s.numel() < 10


SURROGATES = ["fast_sigmoid", "sigmoid", "atan", "triangle", "ste", "custom"]


@pytest.mark.parametrize(
    ("reset", "detach_reset", "surrogate", "decay"),
    [(r, d, "sigmoid", 0.8) for r, d in itertools.product(RESETS, (False, True))]
    + [("zero", False, sg, dec) for sg in SURROGATES for dec in (0.8, None)]
    + [("subtract", False, sg, 0.8) for sg in SURROGATES],
)
def test_backward_equals_autograd_of_steps(
    reset: str, detach_reset: bool, surrogate: str, decay: float | None
) -> None:
    sg: Any = _Shifted() if surrogate == "custom" else get_surrogate(surrogate)
    x, v0, s0 = _inputs((7, 3, 333), torch.float64, seed=1)
    x.requires_grad_()
    kw = {"threshold": 0.7, "reset": reset, "surrogate": sg, "detach_reset": detach_reset}
    ref_s, ref_v = _steps(x, v0, s0, decay, **kw)
    g = torch.randn(ref_s.shape, generator=torch.Generator().manual_seed(2), dtype=x.dtype)
    c = torch.randn(ref_v.shape, generator=torch.Generator().manual_seed(3), dtype=x.dtype)
    g, c = g.to(DEVICE), c.to(DEVICE)
    (want,) = torch.autograd.grad((ref_s * g).sum() + (ref_v * c).sum(), x, retain_graph=True)
    _, v_seq, _, _ = tri.triton_lif_forward(x.detach(), v0, s0, 0.7, decay, reset, True)
    assert v_seq is not None
    got = tri.triton_lif_backward(v_seq, g, c, 0.7, decay, reset, detach_reset, sg)
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-9)
    only_spikes = tri.triton_lif_backward(v_seq, g, None, 0.7, decay, reset, detach_reset, sg)
    (want_s,) = torch.autograd.grad((ref_s * g).sum(), x)
    torch.testing.assert_close(only_spikes, want_s, rtol=1e-6, atol=1e-9)


@pytest.mark.skipif(not ON_GPU, reason="the dispatch to Triton needs CUDA tensors")
@pytest.mark.parametrize("reset", RESETS)
def test_cuda_scans_run_in_triton_and_match_stepping(
    monkeypatch: pytest.MonkeyPatch, reset: str
) -> None:
    calls: list[str] = []
    forward = tri.triton_lif_forward

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append("forward")
        return forward(*args, **kwargs)

    monkeypatch.setattr(scan_module, "_TRITON", (counted, tri.triton_lif_backward))
    x, _, _ = _inputs((9, 4, 700), torch.float32, seed=4)
    neuron = LIF(decay=0.85, reset=reset).to(DEVICE)
    stepped = torch.stack([neuron(x_t, init=(t == 0)) for t, x_t in enumerate(x.unbind(0))])
    v = neuron.state.v
    xr = x.clone().requires_grad_()
    spikes, state = lif_scan(xr, decay=0.85, reset=reset, surrogate=neuron.surrogate)
    assert calls and torch.equal(spikes, stepped) and torch.equal(state.v, v)
    (spikes.sum() + state.v.sum()).backward()
    assert xr.grad is not None and torch.isfinite(xr.grad).all()
    with torch.no_grad():
        calls.clear()
        assert torch.equal(lif_scan(x, decay=0.85, reset=reset)[0], stepped) and calls
