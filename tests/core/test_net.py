"""SpikingNet: the time loop, streaming, variable lengths and input validation.

These tests use only the core: the neuron below is a minimal integrate-and-fire written here
(hard threshold, zero reset), so expected outputs can be worked out by hand.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest
import torch
from torch import Tensor, nn

from spikingtorch.net import SpikingNet
from spikingtorch.neuron import Neuron, detach_states, reset_states


class _State(NamedTuple):
    v: Tensor
    s: Tensor


class Integrator(Neuron):
    """v_t = (1 - s_{t-1}) v_{t-1} + x_t,  s_t = [v_t > 1] (straight-through gradient)."""

    def init_state(self, x: Tensor) -> _State:
        return _State(torch.zeros_like(x), torch.zeros_like(x))

    def step(self, x: Tensor, state: _State) -> tuple[Tensor, _State]:
        v = (1 - state.s) * state.v + x
        hard = (v > 1.0).to(v.dtype)
        s = hard + v - v.detach()  # forward: Heaviside, backward: identity
        return s, _State(v, s)


class SeedStyle(nn.Module):
    """A per-step net with the seed tutorial's forward(xi, init) signature."""

    def __init__(self, n_in: int = 3, n_out: int = 2) -> None:
        super().__init__()
        self.fc = nn.Linear(n_in, n_out, bias=False)
        self.sl = Integrator()

    def forward(self, xi: Tensor, init: bool) -> Tensor:
        return self.sl(self.fc(xi), init)


def identity_net() -> SeedStyle:
    net = SeedStyle(2, 2)
    with torch.no_grad():
        net.fc.weight.copy_(torch.eye(2))
    return net


def test_hand_computed_trajectory() -> None:
    # Input 0.6 on unit 0 and 1.5 on unit 1 at every step, identity weights.
    # unit 0: v = 0.6, 1.2 (spike), then reset: 0.6, 1.2 (spike)  -> 0, 1, 0, 1
    # unit 1: v = 1.5 (spike), reset -> 1.5 (spike) ...            -> 1, 1, 1, 1
    model = SpikingNet(identity_net(), (2,))
    x = torch.tensor([0.6, 1.5]).expand(1, 4, 2).contiguous()
    out = model(x)
    expected = torch.tensor([[[0.0, 1.0], [1.0, 1.0], [0.0, 1.0], [1.0, 1.0]]])
    assert out.shape == (1, 4, 2)
    torch.testing.assert_close(out, expected)


def test_time_first_layout() -> None:
    model_bf = SpikingNet(identity_net(), (2,))
    model_tf = SpikingNet(identity_net(), (2,), batch_first=False)
    x = torch.rand(3, 5, 2) * 1.2
    out_bf = model_bf(x)
    out_tf = model_tf(x.transpose(0, 1))
    assert out_tf.shape == (5, 3, 2)
    torch.testing.assert_close(out_tf.transpose(0, 1), out_bf)


def test_two_calls_identical_because_init_resets() -> None:
    torch.manual_seed(0)
    model = SpikingNet(SeedStyle(), (2,))
    x = torch.rand(4, 6, 3)
    first = model(x)
    second = model(x)
    torch.testing.assert_close(first, second)
    # The state after a call is not zero, so equality really comes from the reset.
    assert model.net is not None
    assert model.net.sl.state is not None


def test_streaming_matches_forward() -> None:
    torch.manual_seed(1)
    model = SpikingNet(SeedStyle(), (2,))
    x = torch.rand(4, 7, 3) * 2
    full = model(x)
    model.reset()
    steps = torch.stack([model.step(x[:, t]) for t in range(7)], 1)
    torch.testing.assert_close(steps, full)
    # reset() starts again: the first step equals forward's first step.
    model.reset()
    torch.testing.assert_close(model.step(x[:, 0]), full[:, 0])


def test_streaming_continues_without_reset() -> None:
    model = SpikingNet(identity_net(), (2,))
    x = torch.tensor([[0.6, 0.0]])
    assert model.step(x).tolist() == [[0.0, 0.0]]
    assert model.step(x).tolist() == [[1.0, 0.0]]  # v = 1.2: state was kept


def test_detach_cuts_graph() -> None:
    model = SpikingNet(SeedStyle(), (2,))
    x = torch.rand(2, 3) + 0.1
    model.step(x)
    state = model.net.sl.state  # type: ignore[union-attr]
    assert state.v.grad_fn is not None
    model.detach()
    state = model.net.sl.state  # type: ignore[union-attr]
    assert state.v.grad_fn is None and state.s.grad_fn is None
    # Values are kept, and a further step builds a graph only back to the detach point.
    y = model.step(x)
    y.sum().backward()
    assert model.net.fc.weight.grad is not None  # type: ignore[union-attr]


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_model_mid_stream_with_gradients_can_be_copied(how: str) -> None:
    import copy
    import pickle

    torch.manual_seed(3)
    model = SpikingNet(SeedStyle(), (2,))
    x = torch.rand(4, 3) + 0.2
    model.step(x)
    model.step(x)
    assert model.net.sl.state.v.grad_fn is not None  # type: ignore[union-attr]
    # torch refuses to deep-copy a non-leaf tensor; the copy carries the state's values
    twin = copy.deepcopy(model) if how == "deepcopy" else pickle.loads(pickle.dumps(model))
    theirs, ours = twin.net.sl.state, model.net.sl.state  # type: ignore[union-attr]
    assert theirs.v.grad_fn is None and torch.equal(theirs.v, ours.v.detach())
    assert theirs.v.data_ptr() != ours.v.data_ptr()  # its own memory
    assert ours.v.grad_fn is not None  # the original keeps its graph
    torch.testing.assert_close(twin.step(x), model.step(x))  # both continue the same stream


def test_lengths_zero_outputs_past_end() -> None:
    model = SpikingNet(identity_net(), (2,))
    x = torch.full((3, 4, 2), 1.5)  # spikes at every step without a mask
    out = model(x, lengths=torch.tensor([4, 2, 1]))
    expected = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=torch.float32)
    torch.testing.assert_close(out[..., 0], expected)
    torch.testing.assert_close(out[..., 1], expected)


def test_lengths_shorter_than_t_everywhere_pads() -> None:
    model = SpikingNet(identity_net(), (2,), batch_first=False)
    x = torch.full((5, 2, 2), 1.5)
    out = model(x, lengths=[2, 3])
    assert out.shape == (5, 2, 2)
    assert out[:, 0, 0].tolist() == [1, 1, 0, 0, 0]
    assert out[:, 1, 0].tolist() == [1, 1, 1, 0, 0]


def test_lengths_gradient_ignores_masked_steps() -> None:
    torch.manual_seed(2)
    net = SeedStyle()
    model = SpikingNet(net, (2,))
    x = torch.rand(2, 5, 3, requires_grad=True)
    model(x, lengths=[2, 5]).sum().backward()
    assert x.grad is not None
    assert torch.all(x.grad[0, 2:] == 0)  # sample 0 ends after step 1: later inputs do not matter


def test_sequential_net_without_init_is_reset() -> None:
    net = nn.Sequential(nn.Identity(), Integrator())
    model = SpikingNet(net, 2)
    x = torch.full((1, 2, 2), 0.6)
    torch.testing.assert_close(model(x), torch.tensor([[[0.0, 0.0], [1.0, 1.0]]]))
    # A one-step call leaves v = 0.6 and no spike; without a reset, a second call would
    # reach v = 1.2 and spike at t = 0. With the reset it starts again from v = 0.
    x1 = torch.full((1, 1, 2), 0.6)
    model(x1)
    torch.testing.assert_close(model(x1), torch.zeros(1, 1, 2))


class OriginalStyle(SpikingNet):
    """The original package's subclassing style: single_pass, and Nout set after init."""

    def __init__(self) -> None:
        super().__init__()
        self.Nout = (2,)
        self.fc = nn.Linear(3, 2)
        self.sl = Integrator()

    def single_pass(self, xi: Tensor, init: bool) -> Tensor:
        return self.sl(self.fc(xi), init)


def test_single_pass_subclass() -> None:
    torch.manual_seed(3)
    model = OriginalStyle()
    x = torch.rand(4, 5, 3)
    out = model(x)
    assert out.shape == (4, 5, 2)
    assert model.out_shape == (2,)
    # Same as a plain loop with init at t=0.
    ref = torch.stack([model.single_pass(x[:, t], t == 0) for t in range(5)], 1)
    torch.testing.assert_close(out, ref)


def test_subclass_with_wrong_nout_is_reported() -> None:
    model = OriginalStyle()
    model.Nout = (3,)
    with pytest.raises(ValueError, match=r"out_shape=\(3,\) expects \(4, 3\)"):
        model(torch.rand(4, 5, 3))


def test_no_net_and_no_single_pass() -> None:
    with pytest.raises(TypeError, match="has no net"):
        SpikingNet()(torch.rand(1, 2, 3))


def test_training_step_changes_weights() -> None:
    torch.manual_seed(4)
    model = SpikingNet(SeedStyle(3, 2), (2,))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.net.fc.weight.detach().clone()  # type: ignore[union-attr]
    out = model(torch.rand(8, 6, 3) * 2)
    loss = (out.sum(1) - torch.tensor([3.0, 0.0])).pow(2).mean()
    loss.backward()
    opt.step()
    assert not torch.equal(before, model.net.fc.weight)  # type: ignore[union-attr]


def test_reset_and_detach_states_walk_the_tree() -> None:
    net = nn.Sequential(Integrator(), nn.Sequential(Integrator()))
    x = torch.ones(1, 2, requires_grad=True)
    net(x * 0.5)
    neurons = [m for m in net.modules() if isinstance(m, Integrator)]
    assert all(n.state is not None for n in neurons)
    detach_states(net)
    assert all(n.state.v.grad_fn is None for n in neurons)
    reset_states(net)
    assert all(n.state is None for n in neurons)


def test_state_reinitialised_when_batch_changes() -> None:
    n = Integrator()
    n(torch.full((2, 3), 0.6))
    out = n(torch.full((5, 3), 0.6))  # new shape: fresh state, v = 0.6, no spike
    assert out.shape == (5, 3) and out.sum() == 0


def test_extra_repr() -> None:
    model = SpikingNet(identity_net(), (2,), batch_first=False)
    assert "out_shape=(2,), batch_first=False, mode='step'" in repr(model)


# -- bad input ----------------------------------------------------------------------------------


@pytest.fixture
def model() -> SpikingNet:
    return SpikingNet(SeedStyle(), (2,))


def test_rank_too_small(model: SpikingNet) -> None:
    with pytest.raises(
        ValueError, match=r"at least 3 dimensions \(N, T, \*in\), got shape \(4, 3\)"
    ):
        model(torch.rand(4, 3))


def test_zero_steps(model: SpikingNet) -> None:
    with pytest.raises(ValueError, match=r"T = 0 time steps \(shape \(4, 0, 3\)\)"):
        model(torch.rand(4, 0, 3))


def test_integer_dtype(model: SpikingNet) -> None:
    with pytest.raises(ValueError, match=r"floating dtype .* got torch.int64"):
        model(torch.ones(4, 2, 3, dtype=torch.int64))


def test_not_a_tensor(model: SpikingNet) -> None:
    with pytest.raises(TypeError, match="must be a torch.Tensor, got list"):
        model([[1.0]])  # type: ignore[arg-type]


def test_out_shape_mismatch() -> None:
    model = SpikingNet(SeedStyle(3, 2), (10,))
    with pytest.raises(
        ValueError, match=r"returned shape \(4, 2\) per step, but out_shape=\(10,\)"
    ):
        model(torch.rand(4, 2, 3))


@pytest.mark.parametrize(
    ("lengths", "message"),
    [
        ([3, 3], r"shape \(4,\) .* got \(2,\)"),
        ([[1, 2, 3, 4]], r"shape \(4,\) .* got \(1, 4\)"),
        ([0, 1, 2, 3], r"\[1, T\] = \[1, 5\], got values from 0 to 3"),
        ([1, 2, 3, 6], r"\[1, T\] = \[1, 5\], got values from 1 to 6"),
    ],
)
def test_bad_lengths(model: SpikingNet, lengths: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        model(torch.rand(4, 5, 3), lengths=lengths)


def test_float_lengths(model: SpikingNet) -> None:
    with pytest.raises(TypeError, match="lengths must hold integers"):
        model(torch.rand(4, 5, 3), lengths=torch.tensor([1.0, 2.0, 3.0, 4.0]))


def test_bad_constructor_arguments() -> None:
    with pytest.raises(TypeError, match="net must be a torch.nn.Module"):
        SpikingNet(lambda x: x, (2,))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mode must be one of"):
        SpikingNet(SeedStyle(), (2,), mode="fast")
    with pytest.raises(ValueError, match="non-negative ints"):
        SpikingNet(SeedStyle(), (-1,))


def test_step_input_validation(model: SpikingNet) -> None:
    with pytest.raises(ValueError, match=r"at least 2 dimensions \(N, \*in\), got shape \(3,\)"):
        model.step(torch.rand(3))


def test_steps_are_views_of_the_input() -> None:
    seen: list[Tensor] = []

    class Spy(nn.Module):
        def forward(self, xi: Tensor, init: bool) -> Tensor:
            seen.append(xi)
            return xi[:, :1]

    x = torch.rand(2, 3, 4)
    SpikingNet(Spy(), (1,))(x)
    assert len(seen) == 3
    for t, xi in enumerate(seen):  # no per-step copy: each step shares the input's memory
        assert xi.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
        assert torch.equal(xi, x[:, t])
