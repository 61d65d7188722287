"""``SpikingNet(mode="sequence")``: one call on the time-merged batch, neurons scan over T."""

from __future__ import annotations

import copy
from typing import Any, NamedTuple

import pytest
import torch
from torch import Tensor, nn

from spikingtorch import Neuron, SpikingNet
from spikingtorch.net import SequenceModeCheck


class _State(NamedTuple):
    v: Tensor
    s: Tensor


class Leaky(Neuron):
    """A core-only LIF (zero reset) with a straight-through spike; the default (looping) scan."""

    def __init__(self, decay: float = 0.8) -> None:
        super().__init__()
        self.decay = decay

    def init_state(self, x_t: Tensor) -> _State:
        return _State(torch.zeros_like(x_t), torch.zeros_like(x_t))

    def step(self, x_t: Tensor, state: _State) -> tuple[Tensor, _State]:
        v = self.decay * state.v * (1 - state.s) + x_t
        hard = (v > 1.0).to(x_t.dtype)
        soft = torch.sigmoid(v - 1.0)
        s = hard + (soft - soft.detach())  # exactly 0 or 1 forward: (hard + soft) - soft is not
        return s, _State(v, s)


class SeedStyle(nn.Module):
    """The seed's two-argument forward with the init flag passed to each neuron."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 6)
        self.n1 = Leaky(0.9)
        self.fc2 = nn.Linear(6, 3)
        self.n2 = Leaky(0.7)

    def forward(self, x: Tensor, init: bool) -> Tensor:
        return self.n2(self.fc2(self.n1(self.fc1(x), init)), init)


def _sequential() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 6), Leaky(0.9), nn.Linear(6, 3), Leaky(0.7))


def _pair(net: nn.Module, **kw: Any) -> tuple[SpikingNet, SpikingNet]:
    net = net.double()
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(2.0)
    return SpikingNet(net, (3,), **kw), SpikingNet(copy.deepcopy(net), (3,), mode="sequence", **kw)


def _assert_same_gradients(
    step: SpikingNet,
    seq: SpikingNet,
    ran_step: tuple[Tensor, Tensor],
    ran_seq: tuple[Tensor, Tensor],
) -> None:
    """Backpropagate the same random weighting of both outputs; the input and parameter
    gradients must agree to 1e-5. ``ran_*`` is ``(input, output)`` of each run."""
    (x1, y1), (x2, y2) = ran_step, ran_seq
    w = torch.randn(y1.shape, dtype=torch.float64)
    (y1 * w).sum().backward()
    (y2 * w).sum().backward()
    assert x1.grad is not None and x2.grad is not None
    torch.testing.assert_close(x2.grad, x1.grad, rtol=1e-5, atol=1e-10)
    for a, b in zip(step.parameters(), seq.parameters(), strict=True):
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-5, atol=1e-10)


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("make", [_sequential, SeedStyle])
def test_sequence_equals_step(make: Any, batch_first: bool) -> None:
    torch.manual_seed(0)
    step, seq = _pair(make(), batch_first=batch_first)
    x = torch.rand(5, 7, 4, dtype=torch.float64) * 2
    if not batch_first:
        x = x.transpose(0, 1)
    x1 = x.clone().requires_grad_()
    x2 = x.clone().requires_grad_()
    y1, y2 = step(x1), seq(x2)
    assert torch.equal(y1, y2) and 0 < y1.sum() < y1.numel()
    _assert_same_gradients(step, seq, (x1, y1), (x2, y2))


def test_state_after_is_the_last_step_and_streaming_continues() -> None:
    step, seq = _pair(_sequential())
    x = torch.rand(3, 6, 4, dtype=torch.float64) * 2
    step(x)
    seq(x)
    for a, b in zip(step.modules(), seq.modules(), strict=True):
        if isinstance(a, Neuron):
            assert isinstance(b, Neuron)
            assert a.state.v.shape == (3, a.state.v.shape[1])
            # a Linear on the merged N*T batch may round differently from one on N rows (seen
            # with torch 2.11 on 16 threads), so the membranes agree to rounding, spikes exactly
            torch.testing.assert_close(b.state.v, a.state.v, rtol=1e-12, atol=1e-12)
            assert torch.equal(a.state.s, b.state.s)
            assert b._sequence_steps is None  # the flag does not outlive the call
    x_t = torch.rand(3, 4, dtype=torch.float64)
    assert torch.equal(step.step(x_t), seq.step(x_t))


def test_lengths_mask_in_sequence_mode() -> None:
    step, seq = _pair(_sequential())
    x = torch.rand(4, 6, 4, dtype=torch.float64) * 2
    lengths = torch.tensor([6, 2, 4, 1])
    out = seq(x, lengths)
    assert torch.equal(out, step(x, lengths))
    assert out[1, 2:].abs().sum() == 0 and out[3, 1:].abs().sum() == 0


class BatchNormalise(nn.Module):
    """Normalises over the batch: mixes samples, so the merged batch changes the result."""

    def forward(self, x: Tensor) -> Tensor:
        return (x - x.mean(0)) / (x.std(0) + 1e-6) + 1.0


def test_check_sequence_mode_agrees_for_a_valid_net() -> None:
    step, _ = _pair(_sequential())
    x = torch.rand(4, 5, 4, dtype=torch.float64) * 2
    check = step.check_sequence_mode(x)
    assert isinstance(check, SequenceModeCheck)
    assert check.ok and bool(check) and check.where is None and check.first_step is None
    assert step.mode == "step"  # restored


class Integrator(Neuron):
    """A graded neuron: it outputs its membrane ``v <- 0.5 v + x`` (no threshold)."""

    def init_state(self, x_t: Tensor) -> tuple[Tensor]:
        return (torch.zeros_like(x_t),)

    def step(self, x_t: Tensor, state: tuple[Tensor]) -> tuple[Tensor, tuple[Tensor]]:
        v = 0.5 * state[0] + x_t
        return v, (v,)


class BatchSizeRounding(nn.Module):
    """Adds ``1e-13 * batch size``: a stand-in for a layer whose rounding depends on the batch."""

    def forward(self, x: Tensor) -> Tensor:
        return x + 1e-13 * x.shape[0]


def test_check_sequence_mode_tolerates_rounding_in_graded_outputs() -> None:
    net = nn.Sequential(BatchSizeRounding(), Integrator())
    model = SpikingNet(net, (4,))
    x = torch.rand(4, 5, 4, dtype=torch.float64)
    check = model.check_sequence_mode(x)  # outputs differ by ~1e-12 (merged batch of 20)
    assert check.ok and 0 < check.max_abs_diff < 1e-11, check
    tight = model.check_sequence_mode(x, rtol=0, atol=1e-14)
    assert not tight.ok and tight.where == "net.1" and tight.first_step == 0


def test_check_sequence_mode_catches_a_batch_mixing_layer() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 6), BatchNormalise(), Leaky(0.9), nn.Linear(6, 3), Leaky())
    model = SpikingNet(net, (3,))
    x = torch.rand(4, 5, 4) * 2
    check = model.check_sequence_mode(x)
    assert not check.ok
    assert check.where == "net.2"  # the first neuron after the mixing layer
    assert "differs" in check.message and "'net.2'" in check.message
    with pytest.raises(ValueError, match="sequence mode differs"):
        model.check_sequence_mode(x, strict=True)


class Stateful(nn.Module):
    """Keeps state across steps outside a Neuron (follows the state-reset protocol)."""

    def forward(self, x: Tensor) -> Tensor:
        return x

    def reset_state(self) -> None:
        pass

    def detach_state(self) -> None:
        pass


def test_state_outside_neurons_is_refused() -> None:
    model = SpikingNet(nn.Sequential(nn.Linear(4, 3), Stateful(), Leaky()), (3,), mode="sequence")
    with pytest.raises(ValueError, match=r"module 'net.1' \(Stateful\) keeps state"):
        model(torch.rand(2, 3, 4))


def test_neuron_overriding_forward_is_refused() -> None:
    class Custom(Leaky):
        def forward(self, x_t: Tensor, init: bool = False) -> Tensor:
            return super().forward(x_t, init)

    model = SpikingNet(nn.Sequential(nn.Linear(4, 3), Custom()), (3,), mode="sequence")
    with pytest.raises(ValueError, match="overrides forward"):
        model(torch.rand(2, 3, 4))


def test_batchnorm_in_training_mode_warns() -> None:
    net = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), Leaky())
    model = SpikingNet(net, (3,), mode="sequence")
    with pytest.warns(UserWarning, match="BatchNorm1d"):
        model(torch.rand(2, 3, 4))
    model.eval()  # running statistics: no mixing, no warning
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model(torch.rand(2, 3, 4))


def test_a_layer_changing_the_batch_is_an_error() -> None:
    class Halve(nn.Module):
        def forward(self, x: Tensor) -> Tensor:
            return x[: x.shape[0] - 1]

    model = SpikingNet(nn.Sequential(nn.Linear(4, 3), Halve(), Leaky()), mode="sequence")
    with pytest.raises(ValueError, match=r"time-merged batch \(T\*N, \*F\) with T = 3"):
        model(torch.rand(2, 3, 4))


def test_single_pass_subclass_in_sequence_mode() -> None:
    class Original(SpikingNet):
        def __init__(self) -> None:
            super().__init__(mode="sequence")
            self.fc = nn.Linear(4, 2)
            self.neuron = Leaky()
            self.Nout = (2,)

        def single_pass(self, xi: Tensor, init: bool) -> Tensor:
            return self.neuron(self.fc(xi), init)

    model = Original()
    x = torch.rand(3, 5, 4) * 3
    y = model(x)
    model.mode = "step"
    assert torch.equal(y, model(x))
    assert "mode='sequence'" not in repr(model)  # back in step mode


class _CountingConv(nn.Conv2d):
    """A convolution that records the batch size of every call it computes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[int] = []

    def forward(self, x: Tensor) -> Tensor:
        self.batches.append(x.shape[0])
        return super().forward(x)


def _conv_net() -> nn.Sequential:
    torch.manual_seed(3)
    net = nn.Sequential(
        _CountingConv(1, 2, 3), Leaky(0.9), nn.Flatten(), nn.Linear(2 * 4 * 4, 3), Leaky(0.8)
    ).double()
    with torch.no_grad():  # excitatory weights so that both layers spike
        net[0].weight.abs_()
        net[3].weight.abs_().mul_(0.3)
    return net


@pytest.mark.parametrize(("limit", "expected"), [(4, [4, 4, 4, 3]), (15, [15]), (None, [15])])
def test_convolutions_run_on_slices_of_the_merged_batch(limit: Any, expected: list[int]) -> None:
    net = _conv_net()
    reference = SpikingNet(copy.deepcopy(net), (3,))
    model = SpikingNet(net, (3,), mode="sequence", max_conv_batch=limit)
    x = torch.rand(3, 5, 1, 6, 6, dtype=torch.float64)  # N=3, T=5: 15 merged samples
    y = model(x)
    conv = net[0]
    assert isinstance(conv, _CountingConv)
    assert conv.batches == expected
    assert "forward" not in conv.__dict__  # the slicing wrapper is gone after the call
    torch.testing.assert_close(y, reference(x), rtol=0, atol=0)
    assert 0 < y.sum() < y.numel()


def test_sliced_convolution_keeps_hooks_and_gradients() -> None:
    net = _conv_net()
    calls: list[int] = []
    net[0].register_forward_hook(lambda m, i, o: calls.append(o.shape[0]))
    x = torch.rand(2, 4, 1, 6, 6, dtype=torch.float64).requires_grad_()
    model = SpikingNet(net, (3,), mode="sequence", max_conv_batch=3)
    model(x).sum().backward()
    assert calls == [8]  # one hook call with the whole merged output
    assert x.grad is not None and net[0].weight.grad is not None
    ref_x = x.detach().clone().requires_grad_()
    ref_net = _conv_net()  # the same weights (seeded)
    SpikingNet(ref_net, (3,), mode="sequence", max_conv_batch=None)(ref_x).sum().backward()
    torch.testing.assert_close(x.grad, ref_x.grad)
    torch.testing.assert_close(net[0].weight.grad, ref_net[0].weight.grad)


def test_the_slicing_wrapper_is_removed_when_the_net_raises() -> None:
    class Boom(nn.Module):
        def forward(self, x: Tensor) -> Tensor:
            raise RuntimeError("boom")

    conv = nn.Conv2d(1, 1, 3)
    model = SpikingNet(nn.Sequential(conv, Boom()), mode="sequence", max_conv_batch=2)
    with pytest.raises(RuntimeError, match="boom"):
        model(torch.rand(2, 3, 1, 5, 5))
    assert "forward" not in conv.__dict__


@pytest.mark.parametrize(("limit", "patched"), [(4, True), (15, False), (100, False)])
def test_convolutions_are_patched_only_when_a_pass_exceeds_the_limit(
    limit: int, patched: bool
) -> None:
    net = _conv_net()
    seen: list[bool] = []
    net[0].register_forward_hook(lambda m, i, o: seen.append("forward" in m.__dict__))
    x = torch.rand(3, 5, 1, 6, 6, dtype=torch.float64)
    SpikingNet(net, (3,), mode="sequence", max_conv_batch=limit)(x)
    assert seen and all(seen) == patched and any(seen) == patched  # N*T = 15 merged samples


def test_auto_conv_slices_on_cpu_only() -> None:
    from spikingtorch.net import AUTO_CONV_BATCH_CPU

    model = SpikingNet(nn.Sequential(nn.Linear(2, 2)), mode="sequence")
    assert model._conv_slice(torch.device("cpu")) == AUTO_CONV_BATCH_CPU
    assert model._conv_slice(torch.device("meta")) is None
    with torch.no_grad():  # inference: one call is not slower
        assert model._conv_slice(torch.device("cpu")) is None
    assert SpikingNet(nn.Linear(2, 2), max_conv_batch=7)._conv_slice(torch.device("cpu")) == 7
    assert "max_conv_batch=7" in repr(
        SpikingNet(nn.Linear(2, 2), mode="sequence", max_conv_batch=7)
    )


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "big"])
def test_bad_max_conv_batch_is_rejected(bad: Any) -> None:
    with pytest.raises(ValueError, match="max_conv_batch must be a positive int, None or 'auto'"):
        SpikingNet(nn.Linear(2, 2), mode="sequence", max_conv_batch=bad)


def test_an_instance_level_forward_is_wrapped_and_put_back() -> None:
    net = _conv_net()
    conv = net[0]
    seen: list[int] = []

    def patched(x: Tensor) -> Tensor:  # e.g. an offloading hook installed by another library
        seen.append(x.shape[0])
        return type(conv).forward(conv, x)

    conv.forward = patched
    x = torch.rand(3, 5, 1, 6, 6, dtype=torch.float64)
    SpikingNet(net, (3,), mode="sequence", max_conv_batch=4)(x)
    assert seen == [4, 4, 4, 3]  # the patch ran, on each slice
    assert conv.__dict__["forward"] is patched  # and is still installed


class _CountingLeaky(Leaky):
    """Records the number of steps of every scan and the state it started from."""

    def __init__(self, decay: float = 0.8) -> None:
        super().__init__(decay)
        self.scans: list[tuple[int, bool]] = []

    def scan(self, x_seq: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        self.scans.append((x_seq.shape[0], state is not None))
        return super().scan(x_seq, state)


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize(
    ("chunk", "expected"),
    [(1, [1] * 7), (3, [3, 3, 1]), (4, [4, 3]), (7, [7]), (50, [7]), (None, [7])],
)
def test_time_chunks_continue_the_state_and_match_step_mode(
    chunk: Any, expected: list[int], batch_first: bool
) -> None:
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(4, 6), _CountingLeaky(0.9), nn.Linear(6, 3), Leaky(0.7))
    step, seq = _pair(net, batch_first=batch_first)
    seq.time_chunk = chunk
    x = torch.rand(5, 7, 4, dtype=torch.float64) * 2
    if not batch_first:
        x = x.transpose(0, 1)
    x1 = x.clone().requires_grad_()
    x2 = x.clone().requires_grad_()
    y1, y2 = step(x1), seq(x2)
    counting = seq.net[1]
    assert isinstance(counting, _CountingLeaky)
    # the first chunk starts at rest, every later one from the state the previous one left
    assert counting.scans == [(k, i > 0) for i, k in enumerate(expected)]
    assert torch.equal(y1, y2) and 0 < y1.sum() < y1.numel()
    _assert_same_gradients(step, seq, (x1, y1), (x2, y2))
    for m in seq.modules():  # the flags do not outlive the call
        if isinstance(m, Neuron):
            assert m._sequence_steps is None and m._sequence_resume is False


def test_a_new_sequence_after_a_chunked_one_starts_at_rest() -> None:
    step, seq = _pair(_sequential(), time_chunk=2)
    x = torch.rand(3, 5, 4, dtype=torch.float64) * 2
    seq(x)
    z = torch.rand(3, 4, 4, dtype=torch.float64) * 2
    assert torch.equal(seq(z), step(z))


def test_auto_time_chunk_follows_the_merged_batch_budget() -> None:
    from spikingtorch.net import AUTO_MERGED_BATCH_CPU

    model = SpikingNet(nn.Sequential(nn.Linear(2, 2)), mode="sequence")
    cpu = torch.device("cpu")
    assert model._time_chunk(64, 128, cpu) == AUTO_MERGED_BATCH_CPU // 128
    assert model._time_chunk(64, 10 * AUTO_MERGED_BATCH_CPU, cpu) == 1  # never below one step
    assert model._time_chunk(3, 1, cpu) == 3  # never above T
    assert model._time_chunk(64, 128, torch.device("meta")) == 64  # not on other devices
    with torch.no_grad():  # inference keeps one pass
        assert model._time_chunk(64, 128, cpu) == 64
    fixed = SpikingNet(nn.Linear(2, 2), mode="sequence", time_chunk=5)
    assert fixed._time_chunk(64, 128, cpu) == 5 and fixed._time_chunk(3, 128, cpu) == 3
    assert "time_chunk=5" in repr(fixed)
    assert "time_chunk" not in repr(model)


@pytest.mark.parametrize("bad", [0, -1, 1.5, False, "all"])
def test_bad_time_chunk_is_rejected(bad: Any) -> None:
    with pytest.raises(ValueError, match="time_chunk must be a positive int, None or 'auto'"):
        SpikingNet(nn.Linear(2, 2), mode="sequence", time_chunk=bad)


def test_a_chunk_whose_state_does_not_fit_raises() -> None:
    class Grow(nn.Module):
        """Changes the feature size between calls: the carried state cannot continue."""

        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        def forward(self, x: Tensor) -> Tensor:
            self.calls += 1
            return x.repeat(1, self.calls)

    model = SpikingNet(nn.Sequential(Grow(), Leaky()), mode="sequence", time_chunk=2)
    with pytest.raises(ValueError, match="state left by the previous time chunk does not fit"):
        model(torch.rand(2, 4, 3))


class _ViewScan(Leaky):
    """A neuron whose scan returns a state that views its spike sequence (``spikes[-1]``)."""

    def scan(self, x_seq: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        spikes, last = super().scan(x_seq, state)
        return spikes, _State(last.v, spikes[-1])


def test_the_kept_state_does_not_view_the_spike_sequence() -> None:
    neuron = _ViewScan()
    model = SpikingNet(nn.Sequential(nn.Linear(4, 5), neuron), mode="sequence").double()
    x = torch.rand(3, 6, 4, dtype=torch.float64) * 2
    y = model(x).detach()
    state = neuron.state
    # a copy of the last step's spikes: holding it does not keep all T*N spikes alive
    assert state.s._base is None
    assert torch.equal(state.s, y[:, -1])
    # the copy keeps the gradient path of the original (a later chunk resumes from it)
    xg = x.clone().requires_grad_()
    model.time_chunk = 2
    model(xg)
    (g,) = torch.autograd.grad(neuron.state.s.sum() + neuron.state.v.sum(), xg)
    assert g[:, :4].abs().sum() > 0


def test_a_new_sequence_drops_the_old_state_before_the_pass() -> None:
    neuron = Leaky()
    seen: list[Any] = []
    neuron.register_forward_pre_hook(lambda m, args: seen.append(m.state))
    net = nn.Sequential(nn.Linear(4, 5), neuron).double()
    model = SpikingNet(net, mode="sequence", time_chunk=2)
    x = torch.rand(3, 5, 4, dtype=torch.float64) * 2
    model(x)
    model(x)
    # each call's first chunk finds no state (the previous call's was dropped first, so its
    # memory is reused by this pass); the later chunks find the state of the chunk before
    assert [s is None for s in seen] == [True, False, False] * 2


def _step_reference(net: nn.Module, x: Tensor) -> Tensor:
    out = SpikingNet(copy.deepcopy(net), (3,))(x)
    assert 0 < out.mean() < 1  # spikes, and not everywhere: a wrong scan would show
    return out


def _drive(n_in: int = 4) -> nn.Linear:
    """A layer whose positive weights make the neurons after it spike now and then."""
    fc = nn.Linear(n_in, 3).double()
    with torch.no_grad():
        fc.weight.copy_(torch.linspace(0.05, 0.4, 3 * n_in, dtype=torch.float64).reshape(3, -1))
        fc.bias.zero_()
    return fc


@torch.no_grad()
def test_a_neuron_swapped_in_after_a_call_runs_as_a_scan() -> None:
    net = nn.Sequential(_drive(), Leaky(0.9), _drive(3), Leaky(0.7))
    model = SpikingNet(net, (3,), mode="sequence")
    x = torch.rand(2, 5, 4, dtype=torch.float64) * 3
    model(x)
    net[3] = Leaky(0.5)  # replaced through __setattr__
    assert torch.equal(model(x), _step_reference(net, x))
    assert net[3].state is not None and net[3].state.v.shape == (2, 3)


@pytest.mark.parametrize("how", ["insert", "delete", "private_dict"])
@torch.no_grad()
def test_tree_changes_that_bypass_setattr_are_seen(how: str) -> None:
    net = nn.Sequential(_drive(), Leaky(0.9))
    model = SpikingNet(net, (3,), mode="sequence")
    x = torch.rand(2, 5, 4, dtype=torch.float64) * 3
    model(x)
    if how == "insert":  # Sequential.insert writes _modules directly
        net.insert(2, Leaky(0.6))
    elif how == "delete":
        del net[1]
        net.append(Leaky(0.6))
    else:
        net._modules["1"] = Leaky(0.6)
    # a neuron the pass did not prepare would treat the T*N merged rows as one step
    assert torch.equal(model(x), _step_reference(net, x))


def test_state_outside_neurons_added_after_a_call_is_refused() -> None:
    net = nn.Sequential(nn.Linear(4, 3), Leaky())
    model = SpikingNet(net, (3,), mode="sequence")
    model(torch.rand(2, 3, 4))
    net.append(Stateful())
    with pytest.raises(ValueError, match=r"module 'net.2' \(Stateful\) keeps state"):
        model(torch.rand(2, 3, 4))


def test_batchnorm_put_back_in_training_mode_warns_again() -> None:
    net = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), Leaky()).eval()
    model = SpikingNet(net, (3,), mode="sequence")
    model(torch.rand(2, 3, 4))  # eval: no warning, and the module tree is now known
    net.train()
    with pytest.warns(UserWarning, match="BatchNorm1d"):
        model(torch.rand(2, 3, 4))


@torch.no_grad()
def test_copies_do_not_share_the_module_plan() -> None:
    import pickle

    model = SpikingNet(_sequential().double(), (3,), mode="sequence")
    x = torch.rand(2, 5, 4, dtype=torch.float64) * 3
    y = model(x)
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert "_plan" not in twin.__dict__
        assert torch.equal(twin(x), y)
        twin_neurons = [m for m in twin.modules() if isinstance(m, Neuron)]
        assert all(m.state is not None for m in twin_neurons)  # its own neurons ran


@torch.no_grad()
def test_modules_that_compare_equal_are_still_told_apart() -> None:
    class Alike(Leaky):  # every instance "equals" every other
        def __eq__(self, other: object) -> bool:
            return isinstance(other, Alike)

        __hash__ = Leaky.__hash__

    net = nn.Sequential(_drive(), Alike(0.9))
    model = SpikingNet(net, (3,), mode="sequence")
    x = torch.rand(2, 5, 4, dtype=torch.float64) * 3
    model(x)
    net[1] = Alike(0.6)  # equal to the old one, but another module: it must scan
    assert torch.equal(model(x), _step_reference(net, x))
