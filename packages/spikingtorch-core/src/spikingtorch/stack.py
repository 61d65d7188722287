"""Compose a training stack (dataset, encoder, network, neuron, decoder, loss) from names.

:func:`build_stack` turns a :class:`~spikingtorch.config.StackConfig` (from a TOML stack file
or ``spikingtorch train`` options) into objects. Every component is looked up by name in its
registry, so the stack works with whatever plugins are installed:

* datasets: ``factory(root=..., train=True|False, download=..., **params)`` returning
  ``(sample, target)`` pairs, with attributes ``num_classes`` (or ``classes``) and
  ``temporal``: a temporal sample is already a spike train ``(T, *features)``; any other sample
  ``(*dims)`` goes through an encoder into ``(T, *dims')``;
* encoders: ``factory(steps=T, **params)`` (``steps`` only if it takes it), ``(N, *dims) ->
  (N, T, *dims')``;
* networks: ``factory(in_shape, num_classes, neuron=..., neuron_params=..., **params)`` returning
  a per-step module (see :mod:`spikingtorch.networks`), wrapped in a
  :class:`~spikingtorch.SpikingNet`;
* decoders: ``factory(**params)``, ``(N, T, C) -> (N, C)`` scores;
* the loss: cross-entropy with the scores as logits (:class:`CrossEntropy`).

Shapes: ``N`` the batch, ``T`` the time steps, ``C`` the classes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Subset

from spikingtorch.config import (
    DEFAULT_STEPS,
    StackConfig,
    StackConfigError,
    dumps_toml,
    load_toml,
    parse_param,
    resolve_config,
)
from spikingtorch.net import SpikingNet
from spikingtorch.plugins import get_registry

__all__ = [
    "CrossEntropy",
    "Stack",
    "StackConfig",
    "StackConfigError",
    "build_stack",
    "check_components",
    "dumps_toml",
    "load_toml",
    "parse_param",
    "resolve_config",
]


class CrossEntropy:
    """Cross-entropy with a decoder's scores ``(N, C)`` as logits; targets ``(N,)`` class indices.

    Args:
        negate: use ``-scores`` as logits (for decoders where lower means more likely, such as
            first-spike times).
        label_smoothing: as in :func:`torch.nn.functional.cross_entropy`.

    Example:
        >>> import torch
        >>> loss = CrossEntropy()
        >>> round(loss(torch.tensor([[0.0, 0.0]]), torch.tensor([1])).item(), 4)  # log 2
        0.6931
        >>> loss.predict(torch.tensor([[3.0, 5.0], [2.0, 1.0]])).tolist()
        [1, 0]
    """

    def __init__(self, *, negate: bool = False, label_smoothing: float = 0.0) -> None:
        self.negate = bool(negate)
        self.label_smoothing = float(label_smoothing)

    def logits(self, scores: Tensor) -> Tensor:
        """The logits ``(N, C)`` of decoder scores ``(N, C)``."""
        return -scores if self.negate else scores

    def __call__(self, scores: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(self.logits(scores), target, label_smoothing=self.label_smoothing)

    def predict(self, scores: Tensor) -> Tensor:
        """Predicted classes ``(N,)``: the largest logit."""
        return self.logits(scores).argmax(1)

    def __repr__(self) -> str:
        return f"CrossEntropy(negate={self.negate}, label_smoothing={self.label_smoothing:g})"


@dataclass
class Stack:
    """A built training stack.

    Attributes:
        config: the config it was built from, with ``encoder`` resolved (``"none"`` or a
            name) and ``steps`` set to the encoder's ``T`` when it takes steps.
        train_set, test_set: the datasets (subsets if ``train_samples``/``test_samples``).
        encoder: ``(N, *dims) -> (N, T, *in)``, or None for a temporal dataset.
        model: the :class:`~spikingtorch.SpikingNet`, ``(N, T, *in) -> (N, T, C)``.
        decoder: ``(N, T, C) -> (N, C)`` scores.
        loss: the loss on the scores (also gives predictions).
        num_classes: ``C``.
        in_shape: the per-step input shape ``in`` of the network.
        steps: ``T`` of the probe sample.
    """

    config: StackConfig
    train_set: Any
    test_set: Any
    encoder: nn.Module | None
    model: SpikingNet
    decoder: nn.Module
    loss: CrossEntropy
    num_classes: int
    in_shape: tuple[int, ...]
    steps: int

    def scores(self, x: Tensor) -> Tensor:
        """A batch of samples ``(N, *sample)`` to decoder scores ``(N, C)``."""
        if not x.is_floating_point():
            x = x.float()
        if self.encoder is not None:
            x = self.encoder(x)
        return self.decoder(self.model(x))

    def to(self, device: torch.device | str) -> Stack:
        """Move the model, encoder and decoder to ``device``; returns self."""
        for module in (self.model, self.encoder, self.decoder):
            if module is not None:
                module.to(device)
        return self

    def describe(self) -> str:
        """A few lines that say what was built."""
        c = self.config
        sizes = f"{len(self.train_set)} train / {len(self.test_set)} test samples"
        encoder = "none (temporal dataset)" if self.encoder is None else repr(self.encoder)
        return "\n".join(
            [
                f"dataset: {c.dataset} ({sizes}, {self.num_classes} classes)",
                f"encoder: {encoder}",
                f"network: {c.network} with neuron {c.neuron}, "
                f"per-step input {self.in_shape}, T={self.steps}",
                f"decoder: {self.decoder!r}, loss: {self.loss!r}",
            ]
        )


def _norm(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def _accepts(factory: Any, name: str) -> bool:
    """Whether ``factory`` takes the keyword argument ``name`` (or any ``**kwargs``)."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def _check_params(what: str, factory: Any, *args: Any, **kwargs: Any) -> None:
    """Raise a :class:`StackConfigError` that lists the accepted parameters if ``factory``
    cannot take ``kwargs`` (missing arguments are left to the call itself)."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return
    try:
        signature.bind_partial(*args, **kwargs)
    except TypeError as exc:
        accepted = [
            p.name
            for p in signature.parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"
        ]
        raise StackConfigError(
            f"{what}: {exc}; its parameters are: {', '.join(accepted) or 'none'}"
        ) from None


def _call(what: str, factory: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a component factory; bad parameters become a :class:`StackConfigError`."""
    _check_params(what, factory, *args, **kwargs)
    try:
        return factory(*args, **kwargs)
    except (TypeError, ValueError) as exc:
        raise StackConfigError(f"cannot build the {what}: {exc}") from exc


def check_components(config: StackConfig) -> None:
    """Check that every component the config names is registered.

    Raises:
        ComponentNotFoundError: an unknown name (the message lists what is installed and, for a
            missing first-party plugin, the ``pip install`` command).
        AmbiguousComponentError: a bare name that several plugins provide.
    """
    get_registry("datasets").lookup(config.dataset)
    if _norm(config.encoder) not in ("auto", "none"):
        get_registry("encoders").lookup(config.encoder)
    get_registry("networks").lookup(config.network)
    get_registry("neurons").lookup(config.neuron)
    get_registry("decoders").lookup(config.decoder)


def _dataset(config: StackConfig, train: bool) -> Any:
    factory = get_registry("datasets").resolve(config.dataset)
    kwargs = {"root": config.data_root, "train": train, "download": config.download}
    part = "training" if train else "test"
    return _call(f"{part} set of {config.dataset!r}", factory, **kwargs, **config.dataset_params)


def _subset(dataset: Any, n: int | None, seed: int) -> Any:
    """A seeded random subset of ``n`` samples (in the dataset's order), or the dataset."""
    if n is None or n >= len(dataset):
        return dataset
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))
    return Subset(dataset, order[:n].sort().values.tolist())


def _num_classes(dataset: Any, name: str) -> int:
    count = getattr(dataset, "num_classes", None)
    if count is None and getattr(dataset, "classes", None) is not None:
        count = len(dataset.classes)
    if isinstance(count, bool) or not isinstance(count, int) or count < 2:
        raise StackConfigError(
            f"dataset {name!r} does not give its number of classes (attribute num_classes or "
            f"classes), got {count!r}"
        )
    return count


def _encoder(config: StackConfig, temporal: bool) -> tuple[nn.Module | None, StackConfig]:
    name = _norm(config.encoder)
    if name == "auto":
        name = "none" if temporal else "poisson"
    if name == "none":
        if not temporal:
            raise StackConfigError(
                f"dataset {config.dataset!r} is not temporal (its samples have no time axis): "
                "choose an encoder, e.g. --encoder poisson"
            )
        if config.steps is not None:
            raise StackConfigError(
                f"steps={config.steps} needs an encoder; dataset {config.dataset!r} is "
                "temporal and no encoder is used (its samples give T)"
            )
        return None, replace(config, encoder="none")
    factory = get_registry("encoders").resolve(name)
    kwargs = dict(config.encoder_params)
    if "steps" not in kwargs and _accepts(factory, "steps"):
        kwargs["steps"] = config.steps if config.steps is not None else DEFAULT_STEPS
    elif config.steps is not None:
        raise StackConfigError(f"encoder {name!r} takes no steps (its T comes from its input)")
    encoder = _call(f"encoder {name!r}", factory, **kwargs)
    resolved = replace(config, encoder=name if _norm(config.encoder) == "auto" else config.encoder)
    if "steps" in kwargs and "steps" not in config.encoder_params:
        resolved = replace(resolved, steps=kwargs["steps"])
    return encoder, resolved


def _probe(dataset: Any, encoder: nn.Module | None, name: str) -> tuple[tuple[int, ...], int]:
    """``(in_shape, T)`` of the network input, from the first sample."""
    sample = torch.as_tensor(dataset[0][0])
    x = sample.unsqueeze(0).float()
    if encoder is not None:
        with torch.no_grad():
            x = encoder(x)
    if x.dim() < 3:
        raise StackConfigError(
            f"dataset {name!r}: a sample of shape {tuple(sample.shape)} gives network input "
            f"{tuple(x.shape)}, which has no (N, T, *in) layout"
        )
    return tuple(x.shape[2:]), int(x.shape[1])


def build_stack(config: StackConfig) -> Stack:
    """Build the datasets, encoder, model, decoder and loss that ``config`` names.

    Seed torch first (``spikingtorch.train.seed_everything``) for reproducible weights.

    Raises:
        ComponentNotFoundError: a component name that no installed plugin provides.
        StackConfigError: bad parameters, or components that do not fit together.
    """
    check_components(config)
    train_set = _dataset(config, True)
    test_set = _dataset(config, False)
    num_classes = _num_classes(train_set, config.dataset)
    temporal = bool(getattr(train_set, "temporal", False))
    encoder, config = _encoder(config, temporal)
    train_set = _subset(train_set, config.train_samples, config.seed)
    test_set = _subset(test_set, config.test_samples, config.seed + 1)
    in_shape, steps = _probe(train_set, encoder, config.dataset)

    factory = get_registry("networks").resolve(config.network)
    kwargs = dict(config.network_params)
    if "neuron" in kwargs or "neuron_params" in kwargs:
        raise StackConfigError("set the neuron in [neuron] (--neuron), not in [network]")
    if _accepts(factory, "neuron"):
        neuron = get_registry("neurons").resolve(config.neuron)
        _check_params(f"neuron {config.neuron!r}", neuron, **config.neuron_params)
        kwargs.update(neuron=config.neuron, neuron_params=dict(config.neuron_params))
    net = _call(f"network {config.network!r}", factory, in_shape, num_classes, **kwargs)
    model = SpikingNet(net, (num_classes,))
    decoder_factory = get_registry("decoders").resolve(config.decoder)
    decoder = _call(f"decoder {config.decoder!r}", decoder_factory, **config.decoder_params)
    loss = _call("loss", CrossEntropy, **config.loss_params)
    return Stack(
        config=config,
        train_set=train_set,
        test_set=test_set,
        encoder=encoder,
        model=model,
        decoder=decoder,
        loss=loss,
        num_classes=num_classes,
        in_shape=in_shape,
        steps=steps,
    )
