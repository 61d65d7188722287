"""Test set-up: use the installed plugin, or register it in-process when it is not installed.

Installed (``pip install .``), the plugin is found through its entry point like any user would
find it. From a source checkout without installing, ``src`` goes on ``sys.path`` and the hook
module is registered in-process with ``spikingtorch.register_plugin`` under the same name, so
every test runs either way.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import spikingtorch

DISTRIBUTION = "spikingtorch-izhikevich"
SRC = Path(__file__).resolve().parents[1] / "src"


def installed() -> bool:
    """Whether the distribution is installed (its entry point is visible to spikingtorch)."""
    try:
        importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


if not installed() and importlib.util.find_spec("spikingtorch_izhikevich") is None:
    sys.path.insert(0, str(SRC))


@pytest.fixture(scope="session", autouse=True)
def izhikevich_plugin() -> Iterator[str]:
    """Make the plugin's components resolvable by name; yields ``entry point`` or ``local``."""
    if installed():
        yield "entry point"
        return
    import spikingtorch_izhikevich.plugin as hooks

    spikingtorch.register_plugin(hooks, name=DISTRIBUTION)
    yield "local"
    spikingtorch.reset_plugins()
