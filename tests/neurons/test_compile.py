"""``torch.compile``: the neuron steps trace into one graph, with no graph break.

``torch._dynamo.explain`` reports graph breaks without compiling; ``fullgraph=True`` turns any
break into an error. The inductor test compiles real CPU code once (it takes tens of seconds).
"""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

import spikingtorch
from spikingtorch.neuron import Neuron

from .test_contract import REGISTERED, inputs, make


@pytest.fixture(autouse=True)
def _fresh_dynamo() -> None:
    torch._dynamo.reset()


@pytest.mark.parametrize("name", REGISTERED)
def test_step_has_no_graph_break(name: str) -> None:
    neuron = make(name)
    x = inputs(name, steps=1)[0]
    state = neuron.init_state(x)
    explanation = torch._dynamo.explain(neuron.step)(x, state)
    assert explanation.graph_break_count == 0, explanation.break_reasons
    assert explanation.graph_count == 1


class TwoLayer(nn.Module):
    def __init__(self, first: Neuron, second: Neuron) -> None:
        super().__init__()
        self.fc1, self.n1 = nn.Linear(5, 5), first
        self.fc2, self.n2 = nn.Linear(5, 5), second

    def forward(self, x: Tensor, init: bool) -> Tensor:
        return self.n2(self.fc2(self.n1(self.fc1(x), init)), init)


@pytest.mark.parametrize("name", REGISTERED)
def test_network_step_compiles_with_fullgraph_forward_and_backward(name: str) -> None:
    torch.manual_seed(0)
    net = TwoLayer(make(name), make(name))
    compiled = torch.compile(net, backend="aot_eager", fullgraph=True)
    x = torch.rand(3, 5) * 2
    expected = [net(x, True), net(x, False)]
    got = [compiled(x, True), compiled(x, False)]
    for e, g in zip(expected, got, strict=True):
        torch.testing.assert_close(g, e)
    got[1].sum().backward()
    assert net.fc1.weight.grad is not None


@pytest.mark.slow
def test_spikingnet_compiles_with_inductor() -> None:
    from spikingtorch_neurons import IF, LIF

    torch.manual_seed(0)
    model = spikingtorch.SpikingNet(
        nn.Sequential(nn.Linear(5, 4), LIF(tau=4.0), nn.Linear(4, 3), IF()), (3,)
    )
    x = torch.rand(8, 6, 5) * 2
    compiled = torch.compile(model)
    out = compiled(x)
    torch.testing.assert_close(out, model(x))
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
