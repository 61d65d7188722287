"""Every encoder and decoder this plugin registers passes the conformance kit.

The components come from the registry, so a new one in ``plugin.py`` is checked without
touching this file; one that needs constructor arguments, another input, or has another output
shape or value set than the defaults (``(N, *F) -> (N, steps, *F)`` spikes in ``{0, 1}``) gets
a row in ``ENCODERS`` / ``DECODERS``. A few extra rows check other settings (layout, ON/OFF
channels, offsets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

import spikingtorch
from spikingtorch.registry import normalize_provider
from spikingtorch.testing import check_decoder, check_encoder

STEPS = 5


@dataclass(frozen=True)
class Case:
    """How to build and feed one registered encoder or decoder."""

    kwargs: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)  # keyword arguments of check_*


ENCODERS: dict[str, Case] = {
    "constant": Case({"steps": STEPS}, {"values": "analog"}),  # the analog value at every step
    # the input already has a time axis: (N, T, F) -> (N, T, F) in {-1, 0, 1}
    "delta": Case({"threshold": 0.2}, {"input_shape": (3, STEPS, 4), "values": "signed"}),
    # a population of 3 receptive fields per value: a trailing axis
    "population": Case({"steps": STEPS, "neurons": 3}, {"output_shape": (3, STEPS, 4, 3)}),
}
EXTRA_ENCODERS: dict[str, tuple[str, Case]] = {
    "poisson-time-first": ("poisson", Case({"steps": STEPS, "batch_first": False})),
    "delta-on-off": (
        "delta",
        Case(
            {"threshold": 0.2, "on_off": True},
            {"input_shape": (3, STEPS, 4), "output_shape": (3, STEPS, 2, 4)},
        ),
    ),
    "population-bernoulli": (
        "population",
        Case(
            {"steps": STEPS, "neurons": 3, "spikes": "bernoulli"},
            {"output_shape": (3, STEPS, 4, 3)},
        ),
    ),
    "latency-log": ("latency", Case({"steps": STEPS, "mode": "log", "threshold": 0.1})),
}
DECODERS: dict[str, Case] = {}
EXTRA_DECODERS: dict[str, tuple[str, Case]] = {
    "sum-scaled-centred": ("sum", Case({"scale": 0.5, "offset": 1.0, "center": True})),
}


def first_party(kind: str) -> list[str]:
    return sorted(
        e.name
        for e in spikingtorch.get_registry(kind).entries()
        if normalize_provider(e.provider) == "spikingtorch-encoders"
    )


def test_the_plugin_registers_encoders_and_decoders() -> None:
    assert {"poisson", "delta", "population"} <= set(first_party("encoders"))
    assert {"sum", "rate"} <= set(first_party("decoders"))


def run_encoder(name: str, case: Case) -> None:
    check_encoder(lambda: spikingtorch.get_encoder(name, **case.kwargs), **case.options)


def run_decoder(name: str, case: Case) -> None:
    check_decoder(lambda: spikingtorch.get_decoder(name, **case.kwargs), **case.options)


@pytest.mark.parametrize("name", first_party("encoders"))
def test_registered_encoder_conforms(name: str) -> None:
    run_encoder(name, ENCODERS.get(name, Case({"steps": STEPS})))


@pytest.mark.parametrize("label", EXTRA_ENCODERS)
def test_encoder_settings_conform(label: str) -> None:
    run_encoder(*EXTRA_ENCODERS[label])


@pytest.mark.parametrize("name", first_party("decoders"))
def test_registered_decoder_conforms(name: str) -> None:
    run_decoder(name, DECODERS.get(name, Case()))


@pytest.mark.parametrize("label", EXTRA_DECODERS)
def test_decoder_settings_conform(label: str) -> None:
    run_decoder(*EXTRA_DECODERS[label])
