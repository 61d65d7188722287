"""spikingtorch's conformance kit on this plugin's neuron and surrogate.

``spikingtorch.testing`` checks what every spikingtorch neuron must do (binary spikes, the
input's dtype, a fresh state on ``init=True``, gradients reaching the input, ...) and what
every surrogate must do (a derivative consistent with its primitive, ...). A failed rule raises
``ConformanceError`` (an ``AssertionError``) that names the rule.

The kit drives a neuron with inputs uniform in ``[0, input_scale)`` for a few steps. The
Izhikevich membrane is in mV and its input a current in model units: it needs currents of tens
within 6 steps to fire, so the checks pass ``input_scale=30`` (the kit's default, 1.5, suits
neurons with a threshold of 1; the last test shows the kit catching that).
"""

from __future__ import annotations

import functools

import pytest

from spikingtorch_izhikevich import Gaussian, Izhikevich
from spikingtorch_izhikevich.functional import PRESETS

try:
    from spikingtorch.testing import ConformanceError, check_neuron, check_surrogate
except ImportError:  # a spikingtorch-core older than the kit
    pytest.skip("this spikingtorch-core has no conformance kit", allow_module_level=True)

CURRENT = 30.0  # the kit's inputs are uniform in [0, CURRENT)


def test_izhikevich_default_conforms() -> None:
    check_neuron(Izhikevich, input_scale=CURRENT)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_conforms(preset: str) -> None:
    check_neuron(functools.partial(Izhikevich, preset=preset), input_scale=CURRENT)


def test_scaled_input_and_gaussian_surrogate_conform() -> None:
    # the neuron's own input_scale turns the kit's default inputs into firing currents
    check_neuron(functools.partial(Izhikevich, input_scale=CURRENT, surrogate="gaussian"))


def test_registered_name_conforms() -> None:
    check_neuron("izhikevich", input_scale=CURRENT)
    check_surrogate("gaussian")


def test_gaussian_surrogate_conforms() -> None:
    check_surrogate(Gaussian())
    check_surrogate(Gaussian(sigma=2.0))


def test_the_kit_notices_a_neuron_that_does_not_fire() -> None:
    with pytest.raises(ConformanceError) as info:
        check_neuron(Izhikevich)  # inputs below 1.5: the membrane never reaches 30 mV
    assert info.value.rule == "spikes"
