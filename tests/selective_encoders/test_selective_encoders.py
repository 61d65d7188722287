"""Selective install: only spikingtorch-core and spikingtorch-encoders, as regular installs.

Run by the tox env ``selective-encoders``. Elsewhere (the development environment, where every
distribution is installed editable) these assertions are wrong by design: run this module only
in that env.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from importlib import metadata
from typing import Any

import pytest
import torch

import spikingtorch

ENCODERS: dict[str, dict[str, Any]] = {
    "poisson": {"steps": 4},
    "periodic": {"steps": 4},
    "constant": {"steps": 4},
    "latency": {"steps": 4},
    "markov": {"steps": 4, "correlation": 0.5},
    "delta": {"threshold": 0.2},
    "population": {"steps": 4, "neurons": 3},
}


def _direct_url(dist: str) -> dict[str, object]:
    text = metadata.distribution(dist).read_text("direct_url.json")
    assert text is not None, f"{dist} has no direct_url.json: not installed from a local path"
    return dict(json.loads(text))


@pytest.mark.parametrize("dist", ["spikingtorch-core", "spikingtorch-encoders"])
def test_installed_from_this_tree_not_editable(dist: str) -> None:
    info = _direct_url(dist)
    assert str(info["url"]).startswith("file://")
    assert not dict(info.get("dir_info", {})).get("editable", False)  # type: ignore[call-overload]


@pytest.mark.parametrize("module", ["spikingtorch_neurons", "spikingtorch_datasets"])
def test_other_plugins_absent(module: str) -> None:
    assert importlib.util.find_spec(module) is None
    with pytest.raises(metadata.PackageNotFoundError):
        metadata.distribution(module.replace("_", "-"))


def test_exactly_one_plugin_listed() -> None:
    records = spikingtorch.plugin_records()
    assert [(r.name, r.status) for r in records] == [("spikingtorch-encoders", "ok")]
    assert records[0].version == "0.1.0"
    assert set(records[0].provides["encoders"]) == set(ENCODERS)


@pytest.mark.parametrize("name", ENCODERS)
def test_every_encoder_works_through_the_registry(name: str) -> None:
    encoder = spikingtorch.get_encoder(name, **ENCODERS[name])
    if name == "delta":
        x = torch.rand(2, 4, 1, 6, 6)  # a time series (N, T, C, H, W)
        assert encoder(x).shape == (2, 4, 1, 6, 6)
    elif name == "population":
        assert encoder(torch.rand(2, 5)).shape == (2, 4, 5, 3)
    else:
        assert encoder(torch.rand(2, 1, 6, 6)).shape == (2, 4, 1, 6, 6)


def test_registry_entries_have_summaries() -> None:
    entries = spikingtorch.get_registry("encoders").entries()
    assert {e.name for e in entries} == set(ENCODERS)
    assert all(e.summary and e.provider == "spikingtorch-encoders" for e in entries)


def test_neuron_lookup_says_what_to_install() -> None:
    with pytest.raises(
        spikingtorch.ComponentNotFoundError, match="pip install spikingtorch-neurons"
    ):
        spikingtorch.get_neuron("lif")


def test_encoders_run_without_importing_neurons() -> None:
    code = (
        "import sys, torch, spikingtorch; "
        "from spikingtorch import PoissonEncoder, DeltaEncoder; "
        "x = torch.rand(2, 1, 4, 4); "
        "PoissonEncoder(3)(x); DeltaEncoder(0.1)(x); "
        f"[spikingtorch.get_encoder(n, **kw) for n, kw in {ENCODERS!r}.items()]; "
        "spikingtorch.plugin_records(); "
        "print(sorted(m for m in sys.modules if m.startswith('spikingtorch_neurons')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
