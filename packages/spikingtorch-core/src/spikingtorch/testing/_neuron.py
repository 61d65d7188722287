"""``check_neuron``: the neuron contract of DESIGN §3.2, checked on any neuron factory."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from spikingtorch.testing._base import (
    Rule,
    build,
    check_repr,
    default_device,
    extra_devices,
    is_binary,
    make_factory,
    same_device,
    seeded,
    sorted_values,
    tensors_of,
    where_differ,
)

__all__ = ["check_neuron"]


class _PassesInit(nn.Module):
    """The seed tutorial's style of network: ``forward(x, init)`` hands ``init`` to the neuron."""

    def __init__(self, neuron: nn.Module) -> None:
        super().__init__()
        self.neuron = neuron

    def forward(self, x: Tensor, init: bool) -> Tensor:
        return self.neuron(x, init)


def _tolerance(dtype: torch.dtype) -> tuple[float, float]:
    """(rtol, atol) for comparing scan with stepping: rounding differs between the two."""
    return (1e-5, 1e-7) if dtype == torch.float64 else (1e-3, 1e-5)


class _NeuronCheck:
    """State shared by the rules of one :func:`check_neuron` call."""

    def __init__(
        self,
        make: Callable[[], Any],
        who: str,
        input_shape: tuple[int, ...],
        steps: int,
        dtypes: tuple[torch.dtype, ...],
        device: torch.device,
        binary: bool,
        input_scale: float,
    ) -> None:
        self.make = make
        self.who = who
        self.shape = input_shape
        self.steps = steps
        self.dtypes = dtypes
        self.dtype = dtypes[0]
        self.device = device
        self.binary = binary
        self.scale = input_scale
        # the dtype of the exact comparisons (scan, sequence mode): float64 when allowed
        self.exact_dtype = torch.float64 if torch.float64 in dtypes else self.dtype

    # -- helpers ----------------------------------------------------------------------------
    def fresh(self, dtype: torch.dtype | None = None, device: torch.device | None = None) -> Any:
        neuron = self.make()
        return neuron.to(device=device or self.device, dtype=dtype or self.dtype)

    def inputs(
        self,
        seed: int,
        *,
        batch: int | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | None = None,
    ) -> list[Tensor]:
        shape = self.shape if batch is None else (batch, *self.shape[1:])
        gen = torch.Generator().manual_seed(seed)
        x = torch.rand((self.steps, *shape), generator=gen, dtype=torch.float64) * self.scale
        return list(x.to(device=device or self.device, dtype=dtype or self.dtype).unbind(0))

    @staticmethod
    def run(neuron: Any, xs: Sequence[Tensor], *, init: bool = True, seed: int = 0) -> Tensor:
        with seeded(seed):
            return torch.stack([neuron(x, init=init and t == 0) for t, x in enumerate(xs)])

    def warm(self, dtype: torch.dtype | None = None) -> Any:
        """A fresh neuron that has run once (lazy parameters exist), so it can be deep-copied."""
        neuron = self.fresh(dtype)
        with torch.no_grad():
            self.run(neuron, self.inputs(90, dtype=dtype))
        return neuron

    def rule(self, name: str) -> Rule:
        return Rule(name, self.who)

    # -- rules ------------------------------------------------------------------------------
    def is_neuron(self, neuron: Any) -> None:
        from spikingtorch.neuron import Neuron

        with self.rule("is-neuron") as rule:
            rule.check(
                isinstance(neuron, Neuron),
                f"the factory returned a {type(neuron).__module__}.{type(neuron).__name__}, "
                f"whose bases are {[c.__name__ for c in type(neuron).__mro__[1:4]]}",
            )

    def init_state(self) -> None:
        with self.rule("init-state") as rule, torch.no_grad():
            x = self.inputs(1)[0]
            state = self.fresh().init_state(x)
            found = tensors_of(state)
            rule.check(bool(found), f"init_state returned {type(state).__name__}, no tensor")
            for i, t in enumerate(found):
                where = f"state tensor {i} of {type(state).__name__}"
                rule.check(
                    tuple(t.shape) == tuple(x.shape),
                    f"{where} has shape {tuple(t.shape)} for an input of shape {tuple(x.shape)}",
                )
                rule.check(t.device == x.device, f"{where} is on {t.device}, input on {x.device}")
                if t.is_floating_point():
                    rule.check(t.dtype == x.dtype, f"{where} is {t.dtype}, input {x.dtype}")

    def output_and_spikes(self) -> None:
        xs = self.inputs(1)
        with self.rule("output") as rule, torch.no_grad():
            neuron = self.fresh()
            with seeded(0):
                outs = [neuron(x, init=t == 0) for t, x in enumerate(xs)]
            for t, (x, y) in enumerate(zip(xs, outs, strict=True)):
                rule.check(isinstance(y, Tensor), f"step {t} returned a {type(y).__name__}")
                rule.check(
                    y.shape == x.shape,
                    f"step {t} returned shape {tuple(y.shape)} for input {tuple(x.shape)}",
                )
                rule.check(y.dtype == x.dtype, f"step {t} returned {y.dtype} for {x.dtype} input")
                rule.check(y.device == x.device, f"step {t} returned a tensor on {y.device}")
        out = torch.stack(outs)
        with self.rule("spikes") as rule:
            rule.check(bool(torch.isfinite(out).all()), "the output holds NaN or inf values")
            if self.binary:
                rule.check(is_binary(out), f"the output takes the values {sorted_values(out)}")
            rule.check(
                bool(out.abs().sum() > 0),
                f"the neuron never fired in {self.steps} steps of inputs uniform in "
                f"[0, {self.scale:g}); the checks need some spikes",
                fix="pass a larger input_scale (or constructor arguments that make it fire)",
            )

    def reset_on_init(self) -> None:
        with self.rule("reset-on-init") as rule, torch.no_grad():
            neuron = self.fresh()
            first = self.run(neuron, self.inputs(1))
            self.run(neuron, self.inputs(2))  # another sequence in between
            again = self.run(neuron, self.inputs(1))
            rule.check(
                torch.equal(first, again),
                lambda: (
                    "running the same sequence again, with init=True at t=0, gave different "
                    f"spikes: {where_differ(first, again)}; state leaked from the previous sequence"
                ),
            )

    def batch_size(self) -> None:
        with self.rule("batch-size") as rule, torch.no_grad():
            neuron = self.warm()
            reference = copy.deepcopy(neuron)
            batch = self.shape[0] + 1
            xs = self.inputs(3, batch=batch)
            self.run(neuron, self.inputs(2))
            rule.doing = f"a batch of {batch} after a batch of {self.shape[0]}, without init,"
            out = self.run(neuron, xs, init=False)  # no init: the new shape alone must reset
            expected = self.run(reference, xs)
            rule.check(
                out.shape == expected.shape,
                f"after a batch of {self.shape[0]}, a batch of {batch} gave shape "
                f"{tuple(out.shape[1:])} per step",
            )
            rule.check(
                torch.equal(out, expected),
                lambda: (
                    f"after a batch of {self.shape[0]}, a batch of {batch} without init gave "
                    f"other spikes than a fresh start: {where_differ(out, expected)}"
                ),
            )

    def reset_state(self) -> None:
        with self.rule("reset-state") as rule, torch.no_grad():
            neuron = self.warm()
            reference = copy.deepcopy(neuron)
            self.run(neuron, self.inputs(2))
            rule.doing = "after reset_state(), it"
            neuron.reset_state()
            state = neuron.state
            rule.check(state is None, f"after reset_state(), state is a {type(state).__name__}")
            xs = self.inputs(1)
            out = self.run(neuron, xs, init=False)
            expected = self.run(reference, xs)
            rule.check(
                torch.equal(out, expected),
                lambda: (
                    "after reset_state(), a sequence without init gave other spikes than a "
                    f"fresh start: {where_differ(out, expected)}"
                ),
            )

    def detach_state(self) -> None:
        with self.rule("detach-state") as rule:
            neuron = self.fresh()
            xs = [x.clone().requires_grad_() for x in self.inputs(1)]
            half = max(1, self.steps // 2)
            out = self.run(neuron, xs[:half])
            before = [t.detach().clone() for t in tensors_of(neuron.state)]
            if out.requires_grad:
                out.sum().backward()  # frees the graph: a state still attached to it breaks below
            rule.doing = "detach_state(), or the steps after it,"
            neuron.detach_state()
            after = tensors_of(neuron.state)
            rule.check(len(after) == len(before), "detach_state() changed the number of tensors")
            for i, (b, a) in enumerate(zip(before, after, strict=True)):
                rule.check(
                    a.grad_fn is None and not a.requires_grad,
                    f"state tensor {i} still has autograd history ({a.grad_fn})",
                )
                if not torch.equal(a, b):
                    rule.fail(f"state tensor {i} changed value: {where_differ(a, b, None)}")
            rest = self.run(neuron, xs[half:], init=False)
            if rest.requires_grad:
                rest.sum().backward()  # fails if the state still reaches the freed graph

    def dtypes_follow(self) -> None:
        for dtype in self.dtypes:
            with self.rule("dtype") as rule, torch.no_grad():
                rule.doing = f"on {dtype} inputs (module converted with .to({dtype})), it"
                neuron = self.fresh(dtype)
                xs = self.inputs(1, dtype=dtype)
                for i, t in enumerate(tensors_of(neuron.init_state(xs[0]))):
                    if t.is_floating_point():
                        rule.check(t.dtype == dtype, f"init_state: tensor {i} is {t.dtype}")
                out = self.run(neuron, xs)
                rule.check(out.dtype == dtype, f"a {dtype} input gave {out.dtype} spikes")
                for i, t in enumerate(tensors_of(neuron.state)):
                    if t.is_floating_point():
                        rule.check(
                            t.dtype == dtype, f"{dtype} input: state tensor {i} is {t.dtype}"
                        )
                rule.check(bool(torch.isfinite(out).all()), f"{dtype}: the output holds NaN/inf")
                spikes, _ = neuron.scan(torch.stack(xs))
                rule.check(spikes.dtype == dtype, f"scan of {dtype} input gave {spikes.dtype}")

    def devices_follow(self) -> None:
        for device in extra_devices(self.device):
            with self.rule("device") as rule:
                rule.doing = f"on {device}, it"
                self._on_device(device)
        try:
            self._on_device(torch.device("meta"))
        except Exception as exc:
            # The meta device has shapes but no values: a neuron that reads values (.item(),
            # data-dependent checks) cannot run there, which is fine. A tensor created on the
            # CPU by mistake shows up as a device mismatch, which is not.
            text = str(exc)
            mismatch = "same device" in text or "two devices" in text
            mismatch = mismatch or ("cpu" in text and "meta" in text and "device" in text.lower())
            if mismatch:
                Rule("device", self.who).fail(
                    f"on the meta device (a stand-in for an accelerator): "
                    f"{type(exc).__name__}: {exc}"
                )

    def _on_device(self, device: torch.device) -> None:
        rule = self.rule("device")
        with torch.no_grad():
            neuron = self.fresh(device=device)
            xs = self.inputs(1, device=device)
            out = self.run(neuron, xs)
        rule.check(
            same_device(out.device, device), f"input on {device} gave spikes on {out.device}"
        )
        for i, t in enumerate(tensors_of(neuron.state)):
            rule.check(
                same_device(t.device, device), f"input on {device}: state tensor {i} on {t.device}"
            )

    def state_dict(self) -> None:
        with self.rule("state-dict") as rule, torch.no_grad():
            trained = self.warm()
            for t in [*trained.parameters(), *trained.buffers()]:
                if t.is_floating_point():
                    t.mul_(0.9)  # away from the initial values
            with seeded(1):
                restored = self.warm()
            rule.doing = "loading the state_dict or running after it"
            restored.load_state_dict(trained.state_dict())
            xs = self.inputs(4)
            expected = self.run(trained, xs)
            out = self.run(restored, xs)
            rule.check(
                torch.equal(out, expected),
                lambda: (
                    "a fresh instance loaded with a trained instance's state_dict gave other "
                    f"spikes: {where_differ(out, expected)}"
                ),
            )

    def scan(self) -> None:
        dtype = self.exact_dtype
        rtol, atol = tol = _tolerance(dtype)
        with self.rule("scan") as rule:
            stepper = self.warm(dtype)
            scanner = copy.deepcopy(stepper)
            x_seq = torch.stack(self.inputs(5, dtype=dtype))
            x_step = x_seq.clone().requires_grad_()
            x_scan = x_seq.clone().requires_grad_()
            stepped = self.run(stepper, x_step.unbind(0))
            rule.doing = f"scan over (T, N, *F) = {tuple(x_seq.shape)}"
            with seeded(0):
                scanned, state = scanner.scan(x_scan)
            rule.doing = "comparing scan with stepping (gradients, continuation), it"
            rule.check(
                isinstance(scanned, Tensor) and scanned.shape == stepped.shape,
                lambda: (
                    f"scan returned {getattr(scanned, 'shape', type(scanned).__name__)} for "
                    f"(T, N, *F) = {tuple(x_seq.shape)}"
                ),
            )
            rule.check(
                torch.equal(scanned, stepped),
                lambda: (
                    f"scan gave other spikes than stepping ({dtype}): "
                    f"{where_differ(scanned, stepped)}"
                ),
            )
            final_step, final_scan = tensors_of(stepper.state), tensors_of(state)
            rule.check(
                len(final_step) == len(final_scan),
                f"scan returned a state of {len(final_scan)} tensors, stepping {len(final_step)}",
            )
            for i, (a, b) in enumerate(zip(final_scan, final_step, strict=True)):
                if not (a.shape == b.shape and torch.allclose(a, b, rtol=rtol, atol=atol)):
                    rule.fail(
                        "the state after scan differs from the state after stepping in "
                        f"tensor {i}: {where_differ(a, b, None)}"
                    )
            if stepped.requires_grad and scanned.requires_grad:
                weights = torch.rand(stepped.shape, generator=torch.Generator().manual_seed(6))
                weights = weights.to(stepped)
                (stepped * weights).sum().backward()
                (scanned * weights).sum().backward()
                self._same_grads(rule, x_step, x_scan, stepper, scanner, tol)
            else:
                rule.check(
                    stepped.requires_grad == scanned.requires_grad,
                    "one of scan and stepping carries an autograd graph, the other does not",
                )
            with torch.no_grad():
                k = self.steps // 2
                head, mid = scanner.scan(x_seq[:k])
                tail, _ = scanner.scan(x_seq[k:], mid)
                joined = torch.cat([head, tail])
            rule.check(
                torch.equal(joined, scanned.detach()),
                lambda: (
                    f"scan(x[{k}:], state) after scan(x[:{k}]) does not continue the "
                    f"sequence: {where_differ(joined, scanned.detach())}"
                ),
            )

    @staticmethod
    def _same_grads(
        rule: Rule,
        x_step: Tensor,
        x_scan: Tensor,
        stepper: Any,
        scanner: Any,
        tol: tuple[float, float],
    ) -> None:
        pairs = [("the input", x_step.grad, x_scan.grad)]
        scanned_params = dict(scanner.named_parameters())
        for name, p in stepper.named_parameters():
            if p.requires_grad:
                pairs.append((f"parameter {name!r}", p.grad, scanned_params[name].grad))
        for what, g_step, g_scan in pairs:
            rule.check(
                (g_step is None) == (g_scan is None),
                f"the gradient of {what} is {'missing' if g_scan is None else 'present'} "
                f"with scan but not with stepping",
            )
            if g_step is None or g_scan is None:
                continue
            if not torch.allclose(g_scan, g_step, rtol=tol[0], atol=tol[1]):
                rule.fail(
                    f"the gradient of {what} through scan differs from stepping: max |diff| "
                    f"{float((g_scan - g_step).abs().max()):.3g}"
                )

    def sequence_mode(self, neuron: Any) -> None:
        from spikingtorch.net import SpikingNet
        from spikingtorch.neuron import Neuron

        if type(neuron).forward is not Neuron.forward or len(self.shape) < 2:
            # SpikingNet refuses neurons that override forward in sequence mode, and its input
            # (N, T, *in) needs a feature axis
            return
        dtype = self.exact_dtype
        with self.rule("sequence-mode") as rule, torch.no_grad():
            first = self.warm(dtype)
            second = copy.deepcopy(first)
            x = torch.stack(self.inputs(7, dtype=dtype), 1)  # (N, T, *F)
            with seeded(0):
                step = SpikingNet(nn.Sequential(first), mode="step")(x)
            with seeded(0):
                sequence = SpikingNet(nn.Sequential(second), mode="sequence")(x)
            rule.check(
                torch.equal(step, sequence),
                lambda: (
                    "SpikingNet(mode='sequence') gave other spikes than mode='step': "
                    f"{where_differ(step.transpose(0, 1), sequence.transpose(0, 1))}"
                ),
            )

    def gradients(self) -> None:
        with self.rule("gradients") as rule:
            neuron = self.fresh()
            xs = [x.clone().requires_grad_() for x in self.inputs(8)]
            out = self.run(neuron, xs)
            rule.check(out.requires_grad, "the spikes carry no autograd graph (grad_fn is None)")
            weights = torch.rand(out.shape, generator=torch.Generator().manual_seed(9)).to(out)
            (out * weights).sum().backward()
            grads = [x.grad for x in xs]
            missing = [t for t, g in enumerate(grads) if g is None]
            rule.check(not missing, f"no gradient reached the input of steps {missing}")
            total = torch.stack([g.abs().sum() for g in grads if g is not None]).sum()
            rule.check(bool(torch.isfinite(total)), "the input's gradient holds NaN or inf")
            rule.check(bool(total > 0), "the input's gradient is zero at every step")
            for name, p in neuron.named_parameters():
                if not p.requires_grad:
                    continue
                rule.check(p.grad is not None, f"parameter {name!r} got no gradient")
                assert p.grad is not None
                rule.check(bool(torch.isfinite(p.grad).all()), f"{name!r}: NaN/inf gradient")
                rule.check(bool(p.grad.abs().sum() > 0), f"parameter {name!r}: zero gradient")

    def spikingnet(self) -> None:
        from spikingtorch.net import SpikingNet

        if len(self.shape) < 2:
            return  # SpikingNet's input (N, T, *in) needs a feature axis
        wrappers: list[tuple[str, Callable[[nn.Module], nn.Module]]] = [
            ("nn.Sequential(neuron)", nn.Sequential),
            ("a module whose forward(x, init) passes init to the neuron", _PassesInit),
        ]
        for what, wrap in wrappers:
            with self.rule("spikingnet") as rule, torch.no_grad():
                net = SpikingNet(wrap(self.fresh()))
                a = torch.stack(self.inputs(10), 1)  # (N, T, *F)
                with seeded(0):
                    first = net(a)
                with seeded(0):
                    net(torch.stack(self.inputs(11), 1))
                with seeded(0):
                    again = net(a)
                rule.check(
                    first.shape == a.shape,
                    f"SpikingNet over {what} returned {tuple(first.shape)} for {tuple(a.shape)}",
                )
                if not torch.equal(first, again):
                    rule.fail(
                        f"SpikingNet over {what}: the same input gave other spikes on a later "
                        f"call: {where_differ(first.transpose(0, 1), again.transpose(0, 1))}"
                    )

    def nir_round_trip(self, neuron: Any) -> None:
        """Hook point of rule ``nir``: not checked yet, spikingtorch has no NIR support.

        When NIR export and import land (DESIGN §6), this exports ``neuron`` to a NIR graph,
        imports it back, and compares the outputs; until then it checks nothing.
        """


def check_neuron(
    factory: Callable[[], Any] | str,
    *,
    input_shape: Sequence[int] = (3, 5),
    steps: int = 6,
    dtypes: Sequence[torch.dtype] = (torch.float32, torch.float64),
    device: torch.device | str | None = None,
    binary: bool = True,
    input_scale: float = 1.5,
) -> None:
    """Check a spiking neuron against the neuron contract; raise on the first broken rule.

    Args:
        factory: a zero-argument callable returning a fresh neuron (the class, a
            ``functools.partial`` or ``lambda: MyNeuron(tau=5.0)``), or a registered name.
        input_shape: ``(N, *F)``, the shape of one step's input.
        steps: ``T``, the number of steps of each test sequence (``>= 2``).
        dtypes: floating dtypes to run; the first one is used by the other rules.
        device: where to run (None: torch's default device); CUDA is tried as well when it
            is available, and the ``meta`` device stands in for an accelerator.
        binary: the neuron emits spikes in ``{0, 1}``; False for graded neurons.
        input_scale: inputs are uniform in ``[0, input_scale)``; large enough to make the
            neuron fire.

    Raises:
        ConformanceError: a rule is broken (``err.rule`` names it; see the module docstring).
        ValueError: the arguments themselves are invalid.
    """
    shape = tuple(int(d) for d in input_shape)
    if not shape or min(shape) < 1:
        raise ValueError(f"input_shape must be (N, *F) with positive sizes, got {input_shape!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise ValueError(f"steps must be an int >= 2, got {steps!r}")
    kinds = tuple(dtypes)
    if not kinds or not all(isinstance(d, torch.dtype) and d.is_floating_point for d in kinds):
        raise ValueError(f"dtypes must be floating torch dtypes, got {dtypes!r}")
    make, who = make_factory(factory, "neurons")
    with seeded(0):
        neuron = build(make, who)
        name = type(neuron).__name__
        who = f"{name} ({who})" if isinstance(factory, str) else name
        check = _NeuronCheck(
            make, who, shape, steps, kinds, default_device(device), binary, input_scale
        )
        check.is_neuron(neuron)
        check_repr(neuron, who)
        check.init_state()
        check.output_and_spikes()
        check.reset_on_init()
        check.batch_size()
        check.reset_state()
        check.detach_state()
        check.dtypes_follow()
        check.devices_follow()
        check.state_dict()
        check.scan()
        check.sequence_mode(neuron)
        check.gradients()
        check.spikingnet()
        check.nir_round_trip(neuron)
