"""One builder per benchmarked framework: the same workload written in each library's own idiom.

Every builder returns a :class:`Runner`: the model, an Adam optimizer over its parameters, the
fixed batch in the framework's preferred layout (batch-first for spikingtorch, time-first for
the peers, prepared once and not timed) and a ``counts()`` closure that runs the forward over
all ``T`` steps and returns the output summed over time, ``(N, 10)``. A training step is then
``cross_entropy(counts(), labels)``, ``backward()``, ``Adam.step()`` for every framework.

The libraries are imported inside the builders, so a missing peer fails only its own worker.
Semantics (see ``benchmarks/README.md`` and ``shared/reference/peer-benchmarks.md``): threshold
1, zero reset, LIF ``v <- 0.9 v + I``; surrogates are each library's usual choice (fast sigmoid,
slope 25, for spikingtorch and snnTorch); they change gradients only, not the cost.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from _names import FRAMEWORKS
from _workload import Affine, Workload, load_reference, make_batch, torch_layer

__all__ = [
    "Probe",
    "Runner",
    "build",
]


@dataclass
class Probe:
    """Forward-equivalence data from one no-grad forward on the reference weights.

    Attributes:
        counts: output spikes summed over time, one row of 10 per sample.
        layer_spikes: total spikes of each spiking layer, in network order (empty for the ANNs).
    """

    counts: list[list[int]]
    layer_spikes: list[int]


@dataclass
class Runner:
    """A framework's model, optimizer and fixed batch, ready to train or infer.

    Attributes:
        model: holds every trainable parameter.
        counts: runs the forward over all ``T`` steps; returns ``(N, 10)`` summed over time.
        labels: ``(N,)`` class indices.
        lr: Adam's learning rate.
        neurons: the spiking layers, in network order, for the per-layer spike totals.
        spikes_of: extracts the spike tensor from a neuron module's forward output.
        version: the library's version string.
    """

    model: nn.Module
    counts: Callable[[], Tensor]
    labels: Tensor
    lr: float
    neurons: list[nn.Module] = field(default_factory=list)
    spikes_of: Callable[[Any], Tensor] = lambda out: out
    version: str = ""

    def __post_init__(self) -> None:
        self.model.to(self.labels.device)  # the batch already lives on the workload's device
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.lr)

    def train_step(self) -> None:
        """One optimisation step: forward over ``T`` steps, cross-entropy on counts, Adam."""
        self.optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.counts(), self.labels)
        loss.backward()
        self.optimizer.step()

    def infer(self) -> None:
        """One forward over ``T`` steps without gradients."""
        with torch.no_grad():
            self.counts()

    def probe(self) -> Probe:
        """A no-grad forward that also records every spiking layer's total spike count."""
        totals = [0.0] * len(self.neurons)

        def counter(index: int) -> Callable[[nn.Module, Any, Any], None]:
            def hook(module: nn.Module, inputs: Any, output: Any) -> None:
                totals[index] += float(self.spikes_of(output).sum(dtype=torch.float64))

            return hook

        handles = [m.register_forward_hook(counter(i)) for i, m in enumerate(self.neurons)]
        try:
            with torch.no_grad():
                counts = self.counts()
        finally:
            for handle in handles:
                handle.remove()
        rows = counts.round().to(torch.int64).tolist()
        return Probe(counts=rows, layer_spikes=[round(t) for t in totals])


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _flatten_before(layers: tuple[Affine, ...]) -> list[bool]:
    """Whether each layer needs the feature map flattened first (a Linear after a Conv2d)."""
    return [
        spec.kind == "linear" and i > 0 and layers[i - 1].kind == "conv"
        for i, spec in enumerate(layers)
    ]


def _stack(
    work: Workload,
    layer: Callable[[Affine], nn.Module],
    neuron: Callable[[], nn.Module],
    flatten: Callable[[], nn.Module],
) -> tuple[list[nn.Module], list[nn.Module], list[nn.Module]]:
    """Modules of ``layer -> neuron`` blocks (with ``flatten`` where needed), in order.

    Returns ``(all modules, weight layers, neurons)``.
    """
    modules: list[nn.Module] = []
    weights: list[nn.Module] = []
    neurons: list[nn.Module] = []
    for spec, needs_flatten in zip(work.layers, _flatten_before(work.layers), strict=True):
        if needs_flatten:
            modules.append(flatten())
        weights.append(layer(spec))
        neurons.append(neuron())
        modules += [weights[-1], neurons[-1]]
    return modules, weights, neurons


def _time_first(x: Tensor) -> Tensor:
    """``(N, T, ...) -> (T, N, ...)``, contiguous (the peers' layout)."""
    return x.transpose(0, 1).contiguous()


def _sum_steps(outputs: Iterable[Tensor]) -> Tensor:
    """Stack per-step ``(N, 10)`` outputs in time and sum them, as the peers' tutorials do."""
    return torch.stack(list(outputs)).sum(0)


# -- dense references ---------------------------------------------------------------------------
def _ann_model(work: Workload) -> nn.Sequential:
    modules, weights, _ = _stack(work, torch_layer, nn.ReLU, nn.Flatten)
    model = nn.Sequential(*modules)
    load_reference(weights, work)
    return model


def _build_ann(work: Workload, options: dict[str, Any]) -> Runner:
    """The ANN limit: the same layers with ReLU, one pass over the merged ``N*T`` batch."""
    x, labels = make_batch(work)
    model = _ann_model(work)
    merged = x.reshape(work.batch * work.steps, *work.in_shape)  # a view: x is batch-first

    def counts() -> Tensor:
        return model(merged).view(work.batch, work.steps, -1).sum(1)

    return Runner(model, counts, labels, work.lr, version=_version("torch"))


def _build_ann_steps(work: Workload, options: dict[str, Any]) -> Runner:
    """The same ReLU net run ``T`` times on ``N`` samples (the dense cost, per-step layout)."""
    x, labels = make_batch(work)
    model = _ann_model(work)
    steps = _time_first(x).unbind(0)

    def counts() -> Tensor:
        return _sum_steps(model(x_t) for x_t in steps)

    return Runner(model, counts, labels, work.lr, version=_version("torch"))


# -- spikingtorch -------------------------------------------------------------------------------
def _st_neuron_factory(work: Workload) -> Callable[[], nn.Module]:
    import spikingtorch_neurons
    from spikingtorch.surrogate import FastSigmoid

    if work.neuron == "lif":
        return lambda: spikingtorch_neurons.LIF(
            decay=work.decay, reset="zero", surrogate=FastSigmoid(slope=25)
        )
    return lambda: spikingtorch_neurons.IF(reset="zero", surrogate=FastSigmoid(slope=25))


class SeedConvNet(nn.Module):
    """Net A written as in the seed tutorial: ``forward(xi, init)`` passes ``init`` on."""

    def __init__(self, neuron: Callable[[], nn.Module]) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, (4, 4), stride=2, padding=0)  # 13x13
        self.conv2 = nn.Conv2d(4, 6, (4, 4), stride=1, padding=0)  # 10x10
        self.l1 = nn.Linear(600, 10, bias=False)
        self.sl1 = neuron()
        self.sl2 = neuron()
        self.sl3 = neuron()

    def forward(self, xi: Tensor, init: bool) -> Tensor:
        """One step: ``(N, 1, 28, 28) -> (N, 10)`` spikes."""
        s1 = self.sl1(self.conv1(xi), init)
        s2 = self.sl2(self.conv2(s1), init)
        return self.sl3(self.l1(s2.view(s2.shape[0], -1)), init)


class SeedMLP(nn.Module):
    """Net B in the same style: ``784 -> 1024 -> 1024 -> 10``, a neuron after each layer."""

    def __init__(self, neuron: Callable[[], nn.Module]) -> None:
        super().__init__()
        self.l1 = nn.Linear(784, 1024)
        self.l2 = nn.Linear(1024, 1024)
        self.l3 = nn.Linear(1024, 10, bias=False)
        self.sl1 = neuron()
        self.sl2 = neuron()
        self.sl3 = neuron()

    def forward(self, xi: Tensor, init: bool) -> Tensor:
        """One step: ``(N, 784) -> (N, 10)`` spikes."""
        s1 = self.sl1(self.l1(xi), init)
        s2 = self.sl2(self.l2(s1), init)
        return self.sl3(self.l3(s2), init)


def _build_spikingtorch(work: Workload, spiking_net_kwargs: dict[str, Any]) -> Runner:
    from spikingtorch import SpikingNet

    x, labels = make_batch(work)
    net: SeedConvNet | SeedMLP
    if work.net == "A":
        net = SeedConvNet(_st_neuron_factory(work))
        weights = [net.conv1, net.conv2, net.l1]
    else:
        net = SeedMLP(_st_neuron_factory(work))
        weights = [net.l1, net.l2, net.l3]
    load_reference(weights, work)
    model = SpikingNet(net, (10,), **spiking_net_kwargs)
    time_dim = 1 if model.batch_first else 0
    if not model.batch_first:  # time-first input, prepared once like the peers' layout
        x = _time_first(x).contiguous()

    def counts() -> Tensor:
        return model(x).sum(time_dim)  # (N, T, 10) or (T, N, 10) -> (N, 10)

    neurons = [net.sl1, net.sl2, net.sl3]
    return Runner(model, counts, labels, work.lr, neurons, version=_version("spikingtorch-core"))


def _build_st_step(work: Workload, options: dict[str, Any]) -> Runner:
    """spikingtorch step mode: ``SpikingNet(net, (10,))``, the seed contract."""
    return _build_spikingtorch(work, {})


def _build_st_seq(work: Workload, options: dict[str, Any]) -> Runner:
    """spikingtorch sequence mode on time-first input (its natural layout: the time-major merge
    is then a view, as the ANN's merge is), plus extra ``SpikingNet`` keywords from the command
    line (``{"batch_first": true}`` measures the batch-first layout, which copies the input)."""
    kwargs = {"mode": "sequence", "batch_first": False, **options.get("st_seq_kwargs", {})}
    return _build_spikingtorch(work, kwargs)


# -- snnTorch -----------------------------------------------------------------------------------
def _build_snntorch(work: Workload, options: dict[str, Any]) -> Runner:
    """snnTorch tutorial style: ``nn.Sequential`` with ``Leaky(init_hidden=True)``, loop over T."""
    import snntorch
    from snntorch import surrogate, utils

    beta = work.decay if work.neuron == "lif" else 1.0  # IF is a Leaky without leak

    def neuron() -> nn.Module:
        return snntorch.Leaky(
            beta=beta,
            init_hidden=True,
            spike_grad=surrogate.fast_sigmoid(slope=25),
            reset_mechanism="zero",
        )

    x, labels = make_batch(work)
    x_tm = _time_first(x)
    modules, weights, neurons = _stack(work, torch_layer, neuron, nn.Flatten)
    model = nn.Sequential(*modules)
    load_reference(weights, work)

    def counts() -> Tensor:
        utils.reset(model)
        return _sum_steps(model(x_tm[t]) for t in range(work.steps))

    return Runner(model, counts, labels, work.lr, neurons, version=_version("snntorch"))


# -- Norse --------------------------------------------------------------------------------------
def _norse_dt_and_scale(work: Workload) -> tuple[float, float]:
    """Norse's ``LIFBox`` integrates ``v += dt/tau (v_leak - v + I)``: with ``dt/tau = 1 - a``
    the input enters scaled by ``1 - a``, so weights are multiplied by ``1 / (1 - a)``
    (x10 for a = 0.9) to get ``v <- a v + I``. IAF adds its input unscaled."""
    if work.neuron == "if":
        return 1e-3, 1.0
    return 1e-3, 1.0 / (1.0 - work.decay)


def _norse_lif_parameters(work: Workload) -> Any:
    from norse.torch import LIFBoxParameters

    dt, _ = _norse_dt_and_scale(work)
    return LIFBoxParameters(tau_mem_inv=torch.tensor((1.0 - work.decay) / dt))


def _build_norse(work: Workload, options: dict[str, Any]) -> Runner:
    """Norse cells: ``SequentialState`` of ``LIFBoxCell`` / ``IAFCell``, loop over T with state."""
    import norse.torch as norse

    dt, scale = _norse_dt_and_scale(work)

    def neuron() -> nn.Module:
        if work.neuron == "lif":
            return norse.LIFBoxCell(_norse_lif_parameters(work), dt=dt)
        return norse.IAFCell(dt=dt)

    x, labels = make_batch(work)
    x_tm = _time_first(x)
    modules, weights, neurons = _stack(work, torch_layer, neuron, nn.Flatten)
    model = norse.SequentialState(*modules)
    load_reference(weights, work, scale)

    def counts() -> Tensor:
        state = None
        outputs = []
        for t in range(work.steps):
            out, state = model(x_tm[t], state)
            outputs.append(out)
        return _sum_steps(outputs)

    return Runner(
        model, counts, labels, work.lr, neurons, lambda out: out[0], version=_version("norse")
    )


def _norse_lif_box_sequence(work: Workload) -> nn.Module:
    """A sequence-level ``LIFBox`` (Norse 1.1.0 ships only the cell), built on Norse's own
    ``SNN`` base class the way Norse builds its sequence ``IAF``."""
    from norse.torch.functional.lif_box import LIFBoxFeedForwardState, lif_box_feed_forward_step
    from norse.torch.module.snn import SNN

    class LIFBox(SNN):
        def __init__(self, p: Any, dt: float) -> None:
            super().__init__(lif_box_feed_forward_step, self.initial_state, p, dt=dt)

        def initial_state(self, input_tensor: Tensor) -> Any:
            return LIFBoxFeedForwardState(v=self.p.v_leak.clone().requires_grad_(True))

    dt, _ = _norse_dt_and_scale(work)
    return LIFBox(_norse_lif_parameters(work), dt)


def _build_norse_seq(work: Workload, options: dict[str, Any]) -> Runner:
    """Norse sequence modules on ``(T, N, ...)``: ``Lift(Conv2d)``, ``Linear``, ``IAF`` / LIFBox."""
    import norse.torch as norse

    dt, scale = _norse_dt_and_scale(work)

    def layer(spec: Affine) -> nn.Module:
        return norse.Lift(torch_layer(spec)) if spec.kind == "conv" else torch_layer(spec)

    def neuron() -> nn.Module:
        return _norse_lif_box_sequence(work) if work.neuron == "lif" else norse.IAF(dt=dt)

    x, labels = make_batch(work)
    x_tm = _time_first(x)
    modules, lifted, neurons = _stack(work, layer, neuron, lambda: nn.Flatten(start_dim=2))
    weights = [m.lifted_module if isinstance(m, norse.Lift) else m for m in lifted]
    model = norse.SequentialState(*modules)
    load_reference(weights, work, scale)

    def counts() -> Tensor:
        out, _ = model(x_tm)
        return out.sum(0)

    return Runner(
        model, counts, labels, work.lr, neurons, lambda out: out[0], version=_version("norse")
    )


# -- SpikingJelly -------------------------------------------------------------------------------
def _build_sj(work: Workload, step_mode: str) -> Runner:
    from spikingjelly.activation_based import functional, layer, neuron

    def weight_layer(spec: Affine) -> nn.Module:
        if spec.kind == "conv":
            return layer.Conv2d(
                spec.in_features,
                spec.out_features,
                spec.kernel,
                stride=spec.stride,
                bias=spec.bias,
                step_mode=step_mode,
            )
        return layer.Linear(
            spec.in_features, spec.out_features, bias=spec.bias, step_mode=step_mode
        )

    def spiking() -> nn.Module:
        if work.neuron == "lif":  # H = V - V / tau + X = a V + X with tau = 1 / (1 - a)
            tau = round(1.0 / (1.0 - work.decay), 9)
            return neuron.LIFNode(tau=tau, decay_input=False, v_reset=0.0, step_mode=step_mode)
        return neuron.IFNode(v_reset=0.0, step_mode=step_mode)

    x, labels = make_batch(work)
    x_tm = _time_first(x)
    modules, weights, neurons = _stack(
        work, weight_layer, spiking, lambda: layer.Flatten(step_mode=step_mode)
    )
    model = nn.Sequential(*modules)
    load_reference(weights, work)

    if step_mode == "m":

        def counts() -> Tensor:
            functional.reset_net(model)
            return model(x_tm).sum(0)
    else:

        def counts() -> Tensor:
            functional.reset_net(model)
            return _sum_steps(model(x_tm[t]) for t in range(work.steps))

    return Runner(model, counts, labels, work.lr, neurons, version=_version("spikingjelly"))


def _build_spikingjelly(work: Workload, options: dict[str, Any]) -> Runner:
    """SpikingJelly ``activation_based``, multi-step mode (``step_mode='m'``) on ``(T, N, ...)``."""
    return _build_sj(work, "m")


def _build_spikingjelly_s(work: Workload, options: dict[str, Any]) -> Runner:
    """SpikingJelly single-step mode (``step_mode='s'``) with a Python loop over T."""
    return _build_sj(work, "s")


_BUILDERS: dict[str, Callable[[Workload, dict[str, Any]], Runner]] = {
    "ann": _build_ann,
    "ann_steps": _build_ann_steps,
    "st_step": _build_st_step,
    "st_seq": _build_st_seq,
    "snntorch": _build_snntorch,
    "norse": _build_norse,
    "norse_seq": _build_norse_seq,
    "spikingjelly": _build_spikingjelly,
    "spikingjelly_s": _build_spikingjelly_s,
}


def build(framework: str, work: Workload, options: dict[str, Any]) -> Runner:
    """Build ``framework`` (an id of :data:`FRAMEWORKS`; ``st_seq:LABEL`` is an st_seq variant).

    ``options["st_seq_kwargs"]`` holds the extra ``SpikingNet`` keywords of an st_seq worker.
    """
    base = framework.split(":", 1)[0]
    if base not in _BUILDERS:
        raise ValueError(f"unknown framework {framework!r}; known: {', '.join(FRAMEWORKS)}")
    return _BUILDERS[base](work, options)
