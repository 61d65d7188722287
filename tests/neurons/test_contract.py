"""The neuron contract, checked for every neuron the plugin registers.

The list of models comes from the registry itself, so a model added to ``plugin.py`` without
a passing contract fails here. Rules (DESIGN §3.2):

* ``init=True`` starts a new sequence: a module that has already seen another sequence gives
  exactly what a fresh module gives;
* a new batch size (or dtype, device) re-initialises the state instead of failing;
* ``detach_state()`` keeps the state's values and cuts its autograd history;
* the state and the spikes follow the input's dtype and device (the ``meta`` device stands in
  for an accelerator: any tensor created on the CPU by mistake makes the step fail);
* a ``state_dict`` round trip reproduces the outputs; ``repr`` shows the parameters;
* ``scan`` over a sequence equals stepping; gradients reach the input.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from torch import Tensor

import spikingtorch
from spikingtorch.neuron import Neuron


@dataclass(frozen=True)
class Case:
    """How to build a registered neuron and feed it: constructor kwargs and input shape."""

    kwargs: dict[str, Any] = field(default_factory=dict)
    shape: tuple[int, ...] = (4, 2, 3, 3)  # (N, C, H, W): any feature shape must work
    scale: float = 1.2  # input magnitude: enough to make every model spike sometimes


# Models that need constructor arguments or a particular input to be exercised.
CASES: dict[str, Case] = {
    "lif": Case({"tau": 3.0}),
    # conductances: the membrane approaches g / (1 + g) < 1, so threshold 0.5 needs g > 1
    "biolif": Case(scale=3.0),
    "recurrent_lif": Case({"size": 5}, shape=(4, 5)),
}

REGISTERED = spikingtorch.get_registry("neurons").names()


def make(name: str, **overrides: Any) -> Neuron:
    case = CASES.get(name, Case())
    neuron = spikingtorch.get_neuron(name, **{**case.kwargs, **overrides})
    assert isinstance(neuron, Neuron), f"{name} is not a spikingtorch.Neuron"
    return neuron


def inputs(name: str, steps: int = 6, batch: int | None = None, seed: int = 0) -> list[Tensor]:
    case = CASES.get(name, Case())
    shape = case.shape if batch is None else (batch, *case.shape[1:])
    gen = torch.Generator().manual_seed(seed)
    return [torch.rand(shape, generator=gen) * case.scale for _ in range(steps)]


def run(neuron: Neuron, xs: list[Tensor], init_first: bool = True) -> Tensor:
    return torch.stack([neuron(x, init=init_first and t == 0) for t, x in enumerate(xs)])


def state_tensors(state: Any) -> list[Tensor]:
    if isinstance(state, Tensor):
        return [state]
    if isinstance(state, tuple):
        return [t for s in state for t in state_tensors(s)]
    return []


def test_registry_lists_the_first_party_models() -> None:
    assert {"if", "lif"} <= set(REGISTERED)


@pytest.fixture(params=REGISTERED)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_spikes_are_binary_and_shaped_like_the_input(name: str) -> None:
    out = run(make(name), inputs(name))
    assert out.shape == (6, *CASES.get(name, Case()).shape)
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    assert out.sum() > 0, "the test input should make the model spike at least once"


def test_init_starts_a_new_sequence(name: str) -> None:
    torch.manual_seed(0)
    used = make(name)
    fresh = copy.deepcopy(used)
    run(used, inputs(name, seed=1))  # leaves a non-trivial state behind
    xs = inputs(name, seed=2)
    torch.testing.assert_close(run(used, xs), run(fresh, xs))


def test_new_batch_size_reinitialises(name: str) -> None:
    torch.manual_seed(0)
    neuron = make(name)
    fresh = copy.deepcopy(neuron)
    run(neuron, inputs(name, batch=4))
    xs = inputs(name, batch=3, seed=5)
    # No init flag: the changed shape alone must start a new sequence.
    torch.testing.assert_close(run(neuron, xs, init_first=False), run(fresh, xs))


def test_detach_state_keeps_values_and_cuts_history(name: str) -> None:
    neuron = make(name)
    xs = [x.requires_grad_() for x in inputs(name, steps=3)]
    run(neuron, xs)
    before = [t.detach().clone() for t in state_tensors(neuron.state)]
    assert any(t.grad_fn is not None for t in state_tensors(neuron.state))
    neuron.detach_state()
    after = state_tensors(neuron.state)
    assert all(t.grad_fn is None for t in after)
    for b, a in zip(before, after, strict=True):
        torch.testing.assert_close(a, b)


def test_reset_state_forgets(name: str) -> None:
    neuron = make(name)
    run(neuron, inputs(name, steps=2))
    neuron.reset_state()
    assert neuron.state is None


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_dtype_follows_input(name: str, dtype: torch.dtype) -> None:
    neuron = make(name).to(dtype) if dtype == torch.float64 else make(name)
    xs = [x.to(dtype) for x in inputs(name)]
    out = run(neuron, xs)
    assert out.dtype == dtype
    assert all(t.dtype == dtype for t in state_tensors(neuron.state))


def test_float64_matches_float32(name: str) -> None:
    torch.manual_seed(0)
    neuron = make(name)
    neuron64 = copy.deepcopy(neuron).double()
    xs = inputs(name)
    torch.testing.assert_close(run(neuron64, [x.double() for x in xs]).float(), run(neuron, xs))


def test_device_follows_input(name: str) -> None:
    neuron = make(name).to("meta")
    out = run(neuron, [x.to("meta") for x in inputs(name)])
    assert out.device.type == "meta"
    assert all(t.device.type == "meta" for t in state_tensors(neuron.state))


def test_state_dict_round_trip(name: str) -> None:
    torch.manual_seed(0)
    trained = make(name)
    with torch.no_grad():  # move every parameter and buffer away from its initial value
        for t in [*trained.parameters(), *trained.buffers()]:
            if t.is_floating_point():
                t.mul_(0.9)
    torch.manual_seed(1)
    restored = make(name)
    restored.load_state_dict(trained.state_dict())
    xs = inputs(name)
    torch.testing.assert_close(run(restored, xs), run(trained, xs))


def test_repr_shows_parameters(name: str) -> None:
    text = repr(make(name))
    assert "threshold=" in text, text


def test_scan_equals_stepping(name: str) -> None:
    torch.manual_seed(0)
    neuron = make(name)
    xs = inputs(name)
    stepped = run(copy.deepcopy(neuron), xs)
    scanned, state = neuron.scan(torch.stack(xs))
    torch.testing.assert_close(scanned, stepped)
    assert state is not None


def test_gradient_reaches_input(name: str) -> None:
    neuron = make(name)
    xs = [x.requires_grad_() for x in inputs(name)]
    run(neuron, xs).sum().backward()
    grads = [x.grad for x in xs]
    assert all(g is not None for g in grads)
    assert sum(float(g.abs().sum()) for g in grads if g is not None) > 0


def test_learnable_parameters_get_gradients(name: str) -> None:
    neuron = make(name, learn_threshold=True)
    run(neuron, inputs(name)).sum().backward()
    threshold = neuron.threshold
    assert isinstance(threshold, torch.nn.Parameter)
    assert threshold.grad is not None and threshold.grad.abs().sum() > 0


def test_summary_is_listed(name: str) -> None:
    entry = spikingtorch.get_registry("neurons").lookup(name)
    assert entry.summary, f"{name} has no summary"
