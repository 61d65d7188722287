"""The plugin loader: discovery, isolation of broken plugins, filters, strict mode, clashes."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from importlib.metadata import EntryPoint

import pytest

import spikingtorch
from spikingtorch import hookimpl
from spikingtorch.plugins import (
    PluginError,
    PluginHost,
    PluginRecord,
    PluginWarning,
    get_registry,
    loader,
    plugin_conflicts,
    plugin_records,
    register_plugin,
    reset_plugins,
)
from spikingtorch.registry import (
    AmbiguousComponentError,
    ComponentImportError,
    ComponentNotFoundError,
    Registry,
)

Use = Callable[..., None]
MakeEP = Callable[..., EntryPoint]

SURROGATES = ["atan", "fast_sigmoid", "sigmoid", "straight_through", "triangle"]


def _records() -> dict[str, PluginRecord]:
    return {r.name: r for r in plugin_records()}


def _ok(make_entry_point: MakeEP) -> EntryPoint:
    return make_entry_point("stp-ok", "stp_fake_ok", dist="stp-ok", version="1.2.3")


def test_no_plugins_still_has_the_core_surrogates(plugin_sandbox: Use) -> None:
    assert plugin_records() == []
    surrogates = get_registry("surrogates")
    assert surrogates.names() == SURROGATES
    assert surrogates.providers() == ["spikingtorch-core"]
    assert surrogates.lookup("superspike").name == "fast_sigmoid"
    assert surrogates.lookup("arctan").name == "atan"
    assert surrogates.lookup("ste").name == "straight_through"
    assert get_registry("neurons").names() == []
    assert plugin_conflicts() == []


def test_core_surrogate_targets_exist() -> None:
    registry = Registry("surrogates")
    from spikingtorch import _builtin

    _builtin.register_surrogates(registry)
    assert {e.target for e in registry.entries()} == {
        "spikingtorch.surrogate:Sigmoid",
        "spikingtorch.surrogate:FastSigmoid",
        "spikingtorch.surrogate:ATan",
        "spikingtorch.surrogate:Triangle",
        "spikingtorch.surrogate:StraightThrough",
    }


def test_ok_plugin_is_recorded_and_its_components_resolve(
    plugin_sandbox: Use, make_entry_point: MakeEP
) -> None:
    plugin_sandbox(_ok(make_entry_point))
    (record,) = plugin_records()
    assert record == PluginRecord(
        name="stp-ok",
        distribution="stp-ok",
        version="1.2.3",
        module="stp_fake_ok",
        status="ok",
        hooks=["register_encoders", "register_neurons"],
        provides={
            "neurons": ["fake_if", "lif"],
            "surrogates": [],
            "encoders": ["fake_rate"],
            "decoders": [],
            "datasets": [],
            "networks": [],
        },
    )
    # listing did not import the components (factories are strings)
    assert "stp_fake_components" not in sys.modules
    neuron = spikingtorch.get_neuron("fake_if", tau=3.0)
    assert type(neuron).__name__ == "FakeIF"
    assert neuron.params == {"tau": 3.0}
    assert type(spikingtorch.get("neurons", "leaky")).__name__ == "FakeLIF"
    assert type(spikingtorch.get_encoder("fake_rate")).__name__ == "FakeRate"
    assert get_registry("neurons").lookup("lif").provider == "stp-ok"


def test_entry_point_without_distribution(plugin_sandbox: Use, make_entry_point: MakeEP) -> None:
    plugin_sandbox(make_entry_point("stp-ok", "stp_fake_ok"))
    (record,) = plugin_records()
    assert (record.distribution, record.version, record.status) == (None, None, "ok")


def test_plugin_that_fails_to_import_is_isolated(
    plugin_sandbox: Use, make_entry_point: MakeEP
) -> None:
    plugin_sandbox(
        make_entry_point("stp-import-error", "stp_fake_import_error", dist="stp-import-error"),
        _ok(make_entry_point),
    )
    with pytest.warns(PluginWarning, match="'stp-import-error' failed to import"):
        records = _records()
    broken = records["stp-import-error"]
    assert broken.status == "error"
    assert broken.error == "ModuleNotFoundError: No module named 'stp_no_such_dependency'"
    assert broken.traceback is not None and "stp_fake_import_error.py" in broken.traceback
    assert broken.hooks == []
    assert all(names == [] for names in broken.provides.values())
    assert records["stp-ok"].status == "ok"
    assert get_registry("neurons").names() == ["fake_if", "lif"]


def test_hook_that_raises_is_rolled_back_and_others_still_register(
    plugin_sandbox: Use, make_entry_point: MakeEP
) -> None:
    plugin_sandbox(make_entry_point("stp-raises", "stp_fake_raises_in_hook"), _ok(make_entry_point))
    with pytest.warns(PluginWarning, match="register_neurons raised RuntimeError"):
        neurons = get_registry("neurons")
    assert neurons.names() == ["fake_if", "lif"]  # "half_done" rolled back
    assert get_registry("encoders").names() == ["fake_rate", "still_fine"]
    records = _records()
    broken = records["stp-raises"]
    assert broken.status == "error"
    assert broken.error == "register_neurons raised RuntimeError: boom in register_neurons"
    assert broken.traceback is not None and "boom in register_neurons" in broken.traceback
    assert broken.provides["neurons"] == []
    assert broken.provides["encoders"] == ["still_fine"]
    assert records["stp-ok"].status == "ok"
    # a failed lookup of the kind whose hook raised names that plugin and the reason
    with pytest.raises(ComponentNotFoundError) as info:
        spikingtorch.get_neuron("half_done")
    assert "stp-raises (error: register_neurons raised RuntimeError" in str(info.value)


def test_misspelled_hook_is_an_error_and_does_not_poison_later_plugins(
    plugin_sandbox: Use, make_entry_point: MakeEP
) -> None:
    plugin_sandbox(
        make_entry_point("stp-unknown-hook", "stp_fake_unknown_hook"), _ok(make_entry_point)
    )
    with pytest.warns(PluginWarning, match="unknown hook 'register_neuron'"):
        records = _records()
    broken = records["stp-unknown-hook"]
    assert broken.status == "error"
    assert broken.error is not None
    assert broken.error.startswith("unknown hook 'register_neuron'")
    assert "did you mean 'register_neurons'?" in broken.error
    assert broken.hooks == ["register_neuron"]
    assert records["stp-ok"].status == "ok"
    assert "never" not in get_registry("neurons")
    # pluggy's pending-hook check is not left failing for later registrations
    register_plugin(types.SimpleNamespace(__name__="later"))


def test_hook_with_a_wrong_signature_is_undone_completely(
    plugin_sandbox: Use, make_entry_point: MakeEP
) -> None:
    plugin_sandbox(make_entry_point("stp-bad-signature", "stp_fake_bad_signature"))
    with pytest.warns(PluginWarning, match="PluginValidationError"):
        (record,) = plugin_records()
    assert record.status == "error"
    assert record.error is not None and "device" in record.error
    assert get_registry("datasets").names() == []
    assert get_registry("neurons").names() == []


def test_same_name_twice_inside_a_plugin(plugin_sandbox: Use, make_entry_point: MakeEP) -> None:
    plugin_sandbox(make_entry_point("stp-dupe-names", "stp_fake_duplicate_names"))
    with pytest.warns(PluginWarning, match="'twice' is already registered by 'stp-dupe-names'"):
        (record,) = plugin_records()
    assert record.status == "error"
    assert record.error is not None and "ValueError" in record.error
    assert get_registry("neurons").names() == []


def test_duplicate_entry_point_names_first_distribution_wins(
    plugin_sandbox: Use, make_entry_point: MakeEP
) -> None:
    plugin_sandbox(
        make_entry_point("stp-shared", "stp_fake_clash_lif", dist="zzz-fork", version="9.0"),
        make_entry_point("stp-shared", "stp_fake_ok", dist="aaa-original", version="1.0"),
    )
    with pytest.warns(PluginWarning) as caught:
        records = plugin_records()
    assert [(r.name, r.distribution, r.status) for r in records] == [
        ("stp-shared", "aaa-original", "ok"),
        ("stp-shared", "zzz-fork", "duplicate"),
    ]
    duplicate = records[1]
    assert duplicate.error is not None
    assert "'zzz-fork'" in duplicate.error and "'aaa-original'" in duplicate.error
    assert duplicate.provides["neurons"] == []
    assert records[0].provides["neurons"] == ["fake_if", "lif"]
    assert any("'aaa-original'" in str(w.message) for w in caught)
    assert "stp_fake_clash_lif" not in sys.modules  # the duplicate is never imported
    assert type(spikingtorch.get_neuron("lif")).__name__ == "FakeLIF"


def test_the_core_name_is_reserved(plugin_sandbox: Use, make_entry_point: MakeEP) -> None:
    plugin_sandbox(make_entry_point("spikingtorch-core", "stp_fake_ok", dist="impostor"))
    with pytest.warns(PluginWarning, match="reserved"):
        (record,) = plugin_records()
    assert record.status == "duplicate"
    assert get_registry("neurons").names() == []


def test_identical_entry_points_are_listed_once(
    plugin_sandbox: Use, make_entry_point: MakeEP
) -> None:
    plugin_sandbox(_ok(make_entry_point), _ok(make_entry_point))
    assert [r.status for r in plugin_records()] == ["ok"]


def test_component_clash_across_plugins(plugin_sandbox: Use, make_entry_point: MakeEP) -> None:
    plugin_sandbox(
        _ok(make_entry_point), make_entry_point("stp-clash", "stp_fake_clash_lif", dist="stp-clash")
    )
    with pytest.raises(AmbiguousComponentError) as info:
        spikingtorch.get_neuron("lif")
    assert info.value.candidates == ["stp-clash:lif", "stp-ok:lif"]
    assert "stp-clash:lif, stp-ok:lif" in str(info.value)
    assert type(spikingtorch.get_neuron("stp-ok:lif")).__name__ == "FakeLIF"
    assert type(spikingtorch.get_neuron("stp-clash:lif")).__name__ == "ClashLIF"
    assert type(spikingtorch.get_neuron("leaky")).__name__ == "FakeLIF"  # alias is unique
    (conflict,) = plugin_conflicts()
    assert (conflict.kind, conflict.name, conflict.providers) == (
        "neurons",
        "lif",
        ("stp-clash", "stp-ok"),
    )
    assert {r.name: r.status for r in plugin_records()} == {"stp-clash": "ok", "stp-ok": "ok"}


def test_component_import_failure_names_the_plugin(
    plugin_sandbox: Use, make_entry_point: MakeEP
) -> None:
    plugin_sandbox(make_entry_point("stp-broken", "stp_fake_broken_component"))
    assert [r.status for r in plugin_records()] == ["ok"]  # registering imports nothing
    with pytest.raises(ComponentImportError, match="plugin 'stp-broken'.*stp_no_such_dependency"):
        spikingtorch.get_neuron("broken")
    with pytest.raises(TypeError, match="'stp-broken'.*not a callable"):
        spikingtorch.get_neuron("not_callable")


def test_lookup_inside_a_hook_is_refused(plugin_sandbox: Use, make_entry_point: MakeEP) -> None:
    plugin_sandbox(make_entry_point("stp-lookup-hook", "stp_fake_lookup_in_hook"))
    with pytest.warns(PluginWarning, match="cannot look up surrogates"):
        (record,) = plugin_records()
    assert record.status == "error"
    assert get_registry("neurons").names() == []


def test_lookup_while_importing_plugins_is_refused(
    plugin_sandbox: Use, make_entry_point: MakeEP
) -> None:
    plugin_sandbox(make_entry_point("stp-lookup-import", "stp_fake_lookup_at_import"))
    with pytest.warns(PluginWarning, match="still loading"):
        (record,) = plugin_records()
    assert record.status == "error"
    assert record.error is not None and record.error.startswith("PluginError")


# -- environment variables -------------------------------------------------------------------


def _three(make_entry_point: MakeEP) -> list[EntryPoint]:
    return [
        _ok(make_entry_point),
        make_entry_point("stp-clash", "stp_fake_clash_lif", dist="stp-clash"),
        make_entry_point("stp-import-error", "stp_fake_import_error", dist="stp-import-error"),
    ]


def test_empty_allow_list_loads_none(
    plugin_sandbox: Use, make_entry_point: MakeEP, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPIKINGTORCH_PLUGINS", "")
    plugin_sandbox(*_three(make_entry_point))
    records = plugin_records()
    assert [(r.name, r.status) for r in records] == [
        ("stp-clash", "disabled"),
        ("stp-import-error", "disabled"),
        ("stp-ok", "disabled"),
    ]
    assert all(r.error == "SPIKINGTORCH_PLUGINS is empty" for r in records)
    assert get_registry("neurons").names() == []
    assert get_registry("surrogates").names() == SURROGATES
    assert not any(m.startswith("stp_fake") for m in sys.modules)


def test_allow_list(
    plugin_sandbox: Use, make_entry_point: MakeEP, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPIKINGTORCH_PLUGINS", " stp_ok , stp-missing")
    plugin_sandbox(*_three(make_entry_point))
    with pytest.warns(
        PluginWarning, match="names 'stp-missing', but no installed spikingtorch plugin has it"
    ):
        records = _records()
    assert {name: r.status for name, r in records.items()} == {
        "stp-clash": "disabled",
        "stp-import-error": "disabled",
        "stp-ok": "ok",
    }
    assert records["stp-clash"].error == "not listed in SPIKINGTORCH_PLUGINS"
    assert type(spikingtorch.get_neuron("lif")).__name__ == "FakeLIF"  # no clash


def test_allow_list_matches_distribution_names(
    plugin_sandbox: Use, make_entry_point: MakeEP, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPIKINGTORCH_PLUGINS", "Acme-Dist")
    plugin_sandbox(make_entry_point("acme", "stp_fake_ok", dist="acme_dist"))
    assert [r.status for r in plugin_records()] == ["ok"]


def test_block_list(
    plugin_sandbox: Use, make_entry_point: MakeEP, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPIKINGTORCH_DISABLE_PLUGINS", "stp-import-error,stp-clash")
    plugin_sandbox(*_three(make_entry_point))
    records = _records()  # no warning: the broken plugin is never imported
    assert {name: r.status for name, r in records.items()} == {
        "stp-clash": "disabled",
        "stp-import-error": "disabled",
        "stp-ok": "ok",
    }
    assert records["stp-import-error"].error == "disabled by SPIKINGTORCH_DISABLE_PLUGINS"
    assert records["stp-import-error"].module == "stp_fake_import_error"
    assert "stp_fake_clash_lif" not in sys.modules


def test_block_list_beats_allow_list(
    plugin_sandbox: Use, make_entry_point: MakeEP, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPIKINGTORCH_PLUGINS", "stp-ok")
    monkeypatch.setenv("SPIKINGTORCH_DISABLE_PLUGINS", "stp-ok")
    plugin_sandbox(_ok(make_entry_point))
    assert [r.status for r in plugin_records()] == ["disabled"]


@pytest.mark.parametrize(
    ("module", "exception", "match"),
    [
        ("stp_fake_import_error", ModuleNotFoundError, "stp_no_such_dependency"),
        ("stp_fake_raises_in_hook", RuntimeError, "boom in register_neurons"),
        ("stp_fake_unknown_hook", PluginError, "unknown hook 'register_neuron'"),
        ("stp_fake_duplicate_names", ValueError, "already registered"),
    ],
)
def test_strict_mode_reraises(
    plugin_sandbox: Use,
    make_entry_point: MakeEP,
    monkeypatch: pytest.MonkeyPatch,
    module: str,
    exception: type[Exception],
    match: str,
) -> None:
    monkeypatch.setenv("SPIKINGTORCH_STRICT_PLUGINS", "1")
    plugin_sandbox(make_entry_point("stp-bad", module))
    with pytest.raises(exception, match=match):
        plugin_records()


def test_strict_mode_reraises_duplicates(
    plugin_sandbox: Use, make_entry_point: MakeEP, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPIKINGTORCH_STRICT_PLUGINS", "true")
    plugin_sandbox(
        make_entry_point("stp-shared", "stp_fake_ok", dist="a"),
        make_entry_point("stp-shared", "stp_fake_ok", dist="b"),
    )
    with pytest.raises(PluginError, match="duplicates"):
        get_registry("neurons")


def test_strict_flag_off_values(
    plugin_sandbox: Use, make_entry_point: MakeEP, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPIKINGTORCH_STRICT_PLUGINS", "0")
    plugin_sandbox(make_entry_point("stp-bad", "stp_fake_import_error"))
    with pytest.warns(PluginWarning):
        assert [r.status for r in plugin_records()] == ["error"]


def test_environment_is_read_at_load_time(
    plugin_sandbox: Use, make_entry_point: MakeEP, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin_sandbox(_ok(make_entry_point))
    assert [r.status for r in plugin_records()] == ["ok"]
    monkeypatch.setenv("SPIKINGTORCH_PLUGINS", "")
    assert [r.status for r in plugin_records()] == ["ok"]  # cached until reset
    plugin_sandbox(_ok(make_entry_point))
    assert [r.status for r in plugin_records()] == ["disabled"]


# -- in-process plugins and the process-wide state ---------------------------------------------


class LocalPlugin:
    """An in-process plugin object (as a notebook would define one)."""

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    @hookimpl
    def register_neurons(self, registry: Registry) -> None:
        self.calls.append("neurons")
        registry.add("local_unit", "stp_fake_components:FakeIF")


def test_register_plugin_is_local_and_invalidates_registries(
    plugin_sandbox: Use, make_entry_point: MakeEP
) -> None:
    plugin_sandbox(_ok(make_entry_point))
    assert get_registry("neurons").names() == ["fake_if", "lif"]
    calls: list[str] = []
    assert spikingtorch.register_plugin(LocalPlugin(calls), name="my-notebook") == "my-notebook"
    assert get_registry("neurons").names() == ["fake_if", "lif", "local_unit"]
    assert calls == ["neurons"]
    record = _records()["my-notebook"]
    assert record.status == "local"
    assert record.distribution is None and record.version is None
    assert record.module == __name__
    assert record.provides["neurons"] == ["local_unit"]
    assert record.hooks == ["register_neurons"]
    assert type(spikingtorch.get_neuron("my-notebook:local_unit")).__name__ == "FakeIF"


def test_register_plugin_module_default_name(plugin_sandbox: Use) -> None:
    module = types.ModuleType("stp_notebook_plugin")

    @hookimpl
    def register_networks(registry: Registry) -> None:
        registry.add("tiny", "stp_fake_components:FakeComponent")

    module.register_networks = register_networks  # type: ignore[attr-defined]
    assert register_plugin(module) == "stp_notebook_plugin"
    (record,) = plugin_records()
    assert (record.name, record.module, record.status) == (
        "stp_notebook_plugin",
        "stp_notebook_plugin",
        "local",
    )
    assert get_registry("networks").provided_by("stp_notebook_plugin") == ["tiny"]


def test_register_plugin_errors(plugin_sandbox: Use, make_entry_point: MakeEP) -> None:
    plugin_sandbox(_ok(make_entry_point))
    with pytest.raises(ValueError, match="already registered"):
        register_plugin(LocalPlugin([]), name="stp_ok")
    with pytest.raises(ValueError, match="already registered"):
        register_plugin(LocalPlugin([]), name="spikingtorch-core")
    bad = types.ModuleType("stp_bad_local")

    @hookimpl
    def register_encoder(registry: Registry) -> None:  # misspelled
        pass

    bad.register_encoder = register_encoder  # type: ignore[attr-defined]
    with pytest.raises(PluginError, match="unknown hook 'register_encoder'"):
        register_plugin(bad)
    assert [r.name for r in plugin_records()] == ["stp-ok"]
    register_plugin(LocalPlugin([]), name="fine-after")


def test_local_plugin_hook_failure_is_recorded(plugin_sandbox: Use) -> None:
    class Failing:
        @hookimpl
        def register_datasets(self, registry: Registry) -> None:
            raise KeyError("missing")

    register_plugin(Failing(), name="failing")
    with pytest.warns(PluginWarning, match="register_datasets raised KeyError"):
        (record,) = plugin_records()
    assert record.status == "error"
    # a rebuild after another registration reports the error once, not twice
    register_plugin(LocalPlugin([]), name="other")
    with pytest.warns(PluginWarning):
        records = _records()
    assert records["failing"].error == "register_datasets raised KeyError: 'missing'"


def test_reset_plugins_forgets_local_plugins(plugin_sandbox: Use) -> None:
    register_plugin(LocalPlugin([]), name="temp")
    assert [r.name for r in plugin_records()] == ["temp"]
    plugin_sandbox()
    assert plugin_records() == []


def test_discovery_function_is_used_without_an_override(
    plugin_sandbox: Use, make_entry_point: MakeEP, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "discover_entry_points", lambda: [_ok(make_entry_point)])
    reset_plugins()
    assert [r.name for r in plugin_records()] == ["stp-ok"]


def test_discover_entry_points_reads_the_spikingtorch_group() -> None:
    found = loader.discover_entry_points()
    assert all(ep.group == "spikingtorch" for ep in found)


def test_plugin_host_can_be_built_directly(make_entry_point: MakeEP, plugin_sandbox: Use) -> None:
    with pytest.warns(PluginWarning, match="'other'"):
        host = PluginHost([_ok(make_entry_point)], environ={"SPIKINGTORCH_PLUGINS": "other"})
    assert [r.status for r in host.records()] == ["disabled"]
    assert host.builtin() == {"surrogates": SURROGATES, "networks": ["convnet", "mlp"]}
    assert host.strict is False
    assert PluginHost([], strict=True).strict is True


def test_record_to_dict_has_fixed_keys() -> None:
    record = PluginRecord("p", "d", "1", "m", "ok", ["register_neurons"], {"neurons": ["a"]})
    data = record.to_dict()
    assert list(data) == [
        "name",
        "distribution",
        "version",
        "module",
        "status",
        "hooks",
        "provides",
        "error",
    ]
    assert data["provides"]["neurons"] == ["a"]
    assert data["provides"]["datasets"] == []
    assert "traceback" in record.to_dict(include_traceback=True)
