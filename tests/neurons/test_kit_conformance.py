"""Every neuron this plugin registers passes the conformance kit ``spikingtorch.testing``.

The models come from the registry, so a neuron added to ``plugin.py`` is checked without
touching this file; one that needs constructor arguments or a stronger input gets a row in
``CASES``. Each model runs twice: with its defaults, and with everything learnable (every
``learn_*`` flag its constructor takes) and the subtractive reset, which exercises the gradient
rule on parameters and the other branch of the fused scans.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import pytest

import spikingtorch
from spikingtorch.registry import normalize_provider
from spikingtorch.testing import check_neuron


@dataclass(frozen=True)
class Case:
    """Constructor arguments and the test input of a registered neuron."""

    kwargs: dict[str, Any] = field(default_factory=dict)
    input_shape: tuple[int, ...] = (3, 2, 4)  # (N, C, F): any feature shape must work
    input_scale: float = 1.5


CASES: dict[str, Case] = {
    "lif": Case({"tau": 3.0}),
    # conductances: the membrane approaches g / (1 + g) < 1, so threshold 0.5 needs g > 1
    "biolif": Case(input_scale=3.0),
    # a dense (F, F) recurrent weight needs a flat feature axis of the declared size
    "recurrent_lif": Case({"size": 5}, input_shape=(3, 5)),
}

REGISTRY = spikingtorch.get_registry("neurons")
NEURONS = sorted(
    e.name for e in REGISTRY.entries() if normalize_provider(e.provider) == "spikingtorch-neurons"
)


def learnable(name: str) -> dict[str, Any]:
    """Every ``learn_*`` flag the constructor takes, set, and ``reset="subtract"`` if it has one."""
    params = inspect.signature(REGISTRY.resolve(name)).parameters
    extra: dict[str, Any] = {p: True for p in params if p.startswith("learn_")}
    if "reset" in params:
        extra["reset"] = "subtract"
    return extra


def test_the_plugin_registers_neurons() -> None:
    assert {"if", "lif"} <= set(NEURONS)


@pytest.mark.parametrize("variant", ["defaults", "learnable"])
@pytest.mark.parametrize("name", NEURONS)
def test_registered_neuron_conforms(name: str, variant: str) -> None:
    case = CASES.get(name, Case())
    kwargs = dict(case.kwargs)
    if variant == "learnable":
        kwargs.update(learnable(name))

    def factory() -> Any:
        return spikingtorch.get_neuron(name, **kwargs)

    check_neuron(factory, input_shape=case.input_shape, input_scale=case.input_scale)
