"""Randman: random-manifold spike-timing classification, generated on the fly (no files).

Zenke & Vogels (2021), "The remarkable robustness of surrogate gradient learning for instilling
complex function in spiking neural networks", Neural Computation 33(4):899. Each class is a
smooth random manifold of intrinsic dimension ``D`` embedded in ``units`` dimensions; a sample is
a point on its class's manifold, read as one spike time per input unit. Every unit spikes exactly
once in every sample, so spike counts carry no information: only spike timing does.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from spikingtorch_datasets._base import SpikeDataset

__all__ = ["Randman", "randman_spike_times"]

_PRECISION = 1e-3  # the spectrum is cut where it falls below this (the reference's ``prec``)
_MAX_FREQUENCIES = 1000
_CHUNK_ELEMENTS = 1 << 22  # evaluate the manifolds in chunks of about 32 MB of float64


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"Randman: {name} must be an int >= {minimum}, got {value!r}")
    return value


def _random_manifold(x: Tensor, units: int, alpha: float, generator: torch.Generator) -> Tensor:
    """Evaluate one random manifold at intrinsic coordinates ``x`` ``(S, D)`` -> ``(S, units)``.

    Per embedding dimension ``e`` and intrinsic dimension ``d`` a random smooth function

    .. math::

        f_{e,d}(u) = \\sum_{i=0}^{F-1} \\frac{a_{e,d,i}}{(i+1)^\\alpha + 1}
            \\sin\\bigl(2\\pi (i\\, u\\, b_{e,d,i} + c_{e,d,i})\\bigr),
        \\qquad a, b, c \\sim \\mathcal{U}[0, 1),\\ a_{e,d,0} = 0,

    with ``F = min(ceil(1000^{1/α}), 1000)`` terms; the manifold is
    ``y_e(x) = Π_d f_{e,d}(x_d)``. Larger ``α`` gives smoother manifolds.
    """
    samples, dims = x.shape
    terms = min(math.ceil(_PRECISION ** (-1.0 / alpha)), _MAX_FREQUENCIES)
    theta = torch.rand((units, dims, 3, terms), generator=generator, dtype=torch.float64)
    theta[:, :, 0, 0] = 0.0  # no constant offset
    i = torch.arange(terms, dtype=torch.float64)
    spectrum = 1.0 / ((i + 1.0) ** alpha + 1.0)
    amplitude = theta[:, :, 0, :] * spectrum  # (E, D, F)
    frequency = theta[:, :, 1, :] * i  # (E, D, F)
    phase = theta[:, :, 2, :]
    out = torch.empty((samples, units), dtype=torch.float64)
    chunk = max(1, _CHUNK_ELEMENTS // (units * dims * terms))
    for start in range(0, samples, chunk):
        u = x[start : start + chunk, None, :, None]  # (s, 1, D, 1)
        waves = torch.sin(2.0 * math.pi * (u * frequency + phase))  # (s, E, D, F)
        out[start : start + chunk] = (waves * amplitude).sum(-1).prod(-1)
    return out


def randman_spike_times(
    *,
    num_classes: int,
    units: int,
    samples_per_class: int,
    manifold_dim: int,
    alpha: float,
    generator: torch.Generator,
) -> tuple[Tensor, Tensor, Tensor]:
    """Draw Randman samples: spike times, labels and manifold coordinates.

    Returns ``times`` ``(num_classes·S, units)`` in ``[0, 1]``, ``labels`` ``(num_classes·S,)``
    and the intrinsic ``coordinates`` ``(num_classes·S, D)`` of each sample on its manifold.

    For each class a fresh random manifold (see :func:`_random_manifold`) is evaluated at
    ``S = samples_per_class`` points drawn uniformly from ``[0, 1)^D``; each unit's values are
    then min-max scaled over that class's samples to ``[0, 1]``: these are the spike times.
    Samples come grouped by class (class 0 first). All draws use ``generator`` and float64.
    """
    times = torch.empty((num_classes, samples_per_class, units), dtype=torch.float64)
    coordinates = torch.empty((num_classes, samples_per_class, manifold_dim), dtype=torch.float64)
    for k in range(num_classes):
        x = torch.rand((samples_per_class, manifold_dim), generator=generator, dtype=torch.float64)
        y = _random_manifold(x, units, alpha, generator)
        low = y.min(dim=0).values
        high = y.max(dim=0).values
        times[k] = (y - low) / (high - low + 1e-7)
        coordinates[k] = x
    labels = torch.arange(num_classes).repeat_interleave(samples_per_class)
    return times.reshape(-1, units), labels, coordinates.reshape(-1, manifold_dim)


class Randman(SpikeDataset):
    """Random-manifold spike-timing classification (Zenke & Vogels 2021), generated from a seed.

    Each of ``num_classes`` classes is a random smooth ``manifold_dim``-dimensional manifold in
    ``units`` dimensions (smoothness ``alpha``); a sample is a random point on its class's
    manifold whose coordinates, scaled per unit to ``[0, 1]``, are spike times: input unit ``u``
    spikes exactly once, at step ``floor(time_u · steps)`` (clipped to ``steps - 1``). Counts
    carry no information, only timing does. Nothing is read from or written to disk.

    The data depend only on the parameters and ``seed``: both splits come from one generation
    (a private CPU ``torch.Generator``, float64 arithmetic), so a seed gives the same data on
    any machine and the train and test splits never share a sample. Each class contributes
    ``round((1 - test_fraction) · samples_per_class)`` training samples and the rest to the test
    split (balanced classes); samples are shuffled within each split.

    The defaults (10 classes, 40 units, 50 steps, 1-d manifolds, ``alpha=2``, 200 samples per
    class: 1600 train / 400 test, generated in under a second) are an easy task that a small
    spiking MLP learns in about a minute on one CPU core: a ``40-128-10`` LIF network (τ = 10
    steps, spike-count readout, Adam with lr 5e-3, batch 64) passes 80% test accuracy after
    about 6 epochs and reaches 95–99% after 10 (chance: 10%). Harder variants:
    ``manifold_dim=2`` (same network: about 90% after 15 epochs), fewer units (``units=20``:
    about 93%), smaller ``alpha`` (rougher manifolds), more classes.

    Args:
        root: Ignored (nothing is on disk); accepted, like ``download``, for a torchvision-shaped
            signature. May be None.
        train: The training split (True) or the test split.
        transform: Applied to each spike tensor ``(T, units)``.
        target_transform: Applied to each target (an int).
        download: Ignored (nothing to download).
        num_classes: Number of classes (manifolds), ``>= 2``.
        units: Number of input units (embedding dimension), ``>= 1``.
        steps: ``T``, the number of time steps of a sample, ``>= 1``.
        manifold_dim: Intrinsic dimension ``D`` of each manifold, ``>= 1``.
        alpha: Smoothness of the manifolds, ``> 0`` (spectrum ``∝ 1/((i+1)^α + 1)``).
        samples_per_class: Samples generated per class (both splits together), ``>= 2``.
        test_fraction: Fraction of each class that goes to the test split, in ``(0, 1)``.
        seed: The seed of the generator (an int).

    Attributes:
        times: ``(len, units)`` int64 spike step of each unit of each sample.
        targets: ``(len,)`` int64 class of each sample.
        coordinates: ``(len, manifold_dim)`` float64 point of each sample on its class's
            manifold (distinct draws for every sample; two nearby points can still give the
            same spike raster after rounding times to steps, in either split).
        num_classes, classes, sample_shape (``(T, units)``), temporal (True): as in
            :class:`~spikingtorch_datasets._base.SpikeDataset`.

    Shape:
        sample: ``(T, units)`` float32 spikes in ``{0, 1}``, one spike per unit; target: ``int``.

    Example:
        >>> data = Randman(num_classes=3, units=5, steps=10, samples_per_class=10, seed=1)
        >>> len(data), data.sample_shape, data.num_classes, data.temporal
        (24, (10, 5), 3, True)
        >>> spikes, target = data[0]
        >>> spikes.shape, spikes.dtype, spikes.sum(0).tolist()
        (torch.Size([10, 5]), torch.float32, [1.0, 1.0, 1.0, 1.0, 1.0])
        >>> torch.equal(spikes, Randman(num_classes=3, units=5, steps=10,
        ...                             samples_per_class=10, seed=1)[0][0])
        True
        >>> len(Randman(num_classes=3, units=5, steps=10, samples_per_class=10, train=False))
        6
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        train: bool = True,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        download: bool = False,
        *,
        num_classes: int = 10,
        units: int = 40,
        steps: int = 50,
        manifold_dim: int = 1,
        alpha: float = 2.0,
        samples_per_class: int = 200,
        test_fraction: float = 0.2,
        seed: int = 0,
    ) -> None:
        self.root = None if root is None else Path(root).expanduser()
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        self.num_classes = _check_int("num_classes", num_classes, 2)
        self.units = _check_int("units", units, 1)
        self.steps = _check_int("steps", steps, 1)
        self.manifold_dim = _check_int("manifold_dim", manifold_dim, 1)
        self.samples_per_class = _check_int("samples_per_class", samples_per_class, 2)
        if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not alpha > 0:
            raise ValueError(f"Randman: alpha must be a number > 0, got {alpha!r}")
        self.alpha = float(alpha)
        if isinstance(test_fraction, bool) or not 0.0 < float(test_fraction) < 1.0:
            raise ValueError(f"Randman: test_fraction must lie in (0, 1), got {test_fraction!r}")
        self.test_fraction = float(test_fraction)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"Randman: seed must be an int, got {seed!r}")
        self.seed = seed
        n_train = round((1.0 - self.test_fraction) * samples_per_class)
        if not 0 < n_train < samples_per_class:
            raise ValueError(
                f"Randman: test_fraction={test_fraction} leaves an empty split with "
                f"samples_per_class={samples_per_class}"
            )
        self.classes = [str(k) for k in range(num_classes)]
        self.sample_shape: tuple[int, ...] = (steps, units)
        self.temporal = True

        generator = torch.Generator(device="cpu").manual_seed(seed)
        times, labels, coordinates = randman_spike_times(
            num_classes=num_classes,
            units=units,
            samples_per_class=samples_per_class,
            manifold_dim=manifold_dim,
            alpha=self.alpha,
            generator=generator,
        )
        steps_of = torch.floor(times * steps).to(torch.int64).clamp_(0, steps - 1)
        in_class = torch.arange(samples_per_class).repeat(num_classes)
        is_train = in_class < n_train
        # draw both permutations whatever the split, so both come from the same stream
        order_train = torch.randperm(int(is_train.sum()), generator=generator)
        order_test = torch.randperm(int((~is_train).sum()), generator=generator)
        if self.train:
            keep, order = is_train, order_train
        else:
            keep, order = ~is_train, order_test
        self.times: Tensor = steps_of[keep][order].contiguous()
        self.targets: Tensor = labels[keep][order].contiguous()
        self.coordinates: Tensor = coordinates[keep][order].contiguous()

    def __len__(self) -> int:
        return int(self.targets.shape[0])

    def _load(self, index: int) -> tuple[Tensor, int]:
        spikes = torch.zeros((self.steps, self.units), dtype=torch.float32)
        spikes.scatter_(0, self.times[index].unsqueeze(0), 1.0)
        return spikes, int(self.targets[index])

    def extra_repr(self) -> str:
        return (
            f"num_classes={self.num_classes}, units={self.units}, steps={self.steps}, "
            f"manifold_dim={self.manifold_dim}, alpha={self.alpha}, "
            f"samples_per_class={self.samples_per_class}, test_fraction={self.test_fraction}, "
            f"seed={self.seed}"
        )
