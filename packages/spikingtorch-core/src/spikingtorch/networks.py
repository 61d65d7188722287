"""Neuron-agnostic per-step networks of the ``networks`` registry: :func:`mlp` and :func:`convnet`.

Each factory takes the per-step input shape ``in_shape`` (one time step of one sample, no batch
and no time axis) and the number of classes ``C``, builds its spiking neurons *by registry name*
(``neuron="lif"``, ``neuron_params={"tau": 5.0}``), and returns a per-step ``nn.Module`` with the
seed contract ``forward(x_t, init)``: ``(N, *in_shape) -> (N, C)``. Wrap it in
:class:`spikingtorch.SpikingNet` to run it over time::

    net = spikingtorch.get_network("mlp", input_shape=(100,), num_classes=10, neuron="lif")
    model = SpikingNet(net, (10,))     # (N, T, 100) -> (N, T, 10)

When a neuron's factory takes a ``size`` argument that ``neuron_params`` does not set (e.g.
``recurrent_lif``), the layer's feature size is passed as ``size``.
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["MLP", "ConvNet", "LeakyIntegrator", "build_neuron", "convnet", "mlp"]

_READOUTS = ("neuron", "membrane")


def _shape(value: Any, what: str) -> tuple[int, ...]:
    dims = (value,) if isinstance(value, int) else tuple(value)
    if not dims or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in dims):
        raise ValueError(f"{what} must be a non-empty tuple of positive ints, got {value!r}")
    return dims


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return value


def _positive(what: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{what} must be a positive number, got {value!r}")
    return float(value)


def _scale_weights(module: nn.Module, scale: float) -> None:
    """Multiply the weights of every ``Linear``/``Conv2d`` in ``module`` by ``scale``."""
    if scale == 1.0:
        return
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, (nn.Linear, nn.Conv2d)):
                layer.weight.mul_(scale)


def _takes(factory: Any, name: str) -> bool:
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False
    return name in params


def build_neuron(
    neuron: str, params: Mapping[str, Any] | None, size: int | tuple[int, ...]
) -> nn.Module:
    """Build the neuron ``neuron`` from the ``neurons`` registry for a layer of ``size`` features.

    Args:
        neuron: a registry name (``"lif"``) or qualified name (``"plugin:lif"``).
        params: keyword arguments of the neuron's factory.
        size: the layer's feature size, passed as ``size=`` when the factory takes it and
            ``params`` does not set it.

    Raises:
        ComponentNotFoundError: no neuron of that name (the message lists the installed ones).
    """
    from spikingtorch.plugins import get_registry

    kwargs = dict(params or {})
    factory = get_registry("neurons").resolve(neuron)
    if "size" not in kwargs and _takes(factory, "size"):
        kwargs["size"] = size
    module = factory(**kwargs)
    if not isinstance(module, nn.Module):
        raise TypeError(f"neuron {neuron!r} built a {type(module).__name__}, not an nn.Module")
    return module


class LeakyIntegrator(nn.Module):
    """Non-spiking leaky readout: its output is the membrane ``v_t = a v_{t-1} + x_t``.

    ``a = exp(-1/tau)``; ``v`` starts at zero when ``init`` is true. Pair it with the
    ``max_membrane`` decoder (the usual readout for Randman and SHD).

    Shape:
        ``(N, *F) -> (N, *F)``.

    Example:
        >>> import torch
        >>> li = LeakyIntegrator(tau=1 / math.log(2))  # a = 0.5
        >>> x = torch.ones(1, 2)
        >>> [round(li(x, init=(t == 0))[0, 0].item(), 3) for t in range(3)]
        [1.0, 1.5, 1.75]
    """

    def __init__(self, tau: float = 10.0) -> None:
        super().__init__()
        if not (isinstance(tau, (int, float)) and not isinstance(tau, bool) and tau > 0):
            raise ValueError(f"LeakyIntegrator: tau must be a positive number, got {tau!r}")
        self.tau = float(tau)
        self.decay = math.exp(-1.0 / self.tau)
        self._v: Tensor | None = None

    def forward(self, x_t: Tensor, init: bool = False) -> Tensor:
        v = self._v
        if init or v is None or v.shape != x_t.shape:
            v = torch.zeros_like(x_t)
        v = self.decay * v + x_t
        self._v = v
        return v

    def reset_state(self) -> None:
        """Forget the membrane."""
        self._v = None

    def detach_state(self) -> None:
        """Cut the membrane's autograd history."""
        if self._v is not None:
            self._v = self._v.detach()

    def extra_repr(self) -> str:
        return f"tau={self.tau:g}"


def _readout(
    readout: str, neuron: str, params: Mapping[str, Any] | None, size: int, tau: float
) -> nn.Module:
    if readout not in _READOUTS:
        raise ValueError(f"readout must be one of {_READOUTS}, got {readout!r}")
    if readout == "membrane":
        return LeakyIntegrator(tau)
    return build_neuron(neuron, params, size)


class MLP(nn.Module):
    """Fully connected spiking network: ``Linear -> neuron`` per hidden layer, then a readout.

    Optional recurrence (``recurrent=True``) adds, for every hidden layer, the previous step's
    spikes of that layer through a learned ``Linear(H, H, bias=False)``:
    ``z_t = W x_t + b + V s_{t-1}``. It works with any neuron (the recurrence lives here).

    Shape:
        ``(N, *in_shape) -> (N, C)`` per step (the input is flattened).
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        hidden: Sequence[int],
        neuron: str,
        neuron_params: Mapping[str, Any] | None,
        recurrent: bool,
        readout: str,
        readout_tau: float,
        weight_scale: float,
    ) -> None:
        super().__init__()
        sizes = [in_features, *hidden]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
        self.neurons = nn.ModuleList(build_neuron(neuron, neuron_params, h) for h in hidden)
        self.recurrent = (
            nn.ModuleList(nn.Linear(h, h, bias=False) for h in hidden) if recurrent else None
        )
        self.out = nn.Linear(sizes[-1], num_classes)
        self.out_neuron = _readout(readout, neuron, neuron_params, num_classes, readout_tau)
        self._previous: list[Tensor | None] = [None] * len(hidden)
        _scale_weights(self, weight_scale)

    def forward(self, x_t: Tensor, init: bool = False) -> Tensor:
        x = x_t.flatten(1)
        for i, (layer, neuron) in enumerate(zip(self.layers, self.neurons, strict=True)):
            z = layer(x)
            if self.recurrent is not None:
                prev = self._previous[i]
                if not (init or prev is None or prev.shape != z.shape):
                    z = z + self.recurrent[i](prev)
            x = neuron(z, init)
            if self.recurrent is not None:
                self._previous[i] = x
        return self.out_neuron(self.out(x), init)

    def reset_state(self) -> None:
        """Forget the previous spikes of the recurrent layers (neurons reset themselves)."""
        self._previous = [None] * len(self._previous)

    def detach_state(self) -> None:
        """Cut the autograd history of the previous spikes."""
        self._previous = [None if p is None else p.detach() for p in self._previous]


def mlp(
    input_shape: int | Sequence[int],
    num_classes: int,
    *,
    hidden: int | Sequence[int] = (128,),
    neuron: str = "lif",
    neuron_params: Mapping[str, Any] | None = None,
    recurrent: bool = False,
    readout: str = "neuron",
    readout_tau: float = 10.0,
    weight_scale: float = 1.0,
) -> MLP:
    """A fully connected spiking network (multi-layer perceptron) for one time step.

    Args:
        input_shape: per-step input shape ``in_shape`` (flattened to ``prod(in_shape)``).
        num_classes: ``C``, the number of outputs.
        hidden: the hidden layer sizes (``()`` for a single ``Linear -> neuron`` layer).
        neuron: registry name of the spiking neuron of every layer.
        neuron_params: keyword arguments of that neuron.
        recurrent: add learned spike feedback ``V s_{t-1}`` within each hidden layer.
        readout: ``"neuron"`` (the output layer spikes; use a count decoder such as ``sum``) or
            ``"membrane"`` (a non-spiking :class:`LeakyIntegrator`; use ``max_membrane``).
        readout_tau: time constant of the membrane readout, in steps.
        weight_scale: factor on PyTorch's default initial weights of every layer (larger
            values make sparse spike inputs reach the neurons' thresholds sooner).

    Returns:
        The per-step module ``(N, *in_shape) -> (N, C)`` with ``forward(x_t, init)``.

    Example:
        >>> import torch
        >>> from spikingtorch import SpikingNet
        >>> net = mlp((2, 5), 3, hidden=(), readout="membrane")  # no hidden layer: no neuron
        >>> SpikingNet(net, (3,))(torch.rand(4, 6, 2, 5)).shape  # (N, T, *in) -> (N, T, C)
        torch.Size([4, 6, 3])
    """
    dims = _shape(input_shape, "input_shape")
    empty = not isinstance(hidden, int) and len(tuple(hidden)) == 0
    sizes = () if empty else _shape(hidden, "hidden")
    return MLP(
        math.prod(dims),
        _positive_int(num_classes, "num_classes"),
        hidden=sizes,
        neuron=neuron,
        neuron_params=neuron_params,
        recurrent=bool(recurrent),
        readout=readout,
        readout_tau=readout_tau,
        weight_scale=_positive("weight_scale", weight_scale),
    )


class ConvNet(nn.Module):
    """The seed tutorial's spiking conv net, for any input size and channel list.

    ``conv(k, stride 2) -> neuron`` then ``conv(k, stride 1) -> neuron`` for each further
    channel count, flatten, ``Linear(bias=False) -> neuron``. A 2-D input ``(H, W)`` gets a
    channel axis. For ``(1, 28, 28)`` and ``channels=(4, 6)`` this is exactly the tutorial's net
    (600 flattened features).

    Shape:
        ``(N, C_in, H, W)`` or ``(N, H, W)`` ``-> (N, C)`` per step.
    """

    def __init__(
        self,
        in_shape: tuple[int, int, int],
        num_classes: int,
        *,
        channels: Sequence[int],
        kernel_size: int,
        neuron: str,
        neuron_params: Mapping[str, Any] | None,
        readout: str,
        readout_tau: float,
        weight_scale: float,
    ) -> None:
        super().__init__()
        c, h, w = in_shape
        convs: list[nn.Module] = []
        neurons: list[nn.Module] = []
        for i, out_c in enumerate(channels):
            stride = 2 if i == 0 else 1
            h, w = (h - kernel_size) // stride + 1, (w - kernel_size) // stride + 1
            if h < 1 or w < 1:
                raise ValueError(
                    f"convnet: input {in_shape} is too small for {len(channels)} convolutions "
                    f"of kernel {kernel_size} (layer {i + 1} would have no output)"
                )
            convs.append(nn.Conv2d(c, out_c, kernel_size, stride=stride))
            neurons.append(build_neuron(neuron, neuron_params, (out_c, h, w)))
            c = out_c
        self.in_shape = in_shape
        self.flat_features = c * h * w
        self.convs = nn.ModuleList(convs)
        self.neurons = nn.ModuleList(neurons)
        self.out = nn.Linear(self.flat_features, num_classes, bias=False)
        self.out_neuron = _readout(readout, neuron, neuron_params, num_classes, readout_tau)
        _scale_weights(self, weight_scale)

    def forward(self, x_t: Tensor, init: bool = False) -> Tensor:
        x = x_t.unsqueeze(1) if x_t.dim() == 3 else x_t
        for conv, neuron in zip(self.convs, self.neurons, strict=True):
            x = neuron(conv(x), init)
        return self.out_neuron(self.out(x.flatten(1)), init)


def convnet(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    channels: int | Sequence[int] = (4, 6),
    kernel_size: int = 4,
    neuron: str = "if",
    neuron_params: Mapping[str, Any] | None = None,
    readout: str = "neuron",
    readout_tau: float = 10.0,
    weight_scale: float = 1.0,
) -> ConvNet:
    """The seed tutorial's convolutional spiking network, generalised to the input shape.

    Args:
        input_shape: per-step image shape ``(C_in, H, W)`` or ``(H, W)``.
        num_classes: ``C``, the number of outputs.
        channels: output channels of the convolutions (the first has stride 2, the rest 1).
        kernel_size: square kernel size of every convolution.
        neuron: registry name of the spiking neuron after every layer (default ``"if"``).
        neuron_params: keyword arguments of that neuron.
        readout: ``"neuron"`` or ``"membrane"`` (see :func:`mlp`).
        readout_tau: time constant of the membrane readout, in steps.
        weight_scale: factor on PyTorch's default initial weights (see :func:`mlp`).

    Returns:
        The per-step module ``(N, *input_shape) -> (N, C)`` with ``forward(x_t, init)``.

    Raises:
        ValueError: a shape that is not 2-D or 3-D, or too small for the convolutions.
    """
    dims = _shape(input_shape, "input_shape")
    if len(dims) == 2:
        dims = (1, *dims)
    if len(dims) != 3:
        raise ValueError(
            f"convnet needs a per-step input shape (C, H, W) or (H, W), got {tuple(dims)}"
        )
    return ConvNet(
        (dims[0], dims[1], dims[2]),
        _positive_int(num_classes, "num_classes"),
        channels=_shape(channels, "channels"),
        kernel_size=_positive_int(kernel_size, "kernel_size"),
        neuron=neuron,
        neuron_params=neuron_params,
        readout=readout,
        readout_tau=readout_tau,
        weight_scale=_positive("weight_scale", weight_scale),
    )
