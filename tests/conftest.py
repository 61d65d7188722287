"""Shared fixtures for tests of the plugin system (used by tests/core).

* ``plugin_sandbox``: isolates the process-wide plugin state for one test — clears the
  ``SPIKINGTORCH_*`` plugin variables, puts ``tests/fixtures/plugins`` on ``sys.path``, loads *no*
  installed plugin, and returns ``use(*entry_points)`` to choose what the next load sees.
* ``make_entry_point``: builds ``importlib.metadata.EntryPoint`` objects in the ``spikingtorch``
  group, optionally attached to a fake distribution (name, version).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from spikingtorch.plugins import reset_plugins

FIXTURE_PLUGINS = Path(__file__).parent / "fixtures" / "plugins"
PLUGIN_ENV_VARS = (
    "SPIKINGTORCH_PLUGINS",
    "SPIKINGTORCH_DISABLE_PLUGINS",
    "SPIKINGTORCH_STRICT_PLUGINS",
)


class _FakeDistribution:
    """The two attributes of ``importlib.metadata.Distribution`` that the loader reads."""

    def __init__(self, name: str, version: str) -> None:
        self.name = name
        self.version = version


def _make_entry_point(
    name: str, value: str, *, dist: str | None = None, version: str = "1.0"
) -> EntryPoint:
    ep = EntryPoint(name=name, value=value, group="spikingtorch")
    return ep._for(_FakeDistribution(dist, version)) if dist else ep  # type: ignore[attr-defined]


@pytest.fixture
def make_entry_point() -> Callable[..., EntryPoint]:
    return _make_entry_point


@pytest.fixture
def plugin_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    for var in PLUGIN_ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.syspath_prepend(str(FIXTURE_PLUGINS))

    def use(*entry_points: EntryPoint) -> None:
        reset_plugins(entry_points=entry_points)

    use()
    yield use
    reset_plugins()
    for module in [m for m in sys.modules if m.startswith("stp_")]:
        del sys.modules[module]
