"""Randman: determinism from a seed, one spike per unit, balanced disjoint splits, learnable."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from spikingtorch_datasets import Randman

SMALL = {"num_classes": 3, "units": 5, "steps": 10, "samples_per_class": 10}


def test_sample_is_a_float_spike_tensor_with_one_spike_per_unit() -> None:
    data = Randman(**SMALL, seed=3)
    assert len(data) == 3 * 8
    assert data.sample_shape == (10, 5) and data.temporal is True and data.num_classes == 3
    for i in range(len(data)):
        spikes, target = data[i]
        assert spikes.shape == (10, 5) and spikes.dtype == torch.float32
        assert set(spikes.unique().tolist()) <= {0.0, 1.0}
        assert torch.equal(spikes.sum(0), torch.ones(5))  # each unit exactly once (<= 1)
        assert isinstance(target, int) and 0 <= target < 3
        # the stored spike steps are where the spikes are, and lie in [0, T)
        assert torch.equal(spikes.argmax(0), data.times[i])
    assert int(data.times.min()) >= 0 and int(data.times.max()) <= 9


def test_spike_times_cover_the_whole_window() -> None:
    # per class and unit, times are min-max scaled to [0, 1]: both ends are used
    data = Randman(**SMALL, train=True, seed=0)
    assert int(data.times.min()) == 0 and int(data.times.max()) == 9


def test_same_seed_same_data_different_seed_different_data() -> None:
    a, b = Randman(**SMALL, seed=7), Randman(**SMALL, seed=7)
    assert torch.equal(a.times, b.times) and torch.equal(a.targets, b.targets)
    c = Randman(**SMALL, seed=8)
    assert not torch.equal(a.times, c.times)
    # the global RNG is neither used nor disturbed
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    Randman(**SMALL, seed=7)
    assert torch.equal(torch.rand(3), expected)


def test_golden_values_pin_the_generator_across_machines() -> None:
    # computed with torch 2.13 (CPU wheel) and 2.14 (CUDA build on CPU): identical
    data = Randman(**SMALL, seed=1)
    assert data.times[:4].tolist() == [
        [2, 6, 9, 7, 0],
        [4, 4, 2, 0, 1],
        [7, 9, 0, 8, 9],
        [8, 3, 9, 0, 6],
    ]
    assert data.targets.tolist() == [
        2,
        1,
        1,
        2,
        2,
        0,
        1,
        0,
        2,
        0,
        2,
        1,
        2,
        1,
        0,
        0,
        0,
        2,
        0,
        1,
        2,
        1,
        0,
        1,
    ]
    default = Randman()
    assert int(default.times.sum()) == 1544032
    assert default.targets[:10].tolist() == [3, 9, 8, 6, 3, 8, 8, 9, 9, 0]


def test_classes_are_balanced_in_both_splits() -> None:
    train = Randman(num_classes=4, units=6, steps=20, samples_per_class=25, test_fraction=0.2)
    test = Randman(
        num_classes=4, units=6, steps=20, samples_per_class=25, test_fraction=0.2, train=False
    )
    assert torch.bincount(train.targets).tolist() == [20] * 4
    assert torch.bincount(test.targets).tolist() == [5] * 4
    assert len(train) + len(test) == 100


def test_train_and_test_splits_are_disjoint() -> None:
    train, test = Randman(seed=2), Randman(seed=2, train=False)
    assert (len(train), len(test)) == (1600, 400)
    # every sample is its own draw of a manifold point: no point is in both splits
    train_points = set(map(tuple, train.coordinates.tolist()))
    assert not any(tuple(p) in train_points for p in test.coordinates.tolist())
    assert len(train_points) == len(train)
    assert train.coordinates.shape == (1600, 1) and train.coordinates.dtype == torch.float64
    # and the order of a split does not depend on whether the other was built
    assert torch.equal(Randman(seed=2).times, train.times)


def test_the_default_task_is_learnable() -> None:
    # a linear read-out of the spike rasters already separates most samples; a spiking MLP
    # does better (see the class docstring)
    train, test = Randman(), Randman(train=False)

    def rasters(data: Randman) -> torch.Tensor:
        return F.one_hot(data.times, data.steps).float().flatten(1)

    x, x_test = rasters(train), rasters(test)
    g = torch.Generator().manual_seed(0)
    weight = (0.01 * torch.randn(x.shape[1], 10, generator=g)).requires_grad_()
    bias = torch.zeros(10, requires_grad=True)
    opt = torch.optim.Adam([weight, bias], lr=0.05)
    for _ in range(100):
        loss = F.cross_entropy(x @ weight + bias, train.targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
    accuracy = ((x_test @ weight + bias).argmax(1) == test.targets).float().mean().item()
    assert accuracy >= 0.8


def test_transforms_indexing_and_batching() -> None:
    data = Randman(**SMALL, transform=lambda s: s * 2, target_transform=lambda t: -t)
    spikes, target = data[-1]
    assert spikes.max() == 2.0 and target <= 0
    with pytest.raises(IndexError, match="out of range"):
        data[len(data)]
    with pytest.raises(TypeError, match="must be an int"):
        data["0"]  # type: ignore[index]
    batch, targets = next(iter(DataLoader(Randman(**SMALL), batch_size=4)))
    assert batch.shape == (4, 10, 5) and targets.shape == (4,)


def test_root_is_optional_and_repr_shows_the_settings(tmp_path) -> None:
    data = Randman(tmp_path, **SMALL)
    assert data.root == tmp_path and not any(tmp_path.iterdir())
    assert Randman(**SMALL).root is None
    text = repr(Randman(**SMALL, train=False))
    assert text.startswith("Dataset Randman\n    Number of datapoints: 6\n    Split: Test")
    assert "num_classes=3, units=5, steps=10, manifold_dim=1, alpha=2.0" in text
    assert "seed=0" in Randman(**SMALL).extra_repr()


def test_higher_dimensional_and_rough_manifolds() -> None:
    data = Randman(num_classes=2, units=4, steps=8, manifold_dim=3, alpha=1.0, samples_per_class=6)
    assert len(data) == 10 and torch.equal(data[0][0].sum(0), torch.ones(4))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"num_classes": 1}, "num_classes must be an int >= 2"),
        ({"units": 0}, "units must be an int >= 1"),
        ({"steps": 2.5}, "steps must be an int"),
        ({"manifold_dim": 0}, "manifold_dim"),
        ({"alpha": 0.0}, "alpha must be a number > 0"),
        ({"samples_per_class": 1}, "samples_per_class"),
        ({"test_fraction": 1.0}, r"test_fraction must lie in \(0, 1\)"),
        ({"test_fraction": 0.01}, "leaves an empty split"),
    ],
)
def test_bad_parameters_are_named(params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Randman(**{**SMALL, **params})


def test_seed_must_be_an_int() -> None:
    with pytest.raises(TypeError, match="seed must be an int"):
        Randman(**SMALL, seed="1")  # type: ignore[arg-type]
