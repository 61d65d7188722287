"""The ``spikingtorch`` command line: ``list-plugins`` (table, --json, --check, --verbose)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import spikingtorch
from spikingtorch import hookimpl
from spikingtorch.cli import cli
from spikingtorch.plugins import PluginWarning
from spikingtorch.registry import Registry

Use = Callable[..., None]
MakeEP = Callable[..., EntryPoint]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plugins"
SURROGATES = ["atan", "fast_sigmoid", "sigmoid", "straight_through", "triangle"]


def _invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


class NotebookPlugin:
    @hookimpl
    def register_neurons(self, registry: Registry) -> None:
        registry.add("local_unit", "stp_fake_components:FakeIF")


def _every_status(use: Use, make_entry_point: MakeEP) -> None:
    use(
        make_entry_point("stp-ok", "stp_fake_ok", dist="stp-ok", version="1.2.3"),
        make_entry_point("stp-ok", "stp_fake_clash_lif", dist="zzz-fork", version="1.0"),
        make_entry_point("stp-clash", "stp_fake_clash_lif", dist="stp-clash", version="1.0"),
        make_entry_point("stp-import-error", "stp_fake_import_error", dist="stp-import-error"),
    )
    with pytest.warns(PluginWarning):  # registering loads the plugins (before the CLI runs)
        spikingtorch.register_plugin(NotebookPlugin(), name="my-notebook")


def test_no_plugins(plugin_sandbox: Use) -> None:
    result = _invoke("list-plugins")
    assert result.exit_code == 0
    plugins_part, _, components_part = result.stdout.partition("\nCOMPONENTS\n")
    assert plugins_part == "No spikingtorch plugins installed.\n"
    # The core's own surrogates are listed with their provider and summary.
    assert components_part.splitlines()[0] == "surrogates:"
    assert re.search(
        r"^  atan \(arctan\) +spikingtorch-core +Heaviside spike, arctangent derivative$",
        components_part,
        flags=re.MULTILINE,
    )
    assert result.stderr == ""


def test_table_shows_every_status(
    plugin_sandbox: Use, make_entry_point: MakeEP, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPIKINGTORCH_DISABLE_PLUGINS", "stp-clash")
    _every_status(plugin_sandbox, make_entry_point)
    result = _invoke("list-plugins")
    assert result.exit_code == 0, result.output
    expected = """\
        NAME              VERSION  STATUS     PROVIDES
        my-notebook       -        local      neurons: local_unit
        stp-clash         1.0      disabled   disabled by SPIKINGTORCH_DISABLE_PLUGINS
        stp-import-error  1.0      error      ModuleNotFoundError: No module named 'stp_no_such_dependency'
        stp-ok            1.2.3    ok         neurons: fake_if, lif; encoders: fake_rate
        stp-ok            1.0      duplicate  entry point 'stp-ok' of distribution 'zzz-fork' duplicates the one of distribution 'stp-ok', which is loaded instead

        conflicts: none
        5 plugins (1 ok, 1 local, 1 error, 1 duplicate, 1 disabled). Use --verbose for module paths and tracebacks.
        """  # noqa: E501
    assert result.stdout.partition("\nCOMPONENTS\n")[0] == textwrap.dedent(expected)
    stderr_lines = result.stderr.splitlines()
    assert len(stderr_lines) == 2
    assert stderr_lines[0] == (
        "warning: spikingtorch plugin 'stp-import-error' (error): "
        "ModuleNotFoundError: No module named 'stp_no_such_dependency'"
    )
    assert stderr_lines[1].startswith("warning: spikingtorch plugin 'stp-ok' (duplicate): ")


def test_conflicts_are_listed(plugin_sandbox: Use, make_entry_point: MakeEP) -> None:
    plugin_sandbox(
        make_entry_point("stp-ok", "stp_fake_ok"),
        make_entry_point("stp-clash", "stp_fake_clash_lif"),
    )
    result = _invoke("list-plugins")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    index = lines.index("conflicts (use the qualified names, or disable a plugin):")
    assert lines[index + 1] == "  neurons 'lif': stp-clash:lif, stp-ok:lif"
    assert lines[lines.index("COMPONENTS") - 2].startswith("2 plugins (2 ok).")


@pytest.mark.parametrize(
    ("entry_points", "exit_code"),
    [
        ([("stp-ok", "stp_fake_ok", "a")], 0),
        ([("stp-bad", "stp_fake_import_error", "a")], 1),
        ([("stp-bad", "stp_fake_raises_in_hook", "a")], 1),
        ([("stp-bad", "stp_fake_unknown_hook", "a")], 1),
        ([("stp-ok", "stp_fake_ok", "a"), ("stp-ok", "stp_fake_ok", "b")], 1),
    ],
)
def test_check_exits_1_for_errors_and_duplicates(
    plugin_sandbox: Use,
    make_entry_point: MakeEP,
    entry_points: list[tuple[str, str, str]],
    exit_code: int,
) -> None:
    plugin_sandbox(*(make_entry_point(n, v, dist=d) for n, v, d in entry_points))
    assert _invoke("list-plugins").exit_code == 0
    plugin_sandbox(*(make_entry_point(n, v, dist=d) for n, v, d in entry_points))
    result = _invoke("list-plugins", "--check")
    assert result.exit_code == exit_code
    assert "NAME" in result.stdout  # the table is still printed


def test_check_passes_with_disabled_and_local_plugins(
    plugin_sandbox: Use, make_entry_point: MakeEP, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPIKINGTORCH_DISABLE_PLUGINS", "stp-bad")
    plugin_sandbox(make_entry_point("stp-bad", "stp_fake_import_error"))
    spikingtorch.register_plugin(NotebookPlugin(), name="nb")
    result = _invoke("list-plugins", "--check")
    assert result.exit_code == 0
    assert "1 local, 1 disabled" in result.stdout


def test_json_is_one_document_even_with_warnings(
    plugin_sandbox: Use, make_entry_point: MakeEP, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPIKINGTORCH_DISABLE_PLUGINS", "stp-clash")
    _every_status(plugin_sandbox, make_entry_point)
    result = _invoke("list-plugins", "--json")
    assert result.exit_code == 0
    assert "warning:" in result.stderr
    document = json.loads(result.stdout)
    assert list(document) == [
        "schema",
        "core_version",
        "plugins",
        "conflicts",
        "builtin",
        "components",
    ]
    assert document["schema"] == 1
    assert document["core_version"] == spikingtorch.__version__
    assert [(p["name"], p["status"]) for p in document["plugins"]] == [
        ("my-notebook", "local"),
        ("stp-clash", "disabled"),
        ("stp-import-error", "error"),
        ("stp-ok", "ok"),
        ("stp-ok", "duplicate"),
    ]
    ok = document["plugins"][3]
    assert ok == {
        "name": "stp-ok",
        "distribution": "stp-ok",
        "version": "1.2.3",
        "module": "stp_fake_ok",
        "status": "ok",
        "hooks": ["register_encoders", "register_neurons"],
        "provides": {
            "neurons": ["fake_if", "lif"],
            "surrogates": [],
            "encoders": ["fake_rate"],
            "decoders": [],
            "datasets": [],
            "networks": [],
        },
        "error": None,
    }
    assert document["plugins"][2]["error"].startswith("ModuleNotFoundError")
    assert document["conflicts"] == []
    assert document["builtin"] == {
        "name": "spikingtorch-core",
        "version": spikingtorch.__version__,
        "provides": {"surrogates": SURROGATES, "networks": ["convnet", "mlp"]},
    }


def test_json_reports_conflicts_and_verbose_adds_tracebacks(
    plugin_sandbox: Use, make_entry_point: MakeEP
) -> None:
    plugin_sandbox(
        make_entry_point("stp-ok", "stp_fake_ok"),
        make_entry_point("stp-clash", "stp_fake_clash_lif"),
        make_entry_point("stp-raises", "stp_fake_raises_in_hook"),
    )
    document = json.loads(_invoke("list-plugins", "--json", "--verbose").stdout)
    assert document["conflicts"] == [
        {"kind": "neurons", "name": "lif", "providers": ["stp-clash", "stp-ok"]}
    ]
    raises = next(p for p in document["plugins"] if p["name"] == "stp-raises")
    assert raises["status"] == "error"
    assert "boom in register_neurons" in raises["traceback"]
    assert raises["provides"]["encoders"] == ["still_fine"]


def test_verbose_table(plugin_sandbox: Use, make_entry_point: MakeEP) -> None:
    plugin_sandbox(
        make_entry_point("stp-ok", "stp_fake_ok", dist="stp-ok-dist", version="2.0"),
        make_entry_point("stp-bad", "stp_fake_import_error"),
    )
    result = _invoke("list-plugins", "--verbose")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "STATUS", "DISTRIBUTION", "MODULE", "PROVIDES"]
    assert lines[2].split()[:5] == ["stp-ok", "2.0", "ok", "stp-ok-dist", "stp_fake_ok"]
    assert "built in (spikingtorch-core" in result.stdout
    assert "--- stp-bad: traceback ---" in result.stdout
    assert "ModuleNotFoundError: No module named 'stp_no_such_dependency'" in result.stdout
    assert "Use --verbose" not in result.stdout


@pytest.mark.filterwarnings("error")
def test_warnings_as_errors_do_not_break_the_listing(
    plugin_sandbox: Use, make_entry_point: MakeEP
) -> None:
    plugin_sandbox(make_entry_point("stp-bad", "stp_fake_import_error"))
    result = _invoke("list-plugins", "--check")
    assert result.exit_code == 1
    assert "stp-bad  -        error" in result.stdout
    assert result.stderr.startswith("warning: spikingtorch plugin 'stp-bad' (error)")


def test_unmatched_allow_list_name_is_a_warning(
    plugin_sandbox: Use, make_entry_point: MakeEP
) -> None:
    plugin_sandbox(make_entry_point("stp-ok", "stp_fake_ok"))
    result = _invoke("list-plugins", "--json", env={"SPIKINGTORCH_PLUGINS": "stp-ok,typo"})
    assert result.exit_code == 0
    assert result.stderr == (
        "warning: SPIKINGTORCH_PLUGINS names 'typo', but no installed spikingtorch plugin has it\n"
    )
    assert [p["status"] for p in json.loads(result.stdout)["plugins"]] == ["ok"]


def test_strict_mode_reports_instead_of_crashing(
    plugin_sandbox: Use, make_entry_point: MakeEP
) -> None:
    plugin_sandbox(make_entry_point("stp-bad", "stp_fake_import_error"))
    result = _invoke("list-plugins", env={"SPIKINGTORCH_STRICT_PLUGINS": "1"})
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "error: loading spikingtorch plugins failed: ModuleNotFoundError"
    )
    assert isinstance(result.exception, SystemExit)


def test_version_and_help() -> None:
    result = _invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"spikingtorch, version {spikingtorch.__version__}\n"
    help_text = _invoke("--help").stdout
    assert "list-plugins" in help_text


# -- real processes ----------------------------------------------------------------------------


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SPIKINGTORCH_")}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
    )


def test_json_in_a_real_process_with_warnings_on_stderr() -> None:
    code = f"""
import sys
sys.path.insert(0, {str(FIXTURES)!r})
from importlib.metadata import EntryPoint
from spikingtorch.plugins import reset_plugins
reset_plugins(entry_points=[
    EntryPoint(name="stp-bad", value="stp_fake_import_error", group="spikingtorch"),
    EntryPoint(name="stp-ok", value="stp_fake_ok", group="spikingtorch"),
])
from spikingtorch.cli import main
main(["list-plugins", "--json"])
"""
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert [(p["name"], p["status"]) for p in document["plugins"]] == [
        ("stp-bad", "error"),
        ("stp-ok", "ok"),
    ]
    assert proc.stderr.splitlines() == [
        "warning: spikingtorch plugin 'stp-bad' (error): "
        "ModuleNotFoundError: No module named 'stp_no_such_dependency'"
    ]


def test_listing_plugins_does_not_import_torch() -> None:
    code = f"""
import sys
from spikingtorch.cli import main
for args in (["list-plugins"], ["list-plugins", "--json"]):
    try:
        main(args)
    except SystemExit as exc:
        assert exc.code == 0, exc.code
import os
import spikingtorch
del os.environ["SPIKINGTORCH_PLUGINS"]
sys.path.insert(0, {str(FIXTURES)!r})
from importlib.metadata import EntryPoint
spikingtorch.reset_plugins([EntryPoint(name="stp-ok", value="stp_fake_ok", group="spikingtorch")])
assert [r.status for r in spikingtorch.plugin_records()] == ["ok"]
print("torch imported" if "torch" in sys.modules else "torch-free", file=sys.stderr)
"""
    proc = _run(code, SPIKINGTORCH_PLUGINS="")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "torch-free"
    assert "No spikingtorch plugins installed." in proc.stdout or "disabled" in proc.stdout


def test_python_dash_m_runs_the_same_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "spikingtorch", "list-plugins", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "SPIKINGTORCH_PLUGINS": ""},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["schema"] == 1
    assert all(p["status"] == "disabled" for p in document["plugins"])


def test_components_are_listed_with_provider_and_summary(
    plugin_sandbox: Use, make_entry_point: MakeEP
) -> None:
    plugin_sandbox(make_entry_point("stp-ok", "stp_fake_ok"))
    table = _invoke("list-plugins").stdout.partition("\nCOMPONENTS\n")[2]
    document = json.loads(_invoke("list-plugins", "--json").stdout)
    for kind, entries in document["components"].items():
        for entry in entries:
            assert entry["qualified_name"] == f"{entry['provider']}:{entry['name']}"
            line = next(ln for ln in table.splitlines() if ln.startswith(f"  {entry['name']} "))
            assert entry["provider"] in line
            assert (entry["summary"] or "") in line, (kind, line)
    assert {e["name"] for e in document["components"]["surrogates"]} >= {"sigmoid", "atan"}
    assert document["components"]["neurons"]
