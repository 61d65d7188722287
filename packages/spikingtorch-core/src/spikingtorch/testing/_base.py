"""What every check of the conformance kit shares: the error, the rule table, small helpers."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, NoReturn

import torch
from torch import Tensor, nn

__all__ = ["RULES", "ConformanceError"]

#: Every rule of the kit: its identifier (``ConformanceError.rule``) -> (what it requires, how
#: to fix a failure). The module docstring of :mod:`spikingtorch.testing` lists them by check.
RULES: dict[str, tuple[str, str]] = {
    # -- shared by several checks ------------------------------------------------------------
    "factory": (
        "the factory must be a zero-argument callable that returns a new component each call",
        "pass the class itself or a callable that builds one, e.g. "
        "check_neuron(MyNeuron) or check_neuron(lambda: MyNeuron(tau=5.0)), not an instance",
    ),
    "is-module": (
        "the component must be a torch.nn.Module",
        "derive the class from torch.nn.Module (or the plugin's base class)",
    ),
    "repr": (
        "repr() must work (and name the class, for a module)",
        "keep nn.Module's __repr__ and describe the settings in extra_repr() (for a dataset, "
        "define __repr__ or extra_repr() that cannot fail)",
    ),
    "output": (
        "the output must be a tensor of the documented shape, with the input's dtype and device",
        "build the output from the input (torch.zeros_like(x), x.new_zeros(...), "
        "(v > threshold).to(x.dtype)) instead of hard-coding shape, dtype or device",
    ),
    "dtype": (
        "each floating dtype must run, and outputs and state must keep the input's dtype",
        "create tensors with dtype=x.dtype (or *_like(x)), cast spikes with .to(x.dtype) rather "
        "than .float(), and keep parameters and buffers as registered tensors so that "
        "module.to(dtype) converts them",
    ),
    "device": (
        "outputs and state must live on the input's device",
        "create tensors with device=x.device (or *_like(x)); register constants as buffers so "
        "that module.to(device) moves them",
    ),
    "gradients": (
        "gradients must reach the input and every parameter that requires grad, finite",
        "use a surrogate spike function (spikingtorch.surrogate.spike) instead of a hard "
        "threshold, and do not detach or recreate parameters inside forward",
    ),
    "determinism": (
        "the same seed must give the same result",
        "draw random numbers only from the generator the component was given (or torch's "
        "global generator when it has none), never from Python's random or numpy",
    ),
    "bad-input": (
        "input of the wrong rank must raise ValueError or TypeError naming the expected shape",
        "check x.dim() at the start of forward and raise ValueError('expected (N, ...), got "
        "shape ...') before indexing",
    ),
    # -- neurons -------------------------------------------------------------------------------
    "is-neuron": (
        "a neuron must be a subclass of spikingtorch.Neuron (a torch.nn.Module)",
        "derive the class from spikingtorch.Neuron and implement init_state() and step()",
    ),
    "init-state": (
        "init_state(x_t) must return tensors with x_t's shape, dtype and device",
        "build the state with torch.zeros_like(x_t) (or x_t.new_zeros(x_t.shape))",
    ),
    "spikes": (
        "a neuron must emit spikes in {0, 1} and fire on the test input",
        "emit spikes with spikingtorch.surrogate.spike(v - threshold) (which gives exactly 0 or "
        "1); if the test input is too weak to make it fire, pass a larger input_scale; a graded "
        "(non-binary) neuron opts out with binary=False",
    ),
    "reset-on-init": (
        "init=True must start a new sequence: no state is kept from the previous one",
        "in forward(x_t, init), re-create the state with init_state(x_t) whenever init is true "
        "(spikingtorch.Neuron.forward does; call it rather than overriding forward)",
    ),
    "batch-size": (
        "a new batch size (without init) must start fresh, not fail or reuse the old state",
        "re-initialise the state when x_t's shape, dtype or device differs from the stored "
        "state's (spikingtorch.Neuron.forward does)",
    ),
    "reset-state": (
        "reset_state() must forget the state: state is None and the next call starts fresh",
        "set the stored state to None in reset_state() and keep no other per-sequence tensors",
    ),
    "detach-state": (
        "detach_state() must keep the state's values and cut its autograd history",
        "replace every state tensor by tensor.detach() (spikingtorch.Neuron.detach_state "
        "does, for tuples and NamedTuples of tensors)",
    ),
    "state-dict": (
        "a state_dict round trip into a fresh instance must reproduce the outputs",
        "store every learned or configured tensor as a parameter or buffer, and derive cached "
        "values from them in forward (not once in __init__)",
    ),
    "scan": (
        "scan(x_seq) must equal stepping: same spikes, same final state, close gradients",
        "make scan() compute exactly the recurrence of step() (or delete the override: the "
        "default scan loops over step)",
    ),
    "sequence-mode": (
        "SpikingNet(mode='sequence') must give the same output as mode='step'",
        "keep all state in the neuron's state tuple and let scan() start from init_state()",
    ),
    "spikingnet": (
        "a SpikingNet must give the same output for the same input on every call",
        "re-initialise the state on init=True and in reset_state(); keep no other state",
    ),
    # -- surrogates ------------------------------------------------------------------------
    "heaviside": (
        "the forward pass must be the Heaviside step H(x) = 1 iff x > 0 (so H(0) = 0)",
        "return (x > 0).to(x.dtype) in forward; only the backward pass uses the surrogate",
    ),
    "derivative": (
        "the pseudo-derivative must have x's shape and dtype, be finite, >= 0 and not all zero",
        "return a non-negative, bounded bump such as k*sigmoid(kx)*(1 - sigmoid(kx))",
    ),
    "primitive": (
        "the derivative must match finite differences of primitive()",
        "make primitive() an antiderivative of derivative() (or drop primitive())",
    ),
    # -- encoders and decoders -----------------------------------------------------------------
    "values": (
        "encoded spikes must take the documented values ({0, 1}, or {-1, 0, 1} when signed)",
        "threshold or sample the train as (condition).to(x.dtype); declare values='signed' or "
        "values='analog' if the encoder is meant to emit other values",
    ),
    "nan-input": (
        "an input holding NaN must raise ValueError instead of encoding garbage",
        "check torch.isfinite(x).all() and raise ValueError naming the problem",
    ),
    # -- datasets ------------------------------------------------------------------------------
    "len": (
        "len(dataset) must be a non-negative int and the dataset must not be empty",
        "return an int from __len__; build the dataset on a few samples for the check",
    ),
    "getitem": (
        "dataset[i] must return a (sample, target) pair of consistent types and shapes",
        "return (sample, target) tuples whose types, dtypes and ranks are the same for every "
        "index; declare variable dimensions as None in sample_shape",
    ),
    "index-error": (
        "dataset[len(dataset)] must raise IndexError (for-loops and DataLoaders rely on it)",
        "check the index in __getitem__ and raise IndexError when it is out of range",
    ),
}


class ConformanceError(AssertionError):
    """A component broke a rule of the conformance kit.

    An ``AssertionError``, so pytest reports it as a test failure with the message.

    Attributes:
        rule: the rule's short identifier, e.g. ``"reset-on-init"`` (a key of :data:`RULES`).
        component: what was checked (its class name or registered name).
        observed: what the kit saw.
        fix: how to fix it.

    Example:
        >>> err = ConformanceError("repr", "MyNeuron", "repr() raised KeyError")
        >>> err.rule
        'repr'
        >>> print(err)  # doctest: +NORMALIZE_WHITESPACE
        MyNeuron breaks conformance rule 'repr': repr() must work (and name the class, for a
          module).
          observed: repr() raised KeyError
          fix: keep nn.Module's __repr__ and describe the settings in extra_repr() (for a
          dataset, define __repr__ or extra_repr() that cannot fail)
    """

    def __init__(self, rule: str, component: str, observed: str, fix: str | None = None) -> None:
        requirement, default_fix = RULES.get(rule, (rule, "see the spikingtorch.testing docs"))
        self.rule = rule
        self.component = component
        self.observed = observed
        self.fix = default_fix if fix is None else fix
        super().__init__(
            f"{component} breaks conformance rule {rule!r}: {requirement}.\n"
            f"  observed: {observed}\n"
            f"  fix: {self.fix}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.rule, self.component, self.observed, self.fix))


class Rule:
    """Context for checking one rule: turns any exception inside it into a ConformanceError."""

    def __init__(self, rule: str, component: str) -> None:
        if rule not in RULES:  # pragma: no cover - guards the kit itself
            raise KeyError(f"unknown conformance rule {rule!r}")
        self.rule = rule
        self.component = component
        #: what the check is doing, for the message when the component raises
        self.doing: str | None = None

    def __enter__(self) -> Rule:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        __tracebackhide__ = True  # pytest shows the rule's code, not this helper
        if exc is None or isinstance(exc, ConformanceError) or not isinstance(exc, Exception):
            return
        where = f"{self.doing} " if self.doing else ""
        raise ConformanceError(
            self.rule, self.component, f"{where}raised {type(exc).__name__}: {exc}"
        ) from exc

    def fail(self, observed: str, fix: str | None = None) -> NoReturn:
        """Raise the ConformanceError of this rule."""
        __tracebackhide__ = True
        raise ConformanceError(self.rule, self.component, observed, fix)

    def check(
        self, condition: bool, observed: str | Callable[[], str], fix: str | None = None
    ) -> None:
        """Fail with ``observed`` (a string or a callable that builds it) unless ``condition``."""
        __tracebackhide__ = True
        if not condition:
            self.fail(observed() if callable(observed) else observed, fix)


def make_factory(factory: Any, kind: str) -> tuple[Callable[[], Any], str]:
    """Check a factory argument; a registered name (str) is looked up in the ``kind`` registry.

    Returns the factory and a name for messages.
    """
    if isinstance(factory, str):
        import spikingtorch

        name = factory
        return (lambda: spikingtorch.get(kind, name)), f"{kind[:-1]} {name!r}"
    who = getattr(factory, "__name__", None) or type(factory).__name__
    with Rule("factory", str(who)) as rule:
        if isinstance(factory, nn.Module):
            rule.fail(f"got the instance {type(factory).__name__}(...), not a factory")
        rule.check(callable(factory), f"got a {type(factory).__name__}, which is not callable")
    return factory, str(who)


def build(factory: Callable[[], Any], who: str) -> Any:
    """Call the factory twice (under rule ``factory``) and return the first instance."""
    with Rule("factory", who) as rule:
        first = factory()
        second = factory()
        rule.check(
            first is not second,
            "two calls returned the same object, so every check would share one instance",
        )
    return first


def check_repr(component: Any, who: str) -> None:
    """Rule ``repr``: ``repr()`` works and is a non-empty string; a module's names its class."""
    with Rule("repr", who) as rule:
        text = repr(component)
        rule.check(isinstance(text, str) and bool(text.strip()), f"repr() returned {text!r}")
        name = type(component).__name__
        if isinstance(component, nn.Module):
            rule.check(name in text, f"repr() is {text[:80]!r}, which does not name {name}")


def tensors_of(obj: Any) -> list[Tensor]:
    """The tensors inside a tensor, a (named) tuple or list of them, nested; else none."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for item in obj for t in tensors_of(item)]
    return []


def default_device(device: torch.device | str | None) -> torch.device:
    """``device``, or torch's default device (where ``torch.zeros(...)`` lands) when None."""
    if device is not None:
        return torch.device(device)
    get_default = getattr(torch, "get_default_device", None)
    return torch.device(get_default()) if get_default is not None else torch.empty(0).device


def same_device(a: torch.device, b: torch.device) -> bool:
    """Whether ``a`` and ``b`` name the same device; an index-less ``cuda`` means the current one.

    ``torch.device("cuda") == torch.device("cuda:0")`` is false, yet a tensor made with
    ``device="cuda"`` reports ``cuda:0``.
    """
    if a.type != b.type:
        return False
    if a.index is None or b.index is None:
        current = torch.cuda.current_device() if a.type == "cuda" else None
        return (a.index if a.index is not None else current) == (
            b.index if b.index is not None else current
        )
    return a.index == b.index


def extra_devices(main: torch.device) -> list[torch.device]:
    """CUDA when it is available and not already the main device."""
    if torch.cuda.is_available() and main.type != "cuda":
        return [torch.device("cuda")]
    return []


def where_differ(a: Tensor, b: Tensor, time_dim: int | None = 0) -> str:
    """'k of n values differ (first at t=..)' for two tensors of the same shape."""
    if a.shape != b.shape:
        return f"shapes {tuple(a.shape)} and {tuple(b.shape)}"
    diff = (a != b) if a.dtype == torch.bool else ~torch.isclose(a, b, equal_nan=True)
    count = int(diff.sum())
    text = f"{count} of {diff.numel()} values differ"
    if count and time_dim is not None and diff.dim() > time_dim:
        first = int(diff.movedim(time_dim, 0).reshape(diff.shape[time_dim], -1).any(1).nonzero()[0])
        text += f" (first at t={first})"
    return text


def is_binary(x: Tensor) -> bool:
    """Whether every value of ``x`` is 0 or 1."""
    return bool(((x == 0) | (x == 1)).all())


def sorted_values(x: Tensor, limit: int = 6) -> str:
    """A few distinct values of ``x`` for messages."""
    values = torch.unique(x.detach().float().cpu())
    shown = ", ".join(f"{v:g}" for v in values[:limit].tolist())
    return "{" + shown + (", ..." if values.numel() > limit else "") + "}"


@contextlib.contextmanager
def seeded(seed: int = 0) -> Iterator[None]:
    """Run with torch's CPU generator seeded, restoring the caller's generator state after."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def shape_text(shape: Sequence[int]) -> str:
    return str(tuple(shape))
