"""The conformance kit ``spikingtorch.testing`` itself: deliberately broken components, written
here, must each break the expected rule with a message that says what was seen and how to fix
it; correct minimal components must pass. The core's own surrogates go through the kit too.

Only the core and torch are used (the tox env ``core`` has no plugin installed).
"""

from __future__ import annotations

import functools
import pickle
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import Tensor, nn

import spikingtorch
from spikingtorch.neuron import Neuron
from spikingtorch.registry import normalize_provider
from spikingtorch.surrogate import ATan, Sigmoid, SurrogateFunction, spike
from spikingtorch.testing import (
    RULES,
    ConformanceError,
    check_dataset,
    check_decoder,
    check_encoder,
    check_neuron,
    check_surrogate,
)


def broken(rule: str, *phrases: str) -> Any:
    """``pytest.raises`` for a ConformanceError of ``rule`` whose message holds ``phrases``."""

    class _Expect:
        def __enter__(self) -> None:
            self._raises = pytest.raises(ConformanceError)
            self.info = self._raises.__enter__()

        def __exit__(self, *exc: Any) -> bool:
            handled = self._raises.__exit__(*exc)
            err = self.info.value
            assert err.rule == rule, f"expected rule {rule!r}, got {err.rule!r}:\n{err}"
            text = str(err)
            for phrase in phrases:
                assert phrase in text, f"{phrase!r} not in:\n{text}"
            assert "observed:" in text and "fix:" in text
            return bool(handled)

    return _Expect()


# -- neurons ---------------------------------------------------------------------------------------


class MinimalIF(Neuron):
    """A correct integrate-and-fire neuron: v_t = (1 - s_{t-1}) v_{t-1} + x_t, s_t = [v_t > 1]."""

    def __init__(self, threshold: float = 1.0, learn_threshold: bool = False) -> None:
        super().__init__()
        t = torch.tensor(float(threshold))
        if learn_threshold:
            self.threshold = nn.Parameter(t)
        else:
            self.register_buffer("threshold", t)

    def init_state(self, x_t: Tensor) -> tuple[Tensor]:
        return (torch.zeros_like(x_t),)

    def step(self, x_t: Tensor, state: tuple[Tensor]) -> tuple[Tensor, tuple[Tensor]]:
        v = state[0] + x_t
        s = spike(v - self.threshold, "atan")
        return s, ((1 - s) * v,)

    def extra_repr(self) -> str:
        return f"threshold={float(self.threshold.detach()):g}"


class FusedIF(MinimalIF):
    """Correct, with its own scan (the same recurrence written as a loop over the sequence)."""

    def scan(self, x_seq: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        v = torch.zeros_like(x_seq[0]) if state is None else state[0]
        out = []
        for x_t in x_seq.unbind(0):
            v = v + x_t
            s = spike(v - self.threshold, "atan")
            v = (1 - s) * v
            out.append(s)
        return torch.stack(out), (v,)


class KeepsStateAcrossSequences(MinimalIF):
    """(a) ignores init=True: a new sequence continues from the last one's state."""

    def forward(self, x_t: Tensor, init: bool = False) -> Tensor:
        if self._state is None or self._state[0].shape != x_t.shape:
            self._state = self.init_state(x_t)
        s, self._state = self.step(x_t, self._state)
        return s


class IgnoresBatchSize(MinimalIF):
    """(b) re-initialises only on init=True: a new batch size meets the old state."""

    def forward(self, x_t: Tensor, init: bool = False) -> Tensor:
        if init or self._state is None:
            self._state = self.init_state(x_t)
        s, self._state = self.step(x_t, self._state)
        return s


class ScanForgetsReset(MinimalIF):
    """(c) a fused scan that forgets the reset after a spike, unlike step."""

    def scan(self, x_seq: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        v = torch.cumsum(x_seq, 0)
        if state is not None:
            v = v + state[0]
        s = spike(v - self.threshold, "atan")
        return s, (v[-1],)


class Float32Spikes(MinimalIF):
    """(d) casts spikes with .float(): float64 inputs give float32 spikes."""

    def step(self, x_t: Tensor, state: tuple[Tensor]) -> tuple[Tensor, tuple[Tensor]]:
        s, new = super().step(x_t, state)
        return s.float(), new


class Float32State(MinimalIF):
    """(d') builds its state with torch.zeros(shape): float32 whatever the input's dtype."""

    def init_state(self, x_t: Tensor) -> tuple[Tensor]:
        return (torch.zeros(x_t.shape, device=x_t.device),)


class NotANeuron(nn.Module):
    def forward(self, x: Tensor, init: bool = False) -> Tensor:
        return (x > 1).to(x.dtype)


class NeverFires(MinimalIF):
    def __init__(self) -> None:
        super().__init__(threshold=1e9)


class Graded(MinimalIF):
    """Emits its membrane potential: a graded neuron (fine with binary=False)."""

    def step(self, x_t: Tensor, state: tuple[Tensor]) -> tuple[Tensor, tuple[Tensor]]:
        v = 0.5 * state[0] + x_t
        return torch.tanh(v), (v,)


class WrongStateShape(MinimalIF):
    def init_state(self, x_t: Tensor) -> tuple[Tensor]:
        return (x_t.new_zeros(x_t.shape[1:]),)  # forgot the batch axis


class ResetStateDoesNothing(MinimalIF):
    def reset_state(self) -> None:
        pass


class DetachDoesNothing(MinimalIF):
    def detach_state(self) -> None:
        pass


class RandomThresholdNotSaved(MinimalIF):
    """Draws its threshold at construction and keeps it as a plain float: lost by state_dict."""

    def __init__(self) -> None:
        super().__init__()
        self.fixed = 0.6 + 0.8 * float(torch.rand(()))

    def step(self, x_t: Tensor, state: tuple[Tensor]) -> tuple[Tensor, tuple[Tensor]]:
        v = state[0] + x_t
        s = spike(v - self.fixed, "atan")
        return s, ((1 - s) * v,)


class HardThreshold(MinimalIF):
    """No surrogate: (v > 1) has no gradient."""

    def step(self, x_t: Tensor, state: tuple[Tensor]) -> tuple[Tensor, tuple[Tensor]]:
        v = state[0] + x_t
        s = (v > self.threshold).to(x_t.dtype)
        return s, ((1 - s) * v,)


class CpuConstant(MinimalIF):
    """Adds a tensor created on the CPU inside step: breaks on any other device."""

    def step(self, x_t: Tensor, state: tuple[Tensor]) -> tuple[Tensor, tuple[Tensor]]:
        return super().step(x_t + torch.zeros(x_t.shape, dtype=x_t.dtype), state)


class BadRepr(MinimalIF):
    def extra_repr(self) -> str:
        raise KeyError("threshold")


class LearnedThresholdDetached(MinimalIF):
    """A learnable threshold that never gets a gradient (detached in step)."""

    def __init__(self) -> None:
        super().__init__(learn_threshold=True)

    def step(self, x_t: Tensor, state: tuple[Tensor]) -> tuple[Tensor, tuple[Tensor]]:
        v = state[0] + x_t
        s = spike(v - self.threshold.detach(), "atan")
        return s, ((1 - s) * v,)


@pytest.mark.parametrize(
    "factory",
    [
        MinimalIF,
        FusedIF,
        functools.partial(MinimalIF, threshold=0.8),
        lambda: MinimalIF(learn_threshold=True),
    ],
    ids=["class", "own-scan", "partial", "lambda-learnable"],
)
def test_correct_neurons_pass(factory: Callable[[], Neuron]) -> None:
    check_neuron(factory)


def test_correct_neuron_passes_with_other_shapes_and_one_dtype() -> None:
    check_neuron(MinimalIF, input_shape=(2, 3, 4), steps=3, dtypes=(torch.float32,))
    check_neuron(MinimalIF, input_shape=(1,), steps=3, device="cpu", input_scale=4.0)


def test_graded_neuron_opts_out_of_binary_spikes() -> None:
    with broken("spikes", "takes the values"):
        check_neuron(Graded)
    check_neuron(Graded, binary=False)


def test_a_keeps_state_across_sequences() -> None:
    with broken("reset-on-init", "KeepsStateAcrossSequences", "state leaked", "init_state(x_t)"):
        check_neuron(KeepsStateAcrossSequences)


def test_b_ignores_batch_size_changes() -> None:
    with broken("batch-size", "raised RuntimeError", "re-initialise the state"):
        check_neuron(IgnoresBatchSize)
    # a batch of 1 broadcasts silently against the new batch: caught by comparing the spikes
    with broken("batch-size", "without init gave other spikes than a fresh start"):
        check_neuron(IgnoresBatchSize, input_shape=(1, 5))


def test_c_scan_differs_from_step() -> None:
    with broken("scan", "scan gave other spikes than stepping", "values differ (first at t="):
        check_neuron(ScanForgetsReset)


def test_d_breaks_on_float64() -> None:
    with broken("dtype", "torch.float64 input gave torch.float32 spikes", ".to(x.dtype)"):
        check_neuron(Float32Spikes)
    with broken("dtype", "init_state: tensor 0 is torch.float32"):
        check_neuron(Float32State)
    check_neuron(Float32Spikes, dtypes=(torch.float32,))  # fine when float64 is not asked for


@pytest.mark.parametrize(
    ("factory", "rule", "phrase"),
    [
        (NotANeuron, "is-neuron", "spikingtorch.Neuron"),
        (MinimalIF(), "factory", "got the instance MinimalIF(...)"),
        (functools.partial(lambda n: n, MinimalIF()), "factory", "returned the same object"),
        (42, "factory", "not callable"),
        (BadRepr, "repr", "raised KeyError"),
        (WrongStateShape, "init-state", "has shape (5,) for an input of shape (3, 5)"),
        (NeverFires, "spikes", "never fired"),
        (ResetStateDoesNothing, "reset-state", "after reset_state(), state is a tuple"),
        (DetachDoesNothing, "detach-state", "still has autograd history"),
        (RandomThresholdNotSaved, "state-dict", "loaded with a trained instance's state_dict"),
        (HardThreshold, "gradients", "the spikes carry no autograd graph"),
        (LearnedThresholdDetached, "gradients", "parameter 'threshold' got no gradient"),
        # CUDA is tried before the meta device when a GPU is present
        (CpuConstant, "device", "on cuda" if torch.cuda.is_available() else "meta"),
    ],
    ids=lambda v: v if isinstance(v, str) and " " not in v else None,
)
def test_each_broken_neuron_breaks_its_rule(factory: Any, rule: str, phrase: str) -> None:
    with broken(rule, phrase):
        check_neuron(factory)


def test_same_device_reads_an_index_less_cuda_as_the_current_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from spikingtorch.testing._base import same_device

    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    dev = torch.device
    assert same_device(dev("cuda"), dev("cuda:1")) and same_device(dev("cuda:1"), dev("cuda"))
    assert not same_device(dev("cuda"), dev("cuda:0"))
    assert same_device(dev("cuda"), dev("cuda")) and same_device(dev("cpu"), dev("cpu"))
    assert not same_device(dev("cpu"), dev("meta")) and not same_device(dev("cuda:0"), dev("cpu"))


def test_input_scale_makes_a_weak_neuron_fire() -> None:
    def weak() -> MinimalIF:
        return MinimalIF(threshold=20.0)

    with broken("spikes", "input_scale"):
        check_neuron(weak)
    check_neuron(weak, input_scale=15.0)


def test_bad_arguments_are_value_errors() -> None:
    with pytest.raises(ValueError, match="steps must be an int >= 2"):
        check_neuron(MinimalIF, steps=1)
    with pytest.raises(ValueError, match="input_shape"):
        check_neuron(MinimalIF, input_shape=())
    with pytest.raises(ValueError, match="dtypes"):
        check_neuron(MinimalIF, dtypes=(torch.int64,))


def test_the_kit_leaves_the_global_random_state_alone() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_neuron(MinimalIF, steps=2)
    assert torch.equal(torch.rand(3), expected)


# -- the error -------------------------------------------------------------------------------------


def test_error_is_an_assertion_error_with_rule_observed_and_fix() -> None:
    err = ConformanceError("scan", "MyLIF", "3 of 90 values differ")
    assert isinstance(err, AssertionError)
    assert (err.rule, err.component, err.observed) == ("scan", "MyLIF", "3 of 90 values differ")
    assert err.fix == RULES["scan"][1]
    text = str(err)
    assert text.startswith("MyLIF breaks conformance rule 'scan': scan(x_seq) must equal stepping")
    assert "observed: 3 of 90 values differ" in text and "fix: make scan()" in text
    again = pickle.loads(pickle.dumps(err))
    assert (again.rule, str(again)) == (err.rule, str(err))


def test_every_rule_has_a_requirement_and_a_fix() -> None:
    for rule, (requirement, fix) in RULES.items():
        assert rule == rule.lower() and " " not in rule
        assert requirement and fix, rule


def test_import_spikingtorch_does_not_import_the_kit() -> None:
    code = (
        "import sys, spikingtorch; "
        "assert 'spikingtorch.testing' not in sys.modules; "
        "assert 'torch' not in sys.modules; "
        "import spikingtorch.testing; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# -- surrogates ------------------------------------------------------------------------------------

CORE_SURROGATES = [
    e.name
    for e in spikingtorch.get_registry("surrogates").entries()
    if normalize_provider(e.provider) == "spikingtorch-core"
]


@pytest.mark.parametrize("name", CORE_SURROGATES)
def test_every_core_surrogate_conforms(name: str) -> None:
    check_surrogate(name)
    check_surrogate(spikingtorch.get_surrogate(name))


def test_surrogates_with_parameters_and_classes_conform() -> None:
    check_surrogate(ATan(alpha=0.5))
    check_surrogate(Sigmoid)


class HalfAtZero(Sigmoid):
    """H(0) = 0.5: the forward pass is not the Heaviside step."""

    def __call__(self, x: Tensor) -> Tensor:
        s = super().__call__(x)
        return torch.where(x == 0, 0.5 * torch.ones_like(s), s)


class NegativeDerivative(Sigmoid):
    def _derivative(self, x: Tensor) -> Tensor:
        return -super()._derivative(x)

    def _primitive(self, x: Tensor) -> Tensor:
        return -super()._primitive(x)


class WrongPrimitive(Sigmoid):
    def _primitive(self, x: Tensor) -> Tensor:
        return torch.sigmoid(2 * self.slope * x)


class UnboundedDerivative(SurrogateFunction):
    def _derivative(self, x: Tensor) -> Tensor:
        return 1 / x.abs()


class BackwardIgnoresDerivative(Sigmoid):
    def __call__(self, x: Tensor) -> Tensor:
        return spike(x, ATan())  # says sigmoid, back-propagates atan


class Float32Surrogate(Sigmoid):
    def __call__(self, x: Tensor) -> Tensor:
        return super().__call__(x).float()


@pytest.mark.parametrize(
    ("surrogate", "rule", "phrase"),
    [
        (HalfAtZero(), "heaviside", "0, 0.5,"),
        (NegativeDerivative(), "derivative", "negative at x = -5"),
        (UnboundedDerivative(), "derivative", "NaN or inf"),
        (WrongPrimitive(), "primitive", "(P(x+h) - P(x-h)) / 2h"),
        (BackwardIgnoresDerivative(), "gradients", "instead of grad_out * derivative(x)"),
        (Float32Surrogate(), "dtype", "torch.float64 input gave torch.float32 spikes"),
        ("no-such-surrogate", "factory", "unknown surrogate"),
        (lambda x: x, "heaviside", "it gave -1e+06"),
    ],
    ids=lambda v: v if isinstance(v, str) and " " not in v else None,
)
def test_each_broken_surrogate_breaks_its_rule(surrogate: Any, rule: str, phrase: str) -> None:
    with broken(rule, phrase):
        check_surrogate(surrogate)


# -- encoders and decoders -------------------------------------------------------------------------


class RateEncoder(nn.Module):
    """A correct Bernoulli rate encoder: (N, *F) -> (N, T, *F), spike with probability x."""

    def __init__(self, steps: int = 5, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.steps = steps
        self.generator = generator

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() < 1:
            raise ValueError(f"expected (N, *F), got {getattr(x, 'shape', type(x))}")
        if not bool(torch.isfinite(x).all()):
            raise ValueError("the input holds NaN or infinite values")
        p = x.clamp(0, 1).unsqueeze(1).expand(x.shape[0], self.steps, *x.shape[1:])
        u = torch.rand(p.shape, generator=self.generator, dtype=x.dtype, device=x.device)
        return (u < p).to(x.dtype)

    def extra_repr(self) -> str:
        return f"steps={self.steps}"


class IndexErrorOnScalar(RateEncoder):
    def forward(self, x: Tensor) -> Tensor:
        _ = x.shape[0]  # IndexError on a scalar, before any check
        return super().forward(x)


class NoNanCheck(RateEncoder):
    def forward(self, x: Tensor) -> Tensor:
        return super().forward(torch.nan_to_num(x))


class IgnoresGenerator(RateEncoder):
    def forward(self, x: Tensor) -> Tensor:
        self.generator = None
        return super().forward(x)


class DropsChannelAxis(RateEncoder):
    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x).flatten(2)


class Float32Encoder(RateEncoder):
    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x).float()


class ScaledEncoder(RateEncoder):
    def forward(self, x: Tensor) -> Tensor:
        return 2 * super().forward(x)


def test_a_correct_encoder_passes() -> None:
    check_encoder(RateEncoder)
    check_encoder(lambda: RateEncoder(3), input_shape=(2, 3, 4))
    check_encoder(ScaledEncoder, values="analog")


@pytest.mark.parametrize(
    ("factory", "rule", "phrase", "options"),
    [
        (IndexErrorOnScalar, "bad-input", "raised IndexError", {}),
        (NoNanCheck, "nan-input", "encoded without an error", {}),
        (IgnoresGenerator, "determinism", "generators seeded alike", {}),
        (DropsChannelAxis, "output", "expected (3, 5, 2, 4)", {"input_shape": (3, 2, 4)}),
        (Float32Encoder, "dtype", "torch.float64 input gave the output of dtype torch.float32", {}),
        (ScaledEncoder, "values", "takes the values {0, 2}", {}),
        (nn.Identity, "output", "has no int attribute", {}),
    ],
    ids=lambda v: v if isinstance(v, str) and " " not in v else None,
)
def test_each_broken_encoder_breaks_its_rule(
    factory: Any, rule: str, phrase: str, options: dict[str, Any]
) -> None:
    if rule == "output" and factory is nn.Identity:
        with pytest.raises(ValueError, match=phrase):
            check_encoder(factory, **options)
        return
    with broken(rule, phrase):
        check_encoder(factory, **options)


class CountDecoder(nn.Module):
    """A correct spike-count readout: (N, T, *out) -> (N, *out)."""

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() < 2 or x.shape[1] == 0:
            raise ValueError(f"expected (N, T, *out) with T > 0, got {getattr(x, 'shape', x)}")
        return x.sum(1)


class DetachedDecoder(CountDecoder):
    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x).detach()


class UncheckedDecoder(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.amax(1)  # IndexError for rank 1, RuntimeError for T = 0


def test_a_correct_decoder_passes() -> None:
    check_decoder(CountDecoder)
    check_decoder(CountDecoder, input_shape=(2, 3))


@pytest.mark.parametrize(
    ("factory", "rule", "phrase"),
    [
        (DetachedDecoder, "gradients", "no autograd graph"),
        (UncheckedDecoder, "bad-input", "an input of shape (3,) (rank 1) raised IndexError"),
        (lambda: lambda x: x.sum(1), "is-module", "not a torch.nn.Module"),
    ],
)
def test_each_broken_decoder_breaks_its_rule(factory: Any, rule: str, phrase: str) -> None:
    with broken(rule, phrase):
        check_decoder(factory)


# -- datasets --------------------------------------------------------------------------------------


class ListDataset(torch.utils.data.Dataset[tuple[Tensor, int]]):
    """A correct map-style dataset of (spikes (T, F), class) pairs."""

    num_classes = 3

    def __init__(self, n: int = 5) -> None:
        gen = torch.Generator().manual_seed(0)
        self.samples = [(torch.rand(4, 2, generator=gen) < 0.5).float() for _ in range(n)]
        self.targets = [i % 3 for i in range(n)]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples")
        return self.samples[index], self.targets[index]

    def __repr__(self) -> str:
        return f"ListDataset(n={len(self)})"


class WrapsAround(ListDataset):
    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        return super().__getitem__(index % len(self))


class RaisesKeyError(ListDataset):
    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        if index >= len(self):
            raise KeyError(index)
        return super().__getitem__(index)


class RaggedSamples(ListDataset):
    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        sample, target = super().__getitem__(index)
        return sample[: 1 + index], target


class DeclaresRagged(RaggedSamples):
    sample_shape = (None, 2)


class SampleOnly(ListDataset):
    def __getitem__(self, index: int) -> Any:
        return super().__getitem__(index)[0]


class TargetOutOfRange(ListDataset):
    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        sample, _ = super().__getitem__(index)
        return sample, 3


class EmptyDataset(ListDataset):
    def __init__(self) -> None:
        super().__init__(0)


def test_a_correct_dataset_passes() -> None:
    check_dataset(ListDataset())
    check_dataset(ListDataset(1))
    check_dataset(DeclaresRagged())  # variable first dimension, declared as None


@pytest.mark.parametrize(
    ("dataset", "rule", "phrase"),
    [
        (WrapsAround(), "index-error", "returned a sample"),
        (RaisesKeyError(), "index-error", "raised KeyError"),
        (RaggedSamples(), "getitem", "declares no sample_shape"),
        (SampleOnly(), "getitem", "not a (sample, target) pair"),
        (TargetOutOfRange(), "getitem", "an int in [0, 3)"),
        (EmptyDataset(), "len", "empty"),
    ],
    ids=lambda v: v if isinstance(v, str) and " " not in v else None,
)
def test_each_broken_dataset_breaks_its_rule(dataset: Any, rule: str, phrase: str) -> None:
    with broken(rule, phrase):
        check_dataset(dataset)
