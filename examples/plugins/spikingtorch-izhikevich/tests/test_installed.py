"""The installed distribution, as a user sees it: ``spikingtorch list-plugins --json``.

Skipped when the plugin is not installed (the other tests then register it in-process).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys

import pytest
from conftest import DISTRIBUTION, installed

pytestmark = pytest.mark.skipif(not installed(), reason=f"{DISTRIBUTION} is not installed")


def test_list_plugins_json_lists_the_plugin() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPIKINGTORCH_")}
    proc = subprocess.run(
        [sys.executable, "-m", "spikingtorch", "list-plugins", "--json", "--check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    (plugin,) = [p for p in document["plugins"] if p["name"] == DISTRIBUTION]
    assert plugin["status"] == "ok", plugin["error"]
    assert plugin["distribution"] == DISTRIBUTION
    assert plugin["version"] == importlib.metadata.version(DISTRIBUTION)
    assert plugin["module"] == "spikingtorch_izhikevich.plugin"
    assert plugin["hooks"] == ["register_neurons", "register_surrogates"]
    assert plugin["provides"]["neurons"] == ["izhikevich"]
    assert plugin["provides"]["surrogates"] == ["gaussian"]
    (neuron,) = [e for e in document["components"]["neurons"] if e["name"] == "izhikevich"]
    assert neuron["qualified_name"] == "spikingtorch-izhikevich:izhikevich"
    (surrogate,) = [e for e in document["components"]["surrogates"] if e["name"] == "gaussian"]
    assert surrogate["aliases"] == ["erf"]


def test_version_matches_the_package() -> None:
    import spikingtorch_izhikevich

    assert spikingtorch_izhikevich.__version__ == importlib.metadata.version(DISTRIBUTION)
