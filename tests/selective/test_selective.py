"""Selective install: only spikingtorch-core and spikingtorch-neurons, as regular installs.

Run by the tox env ``selective``; in any other environment (where more plugins, or editable
installs, are present) these assertions would be wrong, so the module checks where it runs.
"""

from __future__ import annotations

import importlib.util
import json
from importlib import metadata

import pytest
import torch
from torch import nn

import spikingtorch


def _direct_url(dist: str) -> dict[str, object]:
    text = metadata.distribution(dist).read_text("direct_url.json")
    assert text is not None, f"{dist} has no direct_url.json: not installed from a local path"
    return dict(json.loads(text))


@pytest.mark.parametrize("dist", ["spikingtorch-core", "spikingtorch-neurons"])
def test_installed_from_this_tree_not_editable(dist: str) -> None:
    info = _direct_url(dist)
    assert str(info["url"]).startswith("file://")
    assert not dict(info.get("dir_info", {})).get("editable", False)  # type: ignore[call-overload]


@pytest.mark.parametrize("module", ["spikingtorch_encoders", "spikingtorch_datasets"])
def test_other_plugins_absent(module: str) -> None:
    assert importlib.util.find_spec(module) is None
    with pytest.raises(metadata.PackageNotFoundError):
        metadata.distribution(module.replace("_", "-"))


def test_exactly_one_plugin_listed() -> None:
    records = spikingtorch.plugin_records()
    assert [(r.name, r.status) for r in records] == [("spikingtorch-neurons", "ok")]
    assert records[0].version == "0.1.0"


def test_encoder_lookup_says_what_to_install() -> None:
    with pytest.raises(
        spikingtorch.ComponentNotFoundError, match="pip install spikingtorch-encoders"
    ):
        spikingtorch.get_encoder("poisson")


def test_import_of_missing_component_names_distribution() -> None:
    with pytest.raises(ImportError, match="spikingtorch-encoders"):
        from spikingtorch import PoissonEncoder  # noqa: F401


def test_lif_spikingnet_trains_a_step() -> None:
    from spikingtorch import LIF

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 4), LIF(tau=5.0), nn.Linear(4, 3), LIF(tau=5.0))
    model = spikingtorch.SpikingNet(net, (3,))
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    x = torch.rand(8, 6, 5) * 2
    out = model(x)
    assert out.shape == (8, 6, 3)
    loss = (out.mean(1) - 0.5).pow(2).mean()
    loss.backward()
    before = [p.detach().clone() for p in model.parameters()]
    opt.step()
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))
    assert isinstance(spikingtorch.get_neuron("lif", tau=5.0), LIF)
