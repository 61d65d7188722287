"""The encoders half of the plugin module: registrations as strings, lazy imports, and no
neuron or torch import where none is needed."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from spikingtorch_encoders import plugin


class _FakeRegistry:
    def __init__(self) -> None:
        self.added: dict[str, tuple[Any, str | None, tuple[str, ...]]] = {}

    def add(self, name: str, factory: Any, *, summary: Any = None, aliases: Any = ()) -> None:
        self.added[name] = (factory, summary, tuple(aliases))


def test_registers_every_encoder_as_a_lazy_string_with_a_summary() -> None:
    registry = _FakeRegistry()
    plugin.register_encoders(registry)
    assert set(registry.added) == {
        "poisson",
        "periodic",
        "constant",
        "latency",
        "delta",
        "markov",
        "population",
    }
    for factory, summary, _ in registry.added.values():
        assert isinstance(factory, str) and factory.startswith("spikingtorch_encoders.")
        assert summary
    assert registry.added["poisson"][2] == ("bernoulli", "rate")


def _run(code: str, **env: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    return out.stdout.strip()


def test_discovering_the_plugin_does_not_import_torch() -> None:
    code = (
        "import sys, spikingtorch, spikingtorch_encoders.plugin; "
        "records = spikingtorch.plugin_records(); "
        "names = spikingtorch.get_registry('encoders').names(); "
        "assert 'poisson' in names, names; "
        "print('torch' in sys.modules)"
    )
    assert _run(code, SPIKINGTORCH_PLUGINS="spikingtorch-encoders") == "False"


def test_using_the_encoders_imports_no_neuron_module() -> None:
    # with every plugin installed, plugin discovery imports spikingtorch_neurons.plugin, but
    # building and running encoders never imports a neuron model
    code = (
        "import sys, torch, spikingtorch; "
        "x = torch.rand(2, 1, 4, 4); "
        "[spikingtorch.get_encoder(n, steps=3)(x) for n in "
        "('poisson', 'periodic', 'constant', 'latency', 'markov')]; "
        "spikingtorch.get_encoder('delta', threshold=0.1)(x); "
        "spikingtorch.get_encoder('population', steps=3, neurons=4)(x); "
        "from spikingtorch_encoders import functional; "
        "bad = [m for m in sys.modules if m.startswith('spikingtorch_neurons') "
        "and m != 'spikingtorch_neurons.plugin' and m != 'spikingtorch_neurons']; "
        "print(bad)"
    )
    assert _run(code) == "[]"
