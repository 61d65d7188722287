"""``spikingtorch.__getattr__``: lazy core names and ``from spikingtorch import <Component>``."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from collections.abc import Callable
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import spikingtorch
from spikingtorch import hookimpl
from spikingtorch.plugins import PluginWarning, loader
from spikingtorch.registry import Registry

Use = Callable[..., None]
MakeEP = Callable[..., EntryPoint]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plugins"


def _forbid_plugin_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> loader.PluginHost:
        raise AssertionError("plugins were loaded")

    monkeypatch.setattr(loader, "get_plugin_host", refuse)


def test_from_import_finds_a_local_plugins_export(plugin_sandbox: Use) -> None:
    class Exporter:
        @hookimpl
        def register_encoders(self, registry: Registry) -> None:
            registry.add("exported", "stp_fake_components:Exported")

    spikingtorch.register_plugin(Exporter(), name="exporter")
    import stp_fake_components  # type: ignore[import-not-found]

    from spikingtorch import Exported

    assert Exported is stp_fake_components.Exported
    assert spikingtorch.Exported is Exported
    assert hasattr(spikingtorch, "Exported")
    assert "Exported" not in vars(spikingtorch)  # not cached: follows the registry


def test_from_import_finds_an_entry_point_plugins_export(
    plugin_sandbox: Use, make_entry_point: MakeEP
) -> None:
    plugin_sandbox(make_entry_point("stp-exporter", "stp_fake_exporter"))
    from spikingtorch import Exported

    assert Exported.__module__ == "stp_fake_components"


def test_callable_factories_are_exported_by_name(plugin_sandbox: Use) -> None:
    class Thing:
        pass

    class Plugin:
        @hookimpl
        def register_datasets(self, registry: Registry) -> None:
            registry.add("thing", Thing)

    spikingtorch.register_plugin(Plugin(), name="p")
    from spikingtorch import Thing as imported

    assert imported is Thing


def test_core_surrogates_are_exported_too(plugin_sandbox: Use) -> None:
    from spikingtorch import ATan
    from spikingtorch.surrogate import ATan as direct

    assert ATan is direct


@pytest.mark.parametrize(
    ("name", "distribution"),
    [
        ("LIF", "spikingtorch-neurons"),
        ("IF", "spikingtorch-neurons"),
        ("PoissonEncoder", "spikingtorch-encoders"),
        ("RateDecoder", "spikingtorch-encoders"),
        ("Randman", "spikingtorch-datasets"),
    ],
)
def test_missing_first_party_export_says_what_to_install(
    plugin_sandbox: Use, name: str, distribution: str
) -> None:
    with pytest.raises(ImportError) as info:
        exec(f"from spikingtorch import {name}", {})
    message = str(info.value)
    assert f"cannot import name {name!r} from 'spikingtorch'" in message
    assert f"pip install {distribution}" in message
    assert not isinstance(info.value, AttributeError)


def test_missing_lif_with_a_plain_import_statement(plugin_sandbox: Use) -> None:
    with pytest.raises(ImportError, match="pip install spikingtorch-neurons"):
        from spikingtorch import LIF  # noqa: F401


def test_missing_export_as_attribute_is_an_attribute_error(plugin_sandbox: Use) -> None:
    assert not hasattr(spikingtorch, "LIF")
    assert getattr(spikingtorch, "LIF", None) is None
    with pytest.raises(AttributeError, match="pip install spikingtorch-neurons"):
        _ = spikingtorch.LIF


def test_disabled_first_party_plugin_is_explained(
    plugin_sandbox: Use, make_entry_point: MakeEP, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPIKINGTORCH_DISABLE_PLUGINS", "spikingtorch-neurons")
    plugin_sandbox(make_entry_point("spikingtorch-neurons", "stp_fake_ok", dist="x"))
    with pytest.raises(ImportError, match="installed but its plugin has status 'disabled'"):
        from spikingtorch import LIF  # noqa: F401


def test_broken_first_party_plugin_is_explained(
    plugin_sandbox: Use, make_entry_point: MakeEP
) -> None:
    plugin_sandbox(make_entry_point("spikingtorch-neurons", "stp_fake_import_error"))
    with pytest.warns(PluginWarning), pytest.raises(ImportError, match="status 'error'.*stp_no"):
        from spikingtorch import IF  # noqa: F401


def test_unknown_names_are_plain_errors(plugin_sandbox: Use) -> None:
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchThing'$"):
        _ = spikingtorch.NoSuchThing
    with pytest.raises(ImportError, match="cannot import name 'NoSuchThing'"):
        from spikingtorch import NoSuchThing  # noqa: F401


def _exporter(target: str) -> Callable[[Registry], None]:
    @hookimpl
    def register_neurons(registry: Registry) -> None:
        registry.add("fake", target)

    return register_neurons


def test_ambiguous_export_is_refused(plugin_sandbox: Use) -> None:
    for index, target in enumerate(("stp_fake_components:FakeIF", "fractions:FakeIF")):
        plugin = types.ModuleType(f"stp_exporter_{index}")
        plugin.register_neurons = _exporter(target)  # type: ignore[attr-defined]
        spikingtorch.register_plugin(plugin)
    with pytest.raises(ImportError, match="several plugins export it"):
        from spikingtorch import FakeIF  # noqa: F401
    assert not hasattr(spikingtorch, "FakeIF")


def test_private_and_dunder_names_do_not_load_plugins(
    plugin_sandbox: Use, monkeypatch: pytest.MonkeyPatch
) -> None:
    _forbid_plugin_loading(monkeypatch)
    assert not hasattr(spikingtorch, "__wrapped__")
    assert getattr(spikingtorch, "_private_thing", None) is None
    with pytest.raises(AttributeError):
        _ = spikingtorch.__path_hooks__


def test_submodules_import_without_loading_plugins(
    plugin_sandbox: Use, monkeypatch: pytest.MonkeyPatch
) -> None:
    _forbid_plugin_loading(monkeypatch)
    monkeypatch.delitem(sys.modules, "spikingtorch.cli", raising=False)
    monkeypatch.delattr(spikingtorch, "cli", raising=False)
    from spikingtorch import cli

    assert cli.__name__ == "spikingtorch.cli"


def test_dir_lists_core_names_without_loading_plugins(
    plugin_sandbox: Use, monkeypatch: pytest.MonkeyPatch
) -> None:
    _forbid_plugin_loading(monkeypatch)
    names = dir(spikingtorch)
    for name in ("SpikingNet", "Neuron", "reset_states", "detach_states", "surrogate", "get"):
        assert name in names


def test_core_lazy_mechanism_imports_and_caches(
    plugin_sandbox: Use, monkeypatch: pytest.MonkeyPatch
) -> None:
    _forbid_plugin_loading(monkeypatch)
    table = dict(spikingtorch._CORE_EXPORTS)
    table["FakeCore"] = ("stp_fake_components", "FakeIF")
    table["fake_module"] = ("stp_fake_components", None)
    monkeypatch.setattr(spikingtorch, "_CORE_EXPORTS", table)
    try:
        import stp_fake_components

        assert spikingtorch.FakeCore is stp_fake_components.FakeIF
        assert spikingtorch.fake_module is stp_fake_components
        assert vars(spikingtorch)["FakeCore"] is stp_fake_components.FakeIF
    finally:
        vars(spikingtorch).pop("FakeCore", None)
        vars(spikingtorch).pop("fake_module", None)


def test_real_core_names_resolve_lazily() -> None:
    code = """
import sys
import spikingtorch
assert "torch" not in sys.modules, "importing spikingtorch imported torch"
from spikingtorch import SpikingNet, Neuron, reset_states, detach_states, surrogate
import spikingtorch.net, spikingtorch.neuron
assert SpikingNet is spikingtorch.net.SpikingNet
assert Neuron is spikingtorch.neuron.Neuron
assert reset_states is spikingtorch.neuron.reset_states
assert detach_states is spikingtorch.neuron.detach_states
assert surrogate is sys.modules["spikingtorch.surrogate"]
assert isinstance(spikingtorch.__version__, str) and spikingtorch.__version__
print("ok")
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPIKINGTORCH_")}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**env, "SPIKINGTORCH_PLUGINS": ""},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_version_comes_from_the_distribution() -> None:
    from importlib.metadata import version

    assert spikingtorch.__version__ == version("spikingtorch-core")
