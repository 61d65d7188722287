"""The core's networks registry: ``mlp`` and ``convnet``, built with neurons looked up by name.

Runs with the core alone (a toy neuron registered in-process) and, where the neurons plugin is
installed, with its real neurons.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import Tensor, nn

import spikingtorch
from spikingtorch import SpikingNet, hookimpl
from spikingtorch.networks import MLP, ConvNet, LeakyIntegrator, convnet, mlp
from spikingtorch.neuron import Neuron
from spikingtorch.registry import Registry

HAS_NEURONS = importlib.util.find_spec("spikingtorch_neurons") is not None
REAL_NEURONS = ["if", "lif", "alif", "synaptic_lif", "recurrent_lif"]


class Toy(Neuron):
    """Integrate and fire at 0.5 with a straight-through gradient; records its constructor."""

    built: list[dict[str, Any]] = []  # noqa: RUF012

    def __init__(self, threshold: float = 0.5, size: Any = None) -> None:
        super().__init__()
        self.threshold = threshold
        self.size = size
        Toy.built.append({"threshold": threshold, "size": size})

    def init_state(self, x: Tensor) -> tuple[Tensor]:
        return (torch.zeros_like(x),)

    def step(self, x: Tensor, state: tuple[Tensor]) -> tuple[Tensor, tuple[Tensor]]:
        v = state[0] + x
        hard = (v > self.threshold).to(x.dtype)
        s = hard + (v - v.detach())  # value of the spike, gradient of v
        return s, ((1 - hard) * v,)


class NoSize(Neuron):
    """A neuron without a ``size`` argument."""

    def init_state(self, x: Tensor) -> tuple[Tensor]:
        return (torch.zeros_like(x),)

    def step(self, x: Tensor, state: tuple[Tensor]) -> tuple[Tensor, tuple[Tensor]]:
        return (x > 0).to(x.dtype), state


class ToyNeurons:
    @hookimpl
    def register_neurons(self, registry: Registry) -> None:
        registry.add("toy", Toy)
        registry.add("nosize", NoSize)


@pytest.fixture
def toy(plugin_sandbox: Callable[..., None]) -> None:
    spikingtorch.register_plugin(ToyNeurons(), name="toy-neurons")
    Toy.built.clear()


def _run(net: nn.Module, x: Tensor, classes: int) -> Tensor:
    return SpikingNet(net, (classes,))(x)


@pytest.mark.usefixtures("toy")
@pytest.mark.parametrize("in_shape", [(40,), (2, 5), (1, 8, 8)])
@pytest.mark.parametrize("hidden", [(), (16,), (16, 8)])
@pytest.mark.parametrize("recurrent", [False, True])
def test_mlp_shapes(in_shape: tuple[int, ...], hidden: tuple[int, ...], recurrent: bool) -> None:
    net = mlp(in_shape, 3, hidden=hidden, neuron="toy", recurrent=recurrent)
    assert isinstance(net, MLP)
    sizes = [math.prod(in_shape), *hidden]
    assert [layer.in_features for layer in net.layers] == sizes[: len(hidden)]
    assert net.out.in_features == (hidden[-1] if hidden else math.prod(in_shape))
    out = _run(net, torch.rand(4, 6, *in_shape), 3)
    assert out.shape == (4, 6, 3)
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    assert len(Toy.built) == len(hidden) + 1
    assert [b["size"] for b in Toy.built] == [*hidden, 3]  # the layer size is passed as size=


@pytest.mark.usefixtures("toy")
def test_mlp_membrane_readout_and_params() -> None:
    net = mlp(7, 4, hidden=5, neuron="toy", neuron_params={"threshold": 0.25}, readout="membrane")
    assert isinstance(net.out_neuron, LeakyIntegrator)
    assert [b["threshold"] for b in Toy.built] == [0.25]
    out = _run(net, torch.rand(2, 3, 7), 4)
    assert out.shape == (2, 3, 4)
    assert not set(out.unique().tolist()) <= {0.0, 1.0}  # a membrane, not spikes


@pytest.mark.usefixtures("toy")
def test_neuron_without_size_argument() -> None:
    net = mlp((3,), 2, hidden=(4,), neuron="nosize")
    assert _run(net, torch.rand(2, 3, 3), 2).shape == (2, 3, 2)


@pytest.mark.usefixtures("toy")
def test_recurrent_mlp_starts_fresh_and_learns_its_feedback() -> None:
    torch.manual_seed(0)
    net = mlp((5,), 3, hidden=(6,), neuron="toy", recurrent=True)
    assert net.recurrent is not None
    model = SpikingNet(net, (3,))
    x = torch.rand(2, 7, 5)
    first = model(x)
    second = model(x)  # no state leaks from the first sequence into the second
    assert torch.equal(first, second)
    first.sum().backward()
    assert net.recurrent[0].weight.grad is not None
    assert net.recurrent[0].weight.grad.abs().sum() > 0
    net.detach_state()
    net.reset_state()
    assert net._previous == [None]


@pytest.mark.usefixtures("toy")
def test_weight_scale_multiplies_the_initial_weights() -> None:
    torch.manual_seed(1)
    plain = mlp((5,), 3, hidden=(4,), neuron="toy")
    torch.manual_seed(1)
    scaled = mlp((5,), 3, hidden=(4,), neuron="toy", weight_scale=3.0)
    assert torch.allclose(scaled.layers[0].weight, 3 * plain.layers[0].weight)
    assert torch.equal(scaled.layers[0].bias, plain.layers[0].bias)
    with pytest.raises(ValueError, match="weight_scale"):
        mlp((5,), 3, neuron="toy", weight_scale=0)


@pytest.mark.usefixtures("toy")
@pytest.mark.parametrize(
    ("in_shape", "channels", "flat"),
    [
        ((1, 28, 28), (4, 6), 6 * 10 * 10),  # the seed tutorial: 600 features
        ((3, 32, 32), (4, 6), 6 * 12 * 12),
        ((28, 28), (4, 6), 600),  # (H, W) gets a channel axis
        ((2, 16, 12), (5,), 5 * 7 * 5),
        ((1, 20, 20), (4, 6, 8), 8 * 3 * 3),
    ],
)
def test_convnet_shapes(in_shape: tuple[int, ...], channels: tuple[int, ...], flat: int) -> None:
    net = convnet(in_shape, 10, channels=channels, neuron="toy")
    assert isinstance(net, ConvNet)
    assert net.flat_features == flat
    assert net.out.in_features == flat and net.out.bias is None
    out = _run(net, torch.rand(2, 3, *in_shape), 10)
    assert out.shape == (2, 3, 10)
    sizes = [b["size"] for b in Toy.built]
    assert sizes[-1] == 10 and len(sizes) == len(channels) + 1


@pytest.mark.usefixtures("toy")
def test_convnet_is_the_seed_tutorial_net() -> None:
    net = convnet((1, 28, 28), 10, neuron="toy")
    conv1, conv2 = net.convs
    assert (conv1.in_channels, conv1.out_channels, conv1.kernel_size, conv1.stride) == (
        1,
        4,
        (4, 4),
        (2, 2),
    )
    assert (conv2.in_channels, conv2.out_channels, conv2.kernel_size, conv2.stride) == (
        4,
        6,
        (4, 4),
        (1, 1),
    )
    assert (net.out.in_features, net.out.out_features) == (600, 10)


@pytest.mark.usefixtures("toy")
def test_convnet_bad_shapes() -> None:
    with pytest.raises(ValueError, match="too small"):
        convnet((1, 6, 6), 10, neuron="toy")
    with pytest.raises(ValueError, match=r"\(C, H, W\) or \(H, W\)"):
        convnet((100,), 10, neuron="toy")
    with pytest.raises(ValueError, match="input_shape"):
        mlp((0, 3), 10, neuron="toy")
    with pytest.raises(ValueError, match="num_classes"):
        mlp((3,), 0, neuron="toy")
    with pytest.raises(ValueError, match="readout"):
        mlp((3,), 2, neuron="toy", readout="voltage")


@pytest.mark.usefixtures("toy")
def test_unknown_neuron_lists_the_installed_ones() -> None:
    with pytest.raises(spikingtorch.ComponentNotFoundError, match="Available neurons: nosize, toy"):
        mlp((3,), 2, neuron="lif_typo")


def test_networks_are_registered_by_the_core_without_importing_them(
    plugin_sandbox: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "spikingtorch.networks")  # restored after the test
    registry = spikingtorch.get_registry("networks")
    assert registry.names() == ["convnet", "mlp"]
    assert registry.providers() == ["spikingtorch-core"]
    assert "spikingtorch.networks" not in sys.modules  # listed from "module:attribute" strings
    assert registry.lookup("mlp").target == "spikingtorch.networks:mlp"


@pytest.mark.usefixtures("toy")
def test_get_network_builds_by_name() -> None:
    net = spikingtorch.get_network("mlp", input_shape=(4,), num_classes=2, hidden=3, neuron="toy")
    assert isinstance(net, MLP)
    conv = spikingtorch.get_network("convnet", input_shape=(12, 12), num_classes=2, neuron="toy")
    assert isinstance(conv, ConvNet)


def test_leaky_integrator() -> None:
    li = LeakyIntegrator(tau=2.0)
    a = math.exp(-0.5)
    x = torch.ones(1, 1)
    values = [li(x, init=(t == 0)).item() for t in range(3)]
    assert values == pytest.approx([1.0, 1 + a, 1 + a + a * a])
    assert li(x, init=True).item() == 1.0
    li.detach_state()
    li.reset_state()
    assert li._v is None
    with pytest.raises(ValueError, match="tau"):
        LeakyIntegrator(tau=0.0)


@pytest.mark.skipif(not HAS_NEURONS, reason="needs spikingtorch-neurons")
@pytest.mark.parametrize("neuron", REAL_NEURONS)
def test_real_neurons_in_both_networks(neuron: str) -> None:
    torch.manual_seed(0)
    net = mlp((2, 5), 3, hidden=(8,), neuron=neuron, neuron_params={"threshold": 0.5})
    out = _run(net, torch.rand(4, 6, 2, 5) * 2, 3)
    assert out.shape == (4, 6, 3)
    out.sum().backward()
    assert net.layers[0].weight.grad is not None
    params: dict[str, Any] = {"recurrent": "one_to_one"} if neuron == "recurrent_lif" else {}
    conv = convnet((1, 12, 12), 3, neuron=neuron, neuron_params=params)
    assert _run(conv, torch.rand(2, 4, 1, 12, 12), 3).shape == (2, 4, 3)
