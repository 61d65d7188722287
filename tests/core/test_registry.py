"""Registry: names, factories (callables and lazy strings), clashes, aliases and errors."""

from __future__ import annotations

import fractions
import sys
from collections.abc import Callable

import pytest

from spikingtorch.registry import (
    KINDS,
    AmbiguousComponentError,
    ComponentImportError,
    ComponentNotFoundError,
    Conflict,
    Registry,
    check_kind,
)


class Widget:
    """A widget that remembers its parameters.

    More text that is not the summary.
    """

    def __init__(self, **params: object) -> None:
        self.params = params


def test_kinds_are_the_six_hook_kinds() -> None:
    assert KINDS == ("neurons", "surrogates", "encoders", "decoders", "datasets", "networks")


def test_unknown_kind_is_rejected_with_a_suggestion() -> None:
    with pytest.raises(ValueError, match=r"unknown component kind 'neuron'.*'neurons'"):
        Registry("neuron")
    with pytest.raises(ValueError, match="expected one of neurons, surrogates"):
        check_kind("layers")


def test_names_are_case_and_dash_insensitive() -> None:
    registry = Registry("neurons", provider="acme")
    entry = registry.add("Fast-Unit", Widget)
    assert entry.name == "fast_unit"
    assert registry.names() == ["fast_unit"]
    for spelling in ("fast_unit", "FAST-UNIT", " fast-unit "):
        assert registry.lookup(spelling) is entry
    assert "Fast_Unit" in registry
    assert "slow_unit" not in registry


def test_get_calls_the_factory_with_params() -> None:
    registry = Registry("encoders", provider="acme")
    registry.add("widget", Widget)
    built = registry.get("widget", steps=8, gain=2.0)
    assert isinstance(built, Widget)
    assert built.params == {"steps": 8, "gain": 2.0}


def test_get_accepts_a_param_called_name() -> None:
    registry = Registry("datasets", provider="acme")
    registry.add("widget", Widget)
    assert registry.get("widget", name="x").params == {"name": "x"}


def test_callable_entry_records_provider_summary_and_export_name() -> None:
    registry = Registry("neurons", provider="acme")
    entry = registry.add("widget", Widget)
    assert entry.provider == "acme"
    assert entry.qualified_name == "acme:widget"
    assert entry.summary == "A widget that remembers its parameters."
    assert entry.export_name == "Widget"
    assert entry.target == f"{__name__}:Widget"
    assert registry.add("other", Widget, summary="explicit").summary == "explicit"


def test_lambda_has_no_export_name() -> None:
    registry = Registry("neurons")
    assert registry.add("anon", lambda: None).export_name is None
    assert registry.provider == "local"


def test_string_factory_is_imported_only_on_first_use(
    plugin_sandbox: Callable[..., None],
) -> None:
    registry = Registry("neurons", provider="acme")
    entry = registry.add("fake_if", "stp_fake_components:FakeIF")
    assert entry.summary is None
    assert entry.export_name == "FakeIF"
    assert "stp_fake_components" not in sys.modules
    factory = registry.resolve("fake_if")
    assert "stp_fake_components" in sys.modules
    assert factory is sys.modules["stp_fake_components"].FakeIF
    assert registry.resolve("fake_if") is factory
    assert registry.get("fake_if", tau=2.0).params == {"tau": 2.0}


def test_dotted_attribute_string_resolves() -> None:
    registry = Registry("networks", provider="acme")
    entry = registry.add("limit", "fractions:Fraction.limit_denominator")
    assert entry.export_name == "limit_denominator"
    assert registry.resolve("limit") is fractions.Fraction.limit_denominator


def test_import_failure_names_the_plugin_and_chains_the_cause() -> None:
    registry = Registry("neurons", provider="acme-snn")
    registry.add("broken", "stp_module_that_does_not_exist:Neuron")
    with pytest.raises(ComponentImportError) as info:
        registry.resolve("broken")
    message = str(info.value)
    assert "'broken'" in message
    assert "plugin 'acme-snn'" in message
    assert "stp_module_that_does_not_exist:Neuron" in message
    assert "ModuleNotFoundError" in message
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
    assert isinstance(info.value, ImportError)


def test_missing_attribute_is_an_import_error_too() -> None:
    registry = Registry("neurons", provider="acme")
    registry.add("nope", "fractions:NoSuchClass")
    with pytest.raises(ComponentImportError, match="AttributeError"):
        registry.get("nope")


def test_non_callable_target_is_a_type_error() -> None:
    registry = Registry("neurons", provider="acme")
    registry.add("pi", "math:pi")
    with pytest.raises(TypeError, match="'math:pi' is a float, not a callable factory"):
        registry.resolve("pi")


@pytest.mark.parametrize("name", ["", "1abc", "with space", "dot.ted", "colon:name", "é"])
def test_invalid_names_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="invalid neurons name"):
        Registry("neurons").add(name, Widget)


@pytest.mark.parametrize("factory", ["no_colon", "mod:", ":attr", "mod:attr:x", "1mod:a"])
def test_invalid_factory_strings_are_rejected(factory: str) -> None:
    with pytest.raises(ValueError, match="not a 'module:attribute' string"):
        Registry("neurons").add("x", factory)


def test_non_callable_factory_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="must be callable"):
        Registry("neurons").add("x", 42)  # type: ignore[arg-type]


def test_same_name_twice_in_one_plugin_is_a_value_error() -> None:
    registry = Registry("neurons", provider="acme")
    registry.add("lif", Widget, aliases=("leaky",))
    with pytest.raises(ValueError, match="'lif' is already registered by 'acme'"):
        registry.add("LIF", Widget)
    with pytest.raises(ValueError, match="'leaky' is already registered by 'acme'"):
        registry.add("leaky", Widget)
    with pytest.raises(ValueError, match="'lif' is already registered"):
        registry.add("other", Widget, aliases=("lif",))
    with pytest.raises(ValueError, match="lists its own name as an alias"):
        registry.add("self_alias", Widget, aliases=("self-alias",))
    assert registry.names() == ["lif"]


def test_alias_given_as_a_plain_string_is_one_alias() -> None:
    registry = Registry("surrogates", provider="core")
    entry = registry.add("straight_through", Widget, aliases="ste")
    assert entry.aliases == ("ste",)
    assert registry.lookup("STE") is entry


def test_clash_across_plugins_is_ambiguous_but_qualified_names_work() -> None:
    registry = Registry("neurons")
    with registry.providing("spikingtorch-neurons"):
        ours = registry.add("lif", Widget)
    with registry.providing("acme-snn"):
        theirs = registry.add("lif", "fractions:Fraction")
    with pytest.raises(AmbiguousComponentError) as info:
        registry.lookup("lif")
    assert info.value.candidates == ["acme-snn:lif", "spikingtorch-neurons:lif"]
    assert "acme-snn:lif, spikingtorch-neurons:lif" in str(info.value)
    assert "qualified name" in str(info.value)
    assert isinstance(info.value, LookupError)
    assert registry.lookup("spikingtorch-neurons:lif") is ours
    assert registry.lookup("spikingtorch_neurons:LIF") is ours
    assert registry.lookup("acme-snn:lif") is theirs
    assert registry.resolve("acme-snn:lif") is fractions.Fraction
    assert registry.names() == ["lif"]
    assert len(registry) == 2
    assert registry.conflicts() == [
        Conflict("neurons", "lif", ("acme-snn", "spikingtorch-neurons"))
    ]
    assert "lif" in registry


def test_alias_never_shadows_a_primary_name() -> None:
    registry = Registry("surrogates")
    with registry.providing("core"):
        primary = registry.add("arctan", Widget)
    with registry.providing("acme"):
        aliased = registry.add("atan2", Widget, aliases=("arctan",))
    assert registry.lookup("arctan") is primary
    assert registry.lookup("acme:arctan") is aliased
    assert registry.conflicts() == []


def test_same_alias_from_two_plugins_is_ambiguous() -> None:
    registry = Registry("surrogates")
    with registry.providing("a"):
        registry.add("one", Widget, aliases=("shared",))
    with registry.providing("b"):
        registry.add("two", Widget, aliases=("shared",))
    with pytest.raises(AmbiguousComponentError, match=r"a:one, b:two"):
        registry.lookup("shared")
    assert registry.conflicts() == [Conflict("surrogates", "shared", ("a", "b"))]


def test_not_found_lists_names_and_first_party_install_hint() -> None:
    registry = Registry("encoders")
    with registry.providing("acme"):
        registry.add("rate", Widget)
        registry.add("latency", Widget)
    with pytest.raises(ComponentNotFoundError) as info:
        registry.lookup("poisson")
    error = info.value
    assert error.available == ["latency", "rate"]
    assert error.hint == "pip install spikingtorch-encoders"
    assert "Available encoders: latency, rate." in str(error)
    assert "pip install spikingtorch-encoders" in str(error)
    assert error.kind == "encoders"
    assert error.name == "poisson"


@pytest.mark.parametrize(
    ("kind", "distribution"),
    [
        ("neurons", "spikingtorch-neurons"),
        ("encoders", "spikingtorch-encoders"),
        ("decoders", "spikingtorch-encoders"),
        ("datasets", "spikingtorch-datasets"),
        ("surrogates", None),
        ("networks", None),
    ],
)
def test_install_hint_per_kind(kind: str, distribution: str | None) -> None:
    with pytest.raises(ComponentNotFoundError) as info:
        Registry(kind).lookup("missing")
    assert f"Available {kind}: none." in str(info.value)
    if distribution is None:
        assert info.value.hint is None
        assert "pip install" not in str(info.value)
    else:
        assert info.value.hint == f"pip install {distribution}"


def test_no_install_hint_when_the_first_party_plugin_is_loaded() -> None:
    registry = Registry("neurons", provider="spikingtorch-neurons")
    registry.add("lif", Widget)
    with pytest.raises(ComponentNotFoundError) as info:
        registry.lookup("lfi")
    assert info.value.hint is None
    assert "Did you mean 'lif'?" in str(info.value)


def test_qualified_lookup_errors() -> None:
    registry = Registry("neurons", provider="acme")
    registry.add("lif", Widget)
    with pytest.raises(ComponentNotFoundError, match="no plugin 'nobody' provides neurons"):
        registry.lookup("nobody:lif")
    with pytest.raises(ComponentNotFoundError, match="plugin 'acme' provides no neurons .*'if'"):
        registry.lookup("acme:if")


def test_remove_provider_rolls_back_only_that_provider() -> None:
    registry = Registry("neurons")
    with registry.providing("a"):
        registry.add("lif", Widget, aliases=("leaky",))
        registry.add("if", Widget)
    with registry.providing("b"):
        kept = registry.add("lif", Widget)
    removed = registry.remove_provider("a")
    assert sorted(e.name for e in removed) == ["if", "lif"]
    assert registry.lookup("lif") is kept
    assert "leaky" not in registry
    assert registry.providers() == ["b"]
    assert registry.provided_by("b") == ["lif"]


def test_providing_restores_the_previous_provider_after_an_error() -> None:
    registry = Registry("neurons", provider="outer")
    with pytest.raises(RuntimeError), registry.providing("inner"):
        raise RuntimeError
    assert registry.provider == "outer"


def test_lookup_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="must be a string"):
        Registry("neurons").lookup(3)  # type: ignore[arg-type]
