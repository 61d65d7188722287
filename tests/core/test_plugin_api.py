"""The plugin API version: a plugin's declared range against the core's PLUGIN_API_VERSION."""

from __future__ import annotations

import importlib
import json
import re
import sys
import textwrap
from collections.abc import Callable
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import spikingtorch
from spikingtorch import plugins
from spikingtorch.cli import cli
from spikingtorch.plugins import (
    PLUGIN_API_ATTRIBUTE,
    PLUGIN_API_VERSION,
    PluginApiError,
    PluginError,
    PluginRecord,
    PluginWarning,
    get_registry,
    parse_api_range,
    plugin_records,
)
from spikingtorch.plugins.api import api_incompatibility
from spikingtorch.registry import ComponentNotFoundError

Use = Callable[..., None]
MakeEP = Callable[..., EntryPoint]

# A hook module template: it registers one neuron and records, in a module global, that the hook
# ran, so a test can prove that the hooks of an incompatible plugin never run.
_PLUGIN = """
from spikingtorch import hookimpl

{declaration}
CALLS = []


@hookimpl
def register_neurons(registry):
    CALLS.append("register_neurons")
    registry.add("{neuron}", "collections:OrderedDict")
"""


@pytest.fixture
def write_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Write a hook module ``stp_api_<name>`` declaring ``api`` (a repr, or None for none)."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(name: str, api: object = None, *, raw: str | None = None) -> str:
        module = f"stp_api_{name}"
        if raw is not None:
            declaration = raw
        elif api is None:
            declaration = ""
        else:
            declaration = f"{PLUGIN_API_ATTRIBUTE} = {api!r}"
        text = _PLUGIN.format(declaration=declaration, neuron=f"{name}_unit")
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(text))
        importlib.invalidate_caches()
        return module

    return write


def _records() -> dict[str, PluginRecord]:
    return {r.name: r for r in plugin_records()}


def _invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def _setup_new_and_ok(use: Use, make_entry_point: MakeEP, write: Callable[..., str]) -> None:
    """``stp-new`` (needs API 2) and ``stp-ok`` (compatible), as two distributions."""
    use(
        make_entry_point("stp-new", write("new", ">=2.0,<3"), dist="stp-new", version="3.1"),
        make_entry_point("stp-ok", write("ok", ">=1.0,<2"), dist="stp-ok", version="1.0"),
    )


# -- the version and the range syntax -------------------------------------------------------


def test_core_declares_a_major_minor_api_version() -> None:
    assert re.fullmatch(r"\d+\.\d+", PLUGIN_API_VERSION)
    assert plugins.PLUGIN_API_VERSION == PLUGIN_API_VERSION == "1.0"
    assert PLUGIN_API_ATTRIBUTE == "SPIKINGTORCH_PLUGIN_API"


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        (">=1.0,<2", ["1.0", "1", "1.9", "1.10"], ["0.9", "2.0", "2"]),
        (" >= 1 , < 2 ", ["1.0", "1.5"], ["2.0"]),
        (">1.0", ["1.1", "2.0"], ["1.0", "1"]),
        ("<=1.2", ["1.2", "1.0", "0.5"], ["1.3"]),
        ("==1", ["1.0", "1.0.0"], ["1.1"]),
        ("!=1.1", ["1.0", "1.2"], ["1.1"]),
        ("~=1.2", ["1.2", "1.9"], ["1.1", "2.0"]),
        ("~=1.2.3", ["1.2.3", "1.2.9"], ["1.3", "1.2.2"]),
    ],
)
def test_ranges_contain_what_they_say(text: str, inside: list[str], outside: list[str]) -> None:
    api_range = parse_api_range(text)
    assert api_range.text == text and str(api_range) == text
    assert all(api_range.contains(v) for v in inside), inside
    assert not any(api_range.contains(v) for v in outside), outside


@pytest.mark.parametrize(
    ("declaration", "match"),
    [
        (">=one", "clause '>=one' is not an operator"),
        ("1.0", "clause '1.0' is not an operator"),
        (">=1,,<2", "clause '' is not an operator"),
        ("=>1", "clause '=>1' is not an operator"),
        (">=1.0-beta", "is not an operator"),
        ("", "is empty"),
        (" , ", "is empty"),
        ("~=1", "'~=' needs a version with at least two numbers"),
        (1, "must be a string of version clauses, not int 1"),
        ((1, 0), "must be a string of version clauses, not tuple"),
    ],
)
def test_malformed_ranges_are_rejected_with_an_example(declaration: object, match: str) -> None:
    with pytest.raises(PluginApiError, match=re.escape(match)) as info:
        parse_api_range(declaration)  # type: ignore[arg-type]
    assert 'SPIKINGTORCH_PLUGIN_API = ">=1.0,<2"' in str(info.value) or "~=1.0" in str(info.value)


def test_needs_newer_tells_the_direction() -> None:
    assert parse_api_range(">=2.0,<3").needs_newer("1.0")
    assert parse_api_range(">1.0").needs_newer("1.0")
    assert parse_api_range("==1.1").needs_newer("1.0")
    assert not parse_api_range(">=0.1,<1").needs_newer("1.0")
    assert not parse_api_range("!=1.0").needs_newer("1.0")
    assert not parse_api_range("~=0.5").needs_newer("1.0")


def test_incompatibility_message_names_versions_and_what_to_do() -> None:
    class TooNew:
        SPIKINGTORCH_PLUGIN_API = ">=2.0,<3"

    class TooOld:
        SPIKINGTORCH_PLUGIN_API = "<1"

    new = api_incompatibility(TooNew, "acme", distribution="acme-snn", version="3.0")
    assert new == (
        "plugin 'acme' (acme-snn 3.0) supports spikingtorch plugin API '>=2.0,<3', but "
        f"spikingtorch-core {spikingtorch.__version__} provides plugin API {PLUGIN_API_VERSION}; "
        "the plugin was not loaded. Upgrade spikingtorch-core to a release whose plugin API is "
        "in '>=2.0,<3' (pip install -U spikingtorch-core), or install an older release of "
        "'acme-snn' that supports plugin API 1.0."
    )
    old = api_incompatibility(TooOld, "acme")
    assert old is not None
    assert old.startswith("plugin 'acme' supports spikingtorch plugin API '<1', but")
    assert "Upgrade 'acme' to a release that supports plugin API 1.0 (pip install -U acme)" in old
    assert "or install an older spikingtorch-core whose plugin API is in '<1'" in old
    assert api_incompatibility(object(), "acme") is None  # no declaration: compatible
    assert api_incompatibility(TooNew, "acme", api_version="2.3") is None


# -- the loader -----------------------------------------------------------------------------


@pytest.mark.parametrize("api", [">=1.0,<2", "~=1.0", ">=1", None])
def test_compatible_or_absent_declaration_loads(
    plugin_sandbox: Use, make_entry_point: MakeEP, write_plugin: Callable[..., str], api: object
) -> None:
    module = write_plugin("fine", api)
    plugin_sandbox(make_entry_point("stp-fine", module, dist="stp-fine", version="0.3"))
    (record,) = plugin_records()
    assert (record.status, record.error) == ("ok", None)
    assert record.provides["neurons"] == ["fine_unit"]
    assert sys.modules[module].CALLS == ["register_neurons"]


def test_declaration_is_read_without_running_module_getattr(
    plugin_sandbox: Use, make_entry_point: MakeEP, write_plugin: Callable[..., str]
) -> None:
    # a lazy module __getattr__ that raises ImportError for unknown names must not break loading
    raw = "def __getattr__(name):\n    raise ImportError(f'lazy name {name} is not there')\n"
    plugin_sandbox(make_entry_point("stp-lazy", write_plugin("lazy", raw=raw)))
    (record,) = plugin_records()
    assert (record.status, record.provides["neurons"]) == ("ok", ["lazy_unit"])


def test_incompatible_plugin_is_reported_and_not_registered(
    plugin_sandbox: Use, make_entry_point: MakeEP, write_plugin: Callable[..., str]
) -> None:
    _setup_new_and_ok(plugin_sandbox, make_entry_point, write_plugin)
    with pytest.warns(PluginWarning, match="'stp-new' is incompatible and was skipped"):
        records = _records()
    new = records["stp-new"]
    assert new.status == "incompatible"
    assert new.error is not None
    assert "supports spikingtorch plugin API '>=2.0,<3'" in new.error
    assert f"provides plugin API {PLUGIN_API_VERSION}" in new.error
    assert "Upgrade spikingtorch-core" in new.error
    assert (new.distribution, new.version, new.module) == ("stp-new", "3.1", "stp_api_new")
    assert new.hooks == [] and new.traceback is None
    assert all(names == [] for names in new.provides.values())
    # none of its hooks ran; the host and the other plugin work
    assert sys.modules["stp_api_new"].CALLS == []
    assert records["stp-ok"].status == "ok"
    assert get_registry("neurons").names() == ["ok_unit"]
    with pytest.raises(ComponentNotFoundError, match="no neurons component named 'new_unit'"):
        spikingtorch.get_neuron("new_unit")
    assert "sigmoid" in get_registry("surrogates").names()
    # the failed lookup says which plugin did not load and why
    with pytest.raises(ComponentNotFoundError) as err:
        spikingtorch.get_neuron("new_unit")
    assert "Plugins that did not load, which may provide it: stp-new (incompatible:" in str(
        err.value
    )
    with pytest.raises(ComponentNotFoundError) as err:
        spikingtorch.get_neuron("stp-new:new_unit")
    assert "Plugin 'stp-new' is installed but was not loaded (incompatible:" in str(err.value)


def test_too_old_plugin_is_told_to_upgrade(
    plugin_sandbox: Use, make_entry_point: MakeEP, write_plugin: Callable[..., str]
) -> None:
    module = write_plugin("old", ">=0.1,<1")
    plugin_sandbox(make_entry_point("stp-old", module, dist="stp-old-dist", version="0.2"))
    with pytest.warns(PluginWarning):
        (record,) = plugin_records()
    assert record.status == "incompatible"
    assert record.error is not None
    assert "Upgrade 'stp-old-dist' to a release that supports plugin API 1.0" in record.error


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (f'{PLUGIN_API_ATTRIBUTE} = ">=one"', "clause '>=one' is not an operator"),
        (f"{PLUGIN_API_ATTRIBUTE} = (1, 0)", "must be a string of version clauses, not tuple"),
        (f'{PLUGIN_API_ATTRIBUTE} = ""', "is empty"),
    ],
)
def test_malformed_declaration_is_an_error(
    plugin_sandbox: Use,
    make_entry_point: MakeEP,
    write_plugin: Callable[..., str],
    raw: str,
    match: str,
) -> None:
    module = write_plugin("bad", raw=raw)
    plugin_sandbox(
        make_entry_point("stp-bad", module),
        make_entry_point("stp-ok", write_plugin("ok")),
    )
    with pytest.warns(PluginWarning, match="'stp-bad' was skipped"):
        records = _records()
    bad = records["stp-bad"]
    assert bad.status == "error"
    assert bad.error is not None and match in bad.error
    assert bad.hooks == [] and sys.modules[module].CALLS == []
    assert records["stp-ok"].status == "ok"
    assert get_registry("neurons").names() == ["ok_unit"]


@pytest.mark.parametrize(
    ("api", "match"),
    [(">=2.0,<3", "supports spikingtorch plugin API '>=2.0,<3'"), (">=x", "is not an operator")],
)
def test_strict_mode_raises(
    plugin_sandbox: Use,
    make_entry_point: MakeEP,
    write_plugin: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
    api: str,
    match: str,
) -> None:
    monkeypatch.setenv("SPIKINGTORCH_STRICT_PLUGINS", "1")
    plugin_sandbox(make_entry_point("stp-strict", write_plugin("strict", api)))
    with pytest.raises(PluginError, match=re.escape(match)):
        plugin_records()


def test_disabled_plugin_is_not_checked(
    plugin_sandbox: Use,
    make_entry_point: MakeEP,
    write_plugin: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SPIKINGTORCH_DISABLE_PLUGINS", "stp-new")
    plugin_sandbox(make_entry_point("stp-new", write_plugin("new", ">=2")))
    (record,) = plugin_records()
    assert record.status == "disabled"
    assert "stp_api_new" not in sys.modules  # not even imported


def test_register_plugin_checks_the_declaration(
    plugin_sandbox: Use, write_plugin: Callable[..., str]
) -> None:
    class Compatible:
        SPIKINGTORCH_PLUGIN_API = ">=1.0,<2"

        @spikingtorch.hookimpl
        def register_neurons(self, registry: spikingtorch.Registry) -> None:
            registry.add("local_unit", "collections:OrderedDict")

    class TooNew(Compatible):
        SPIKINGTORCH_PLUGIN_API = ">=2"

    class Malformed(Compatible):
        SPIKINGTORCH_PLUGIN_API = "2.0"

    with pytest.raises(PluginError, match="supports spikingtorch plugin API '>=2'"):
        spikingtorch.register_plugin(TooNew(), name="too-new")
    with pytest.raises(PluginError, match="'malformed': invalid SPIKINGTORCH_PLUGIN_API '2.0'"):
        spikingtorch.register_plugin(Malformed(), name="malformed")
    assert plugin_records() == []
    spikingtorch.register_plugin(Compatible(), name="compatible")
    assert [(r.name, r.status) for r in plugin_records()] == [("compatible", "local")]
    assert get_registry("neurons").names() == ["local_unit"]


# -- the command line -----------------------------------------------------------------------


def test_list_plugins_table_and_check(
    plugin_sandbox: Use, make_entry_point: MakeEP, write_plugin: Callable[..., str]
) -> None:
    _setup_new_and_ok(plugin_sandbox, make_entry_point, write_plugin)
    result = _invoke("list-plugins")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "STATUS", "PROVIDES"]
    assert re.match(
        r"^stp-new +3\.1 +incompatible +plugin 'stp-new' \(stp-new 3\.1\) supports spikingtorch "
        r"plugin API '>=2\.0,<3', but spikingtorch-core \S+ provides plugin API 1\.0",
        lines[1],
    )
    assert re.match(r"^stp-ok +1\.0 +ok +neurons: ok_unit$", lines[2])
    assert "2 plugins (1 ok, 1 incompatible)." in result.stdout
    assert result.stderr.startswith("warning: spikingtorch plugin 'stp-new' (incompatible): ")
    assert "Upgrade spikingtorch-core" in result.stderr

    _setup_new_and_ok(plugin_sandbox, make_entry_point, write_plugin)
    checked = _invoke("list-plugins", "--check")
    assert checked.exit_code == 1
    assert "incompatible" in checked.stdout  # the table is still printed


def test_list_plugins_json(
    plugin_sandbox: Use, make_entry_point: MakeEP, write_plugin: Callable[..., str]
) -> None:
    _setup_new_and_ok(plugin_sandbox, make_entry_point, write_plugin)
    result = _invoke("list-plugins", "--json", "--check")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    new, ok = document["plugins"]
    assert new["name"] == "stp-new" and new["status"] == "incompatible"
    assert new["version"] == "3.1" and new["hooks"] == []
    assert all(names == [] for names in new["provides"].values())
    assert "'>=2.0,<3'" in new["error"] and "plugin API 1.0" in new["error"]
    assert ok["status"] == "ok" and ok["provides"]["neurons"] == ["ok_unit"]
    assert [e["name"] for e in document["components"]["neurons"]] == ["ok_unit"]


def test_list_plugins_verbose_shows_the_core_api(plugin_sandbox: Use) -> None:
    result = _invoke("list-plugins", "--verbose")
    assert result.exit_code == 0
    assert f"plugin API {PLUGIN_API_VERSION})" in result.stdout


def test_strict_list_plugins_fails_with_the_message(
    plugin_sandbox: Use, make_entry_point: MakeEP, write_plugin: Callable[..., str]
) -> None:
    _setup_new_and_ok(plugin_sandbox, make_entry_point, write_plugin)
    result = _invoke("list-plugins", env={"SPIKINGTORCH_STRICT_PLUGINS": "1"})
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "error: loading spikingtorch plugins failed: PluginError: plugin 'stp-new' (stp-new 3.1) "
        "supports spikingtorch plugin API '>=2.0,<3'"
    )


# -- the first-party plugins ----------------------------------------------------------------


@pytest.mark.parametrize(
    "module",
    ["spikingtorch_neurons.plugin", "spikingtorch_encoders.plugin", "spikingtorch_datasets.plugin"],
)
def test_first_party_plugins_declare_a_compatible_range(module: str) -> None:
    hook_module = pytest.importorskip(module)
    declared = getattr(hook_module, PLUGIN_API_ATTRIBUTE)
    assert parse_api_range(declared).contains(PLUGIN_API_VERSION)
