"""What every encoder shares: shapes (the channel axis is kept), layout, dtype and device,
``repr``, input validation, the registry entries and the functional twins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch

import spikingtorch
import spikingtorch_encoders
from spikingtorch_encoders import (
    ConstantEncoder,
    DeltaEncoder,
    Encoder,
    LatencyEncoder,
    MarkovEncoder,
    PeriodicEncoder,
    PoissonEncoder,
    PopulationEncoder,
)
from spikingtorch_encoders import functional as F

# encoders of images (N, *dims) -> (N, T, *dims), built from steps and keyword arguments
IMAGE_ENCODERS: dict[str, tuple[type[Encoder], dict[str, Any]]] = {
    "poisson": (PoissonEncoder, {}),
    "periodic": (PeriodicEncoder, {}),
    "constant": (ConstantEncoder, {}),
    "latency": (LatencyEncoder, {}),
    "markov": (MarkovEncoder, {"correlation": 0.3}),
}
STOCHASTIC = {"poisson", "markov"}
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
REGISTERED = {"poisson", "periodic", "constant", "latency", "delta", "markov", "population"}


def _images(*shape: int, dtype: torch.dtype = torch.float32, device: str = "cpu") -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(0)).to(device, dtype)


# -- shapes and layout ---------------------------------------------------------------------


@pytest.mark.parametrize("name", IMAGE_ENCODERS)
@pytest.mark.parametrize("shape", [(4, 1, 28, 28), (3, 3, 32, 32)])
def test_images_keep_their_channel_axis(name: str, shape: tuple[int, ...]) -> None:
    cls, kwargs = IMAGE_ENCODERS[name]
    x = _images(*shape)
    out = cls(6, **kwargs)(x)
    assert out.shape == (shape[0], 6, *shape[1:])
    assert out.dtype == x.dtype
    # the channel axis is kept: an all-zero channel stays silent, a full one is saturated
    x = torch.zeros(shape)
    x[:, -1] = 1.0
    out = cls(6, **kwargs)(x)
    if shape[1] > 1:
        assert out[:, :, 0].sum() == 0
    assert out[:, 0, -1].min() == 1  # every encoder fires (or passes 1) at step 0 for x = 1


def test_delta_and_population_shapes() -> None:
    frames = _images(2, 5, 3, 32, 32)
    assert DeltaEncoder(0.2)(frames).shape == (2, 5, 3, 32, 32)
    assert DeltaEncoder(0.2, on_off=True)(frames).shape == (2, 5, 2, 3, 32, 32)
    assert PopulationEncoder(5, neurons=7)(_images(4, 2)).shape == (4, 5, 2, 7)


@pytest.mark.parametrize("name", IMAGE_ENCODERS)
def test_batch_first_false_is_the_transposed_train(name: str) -> None:
    cls, kwargs = IMAGE_ENCODERS[name]
    x = _images(3, 2, 4, 4)
    if name in STOCHASTIC:
        kwargs = {**kwargs, "generator": torch.Generator().manual_seed(1)}
        a = cls(5, **kwargs)(x)
        kwargs["generator"] = torch.Generator().manual_seed(1)
    else:
        a = cls(5, **kwargs)(x)
    b = cls(5, batch_first=False, **kwargs)(x)
    assert b.shape == (5, 3, 2, 4, 4) and b.is_contiguous()
    assert torch.equal(b, a.transpose(0, 1))


def test_rank_one_input_and_empty_batch() -> None:
    x = torch.tensor([0.0, 0.5, 1.0])  # (N,): one value per sample
    assert PeriodicEncoder(4)(x).tolist() == [[0.0] * 4, [0.0, 1.0, 0.0, 1.0], [1.0] * 4]
    for cls, kwargs in IMAGE_ENCODERS.values():
        assert cls(3, **kwargs)(torch.zeros(0, 2, 5)).shape == (0, 3, 2, 5)


# -- dtype and device ----------------------------------------------------------------------


def _all_encoders() -> list[tuple[str, Encoder, Callable[..., torch.Tensor]]]:
    """(name, encoder, input maker) for every encoder in a deterministic configuration."""
    return [
        ("poisson", PoissonEncoder(3), lambda **kw: _images(2, 3, 4, **kw)),
        ("periodic", PeriodicEncoder(3), lambda **kw: _images(2, 3, 4, **kw)),
        ("constant", ConstantEncoder(3), lambda **kw: _images(2, 3, 4, **kw)),
        ("latency", LatencyEncoder(3), lambda **kw: _images(2, 3, 4, **kw)),
        ("delta", DeltaEncoder(0.3), lambda **kw: _images(2, 3, 4, **kw)),
        ("markov", MarkovEncoder(3), lambda **kw: _images(2, 3, 4, **kw)),
        (
            "population",
            PopulationEncoder(3, neurons=3, spikes="periodic"),
            lambda **kw: _images(2, 3, **kw),
        ),
    ]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_output_follows_input_dtype_and_device(dtype: torch.dtype, device: str) -> None:
    for name, encoder, make in _all_encoders():
        x = make(dtype=dtype, device=device)
        out = encoder(x)
        assert out.dtype == dtype and out.device == x.device, name
        if name != "constant":
            assert set(out.unique().tolist()) <= {-1.0, 0.0, 1.0}, name


def test_meta_device_gives_shapes_without_values() -> None:
    expected = {
        "poisson": (2, 3, 3, 4),
        "periodic": (2, 3, 3, 4),
        "constant": (2, 3, 3, 4),
        "latency": (2, 3, 3, 4),
        "delta": (2, 3, 4),
        "markov": (2, 3, 3, 4),
        "population": (2, 3, 3, 3),
    }
    for name, encoder, make in _all_encoders():
        x = make(device="meta", dtype=torch.float64)
        out = encoder(x)
        assert out.device.type == "meta" and out.dtype == torch.float64, name
        assert out.shape == expected[name], name


def test_generator_checks() -> None:
    with pytest.raises(ValueError, match="generator is on device 'cpu' but the input is on 'meta'"):
        PoissonEncoder(3, generator=torch.Generator())(torch.zeros(2, 2, device="meta"))
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        PoissonEncoder(3, generator=0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        F.markov_encode(torch.zeros(2, 2), 3, generator=1)  # type: ignore[arg-type]


# -- repr ------------------------------------------------------------------------------------


def test_extra_repr() -> None:
    assert repr(PoissonEncoder(8)) == "PoissonEncoder(steps=8, rate=1.0)"
    assert (
        repr(PoissonEncoder(8, rate=0.5, max_rate=0.25, batch_first=False))
        == "PoissonEncoder(steps=8, rate=0.5, max_rate=0.25, batch_first=False)"
    )
    assert repr(PeriodicEncoder(steps=4, rate=2)) == "PeriodicEncoder(steps=4, rate=2.0)"
    assert repr(ConstantEncoder(3)) == "ConstantEncoder(steps=3)"
    assert (
        repr(LatencyEncoder(10, mode="log", threshold=0.1))
        == "LatencyEncoder(steps=10, mode='log', threshold=0.1)"
    )
    assert (
        repr(LatencyEncoder(10, normalize=False, tau=5.0))
        == "LatencyEncoder(steps=10, mode='linear', threshold=0.0, normalize=False, tau=5.0)"
    )
    assert repr(DeltaEncoder(0.1)) == "DeltaEncoder(threshold=0.1)"
    assert (
        repr(DeltaEncoder(0.1, on_off=True, initial=0))
        == "DeltaEncoder(threshold=0.1, on_off=True, initial=0.0)"
    )
    assert repr(DeltaEncoder(0.1, signed=False)) == "DeltaEncoder(threshold=0.1, signed=False)"
    assert (
        repr(MarkovEncoder(5, correlation=0.5, generator=torch.Generator()))
        == "MarkovEncoder(steps=5, rate=1.0, correlation=0.5, generator=<torch.Generator>)"
    )
    assert (
        repr(PopulationEncoder(5, neurons=4, spikes="periodic", flatten=True))
        == "PopulationEncoder(steps=5, neurons=4, low=0.0, high=1.0, sigma=0.3333, "
        "max_rate=1.0, spikes='periodic', flatten=True)"
    )


# -- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", IMAGE_ENCODERS)
def test_input_errors_name_the_problem(name: str) -> None:
    cls, kwargs = IMAGE_ENCODERS[name]
    encoder = cls(4, **kwargs)
    who = cls.__name__
    with pytest.raises(ValueError, match=f"{who}: the input holds NaN values"):
        encoder(torch.tensor([[0.5, float("nan")]]))
    with pytest.raises(ValueError, match=f"{who}: the input holds infinite values"):
        encoder(torch.tensor([[0.5, float("inf")]]))
    with pytest.raises(TypeError, match=f"{who} expects a floating-point tensor, got dtype"):
        encoder(torch.ones(2, 3, dtype=torch.uint8))
    with pytest.raises(TypeError, match=f"{who} expects a torch.Tensor, got list"):
        encoder([[0.5]])
    with pytest.raises(ValueError, match=r"expects an input of shape \(N, \*dims\)"):
        encoder(torch.tensor(0.5))


@pytest.mark.parametrize(
    "cls", [PoissonEncoder, PeriodicEncoder, ConstantEncoder, LatencyEncoder, MarkovEncoder]
)
def test_steps_must_be_a_positive_int(cls: type[Encoder]) -> None:
    for bad in (0, -3):
        with pytest.raises(ValueError, match=f"{cls.__name__}: steps must be at least 1, got"):
            cls(bad)  # type: ignore[call-arg]
    for bad in (2.5, "8", True, None):
        with pytest.raises(TypeError, match="steps must be an int"):
            cls(bad)  # type: ignore[call-arg]
    assert cls(torch.tensor(3)).steps == 3  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="batch_first must be a bool"):
        cls(3, batch_first=1)  # type: ignore[call-arg]


def test_parameter_errors_at_construction() -> None:
    with pytest.raises(ValueError, match="PoissonEncoder: rate must be positive"):
        PoissonEncoder(4, rate=0.0)
    with pytest.raises(ValueError, match="rate must be finite"):
        PoissonEncoder(4, rate=float("inf"))
    with pytest.raises(TypeError, match="rate must be a number, got str"):
        PeriodicEncoder(4, rate="1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"max_rate must lie in \(0, 1\], got 1.5"):
        PoissonEncoder(4, max_rate=1.5)


def test_functional_twins_validate_with_their_own_names() -> None:
    with pytest.raises(ValueError, match="poisson_encode: steps must be at least 1"):
        F.poisson_encode(torch.zeros(1, 2), 0)
    with pytest.raises(ValueError, match="constant_encode: the input holds NaN"):
        F.constant_encode(torch.tensor([[float("nan")]]), 2)
    with pytest.raises(ValueError, match=r"periodic_encode: the spike probability"):
        F.periodic_encode(torch.tensor([[2.0]]), 2)


def test_deterministic_modules_match_their_functional_twins() -> None:
    x = _images(3, 2, 5)
    assert torch.equal(PeriodicEncoder(6, rate=0.7)(x), F.periodic_encode(x, 6, rate=0.7))
    assert torch.equal(ConstantEncoder(6)(x), F.constant_encode(x, 6))
    assert torch.equal(
        LatencyEncoder(6, mode="log", threshold=0.2)(x),
        F.latency_encode(x, 6, mode="log", threshold=0.2),
    )
    assert torch.equal(DeltaEncoder(0.2, on_off=True)(x), F.delta_encode(x, 0.2, on_off=True))
    assert torch.equal(
        PopulationEncoder(6, neurons=3, spikes="periodic")(x),
        F.population_encode(x, 6, neurons=3, spikes="periodic"),
    )


def test_spike_trains_carry_no_gradient() -> None:
    x = _images(2, 4).requires_grad_()
    for name, encoder, _ in _all_encoders():
        assert encoder(x).requires_grad == (name == "constant"), name


# -- registry ----------------------------------------------------------------------------------


def test_every_encoder_is_registered_with_a_summary() -> None:
    entries = {
        e.name: e
        for e in spikingtorch.get_registry("encoders").entries()
        if e.provider == "spikingtorch-encoders"
    }
    assert set(entries) == REGISTERED
    for entry in entries.values():
        assert entry.summary and "\n" not in entry.summary and len(entry.summary) <= 100
    classes = {spikingtorch.get_registry("encoders").resolve(name) for name in entries}
    exported = {
        getattr(spikingtorch_encoders, name)
        for name, module in spikingtorch_encoders._LAZY.items()
        if name.endswith("Encoder") and name != "Encoder"
    }
    assert classes == exported  # every encoder class is registered, nothing else
    assert entries["poisson"].aliases == ("bernoulli", "rate")


@pytest.mark.parametrize(
    ("name", "params", "cls"),
    [
        ("poisson", {"steps": 4}, PoissonEncoder),
        ("bernoulli", {"steps": 4, "rate": 0.5}, PoissonEncoder),
        ("rate", {"steps": 4}, PoissonEncoder),
        ("periodic", {"steps": 4}, PeriodicEncoder),
        ("constant", {"steps": 4}, ConstantEncoder),
        ("latency", {"steps": 4, "mode": "log", "threshold": 0.1}, LatencyEncoder),
        ("delta", {"threshold": 0.1}, DeltaEncoder),
        ("markov", {"steps": 4, "correlation": 0.2}, MarkovEncoder),
        ("population", {"steps": 4, "neurons": 5}, PopulationEncoder),
    ],
)
def test_get_encoder_builds_each(name: str, params: dict[str, Any], cls: type[Encoder]) -> None:
    encoder = spikingtorch.get_encoder(name, **params)
    assert type(encoder) is cls
    x = _images(2, 4, 3) if name == "delta" else _images(2, 3)  # delta: (N, T, F) input
    assert encoder(x).shape[:2] == (2, 4)


def test_import_from_spikingtorch() -> None:
    from spikingtorch import LatencyEncoder as Latency
    from spikingtorch import PoissonEncoder as Poisson
    from spikingtorch import PopulationEncoder as Population

    assert Poisson is PoissonEncoder and Latency is LatencyEncoder
    assert Population is PopulationEncoder
