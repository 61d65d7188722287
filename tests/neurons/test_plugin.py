"""The neurons plugin module: registrations, and no torch import at discovery time."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import spikingtorch_neurons
from spikingtorch_neurons import plugin


class _FakeRegistry:
    def __init__(self) -> None:
        self.added: dict[str, tuple[str, Any]] = {}

    def add(self, name: str, factory: str, *, summary: Any = None, aliases: Any = ()) -> None:
        self.added[name] = (factory, summary)


def test_registers_if_and_lif_as_strings() -> None:
    registry = _FakeRegistry()
    plugin.register_neurons(registry)
    assert registry.added["if"][0] == "spikingtorch_neurons.integrate_fire:IF"
    assert registry.added["lif"][0] == "spikingtorch_neurons.leaky:LIF"
    assert all(summary for _, summary in registry.added.values())


def test_plugin_import_does_not_import_torch() -> None:
    code = (
        "import sys, spikingtorch_neurons.plugin, spikingtorch_neurons; "
        "assert spikingtorch_neurons.__version__ == '0.1.0'; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_package_exports() -> None:
    from spikingtorch_neurons.integrate_fire import IF
    from spikingtorch_neurons.leaky import LIF

    assert spikingtorch_neurons.IF is IF and spikingtorch_neurons.LIF is LIF
    assert {"IF", "LIF", "__version__"} <= set(spikingtorch_neurons.__all__)
    for name in spikingtorch_neurons.__all__:  # every export resolves (lazily)
        assert getattr(spikingtorch_neurons, name) is not None
