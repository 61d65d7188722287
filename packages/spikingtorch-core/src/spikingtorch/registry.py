"""Typed component registries: names, factories, lookup and the errors users see.

A :class:`Registry` holds the components of one kind (see :data:`KINDS`). Plugins fill it from
their ``register_<kind>`` hooks with :meth:`Registry.add`; the loader records which plugin
("provider") added each entry. This module imports neither torch nor any plugin.

Names are case-insensitive and ``-`` equals ``_``: ``"Fast-Sigmoid"`` and ``"fast_sigmoid"``
are the same name; registries store the lower-case, underscore spelling. Provider names compare
the same way (``spikingtorch_neurons`` equals ``spikingtorch-neurons``).

Example:
    >>> registry = Registry("neurons", provider="my-plugin")
    >>> _ = registry.add("unit-step", "fractions:Fraction", summary="a toy component")
    >>> registry.names()
    ['unit_step']
    >>> registry.get("Unit-Step", numerator=3, denominator=6)
    Fraction(1, 2)
    >>> registry.resolve("my_plugin:unit_step").__name__
    'Fraction'
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

KINDS: Final = ("neurons", "surrogates", "encoders", "decoders", "datasets", "networks")
"""Every component kind, in display order; kind ``K`` is filled by the hook ``register_K``."""

CORE_DISTRIBUTION: Final = "spikingtorch-core"
"""Provider name of the components that the core registers itself (surrogates, networks)."""

LOCAL_PROVIDER: Final = "local"
"""Provider name used when nobody set one (a registry used outside the plugin loader)."""

FIRST_PARTY_DISTRIBUTIONS: Final[dict[str, str]] = {
    "neurons": "spikingtorch-neurons",
    "encoders": "spikingtorch-encoders",
    "decoders": "spikingtorch-encoders",
    "datasets": "spikingtorch-datasets",
}
"""Which first-party distribution provides each kind (surrogates and networks come with core)."""

_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_]*$")
_TARGET_RE: Final = re.compile(r"^[^\W\d]\w*(\.[^\W\d]\w*)*:[^\W\d]\w*(\.[^\W\d]\w*)*$")

Factory = Callable[..., Any]


def normalize_name(name: str) -> str:
    """Return the canonical spelling of a component name (lower case, ``_`` for ``-``)."""
    return name.strip().lower().replace("-", "_")


def normalize_provider(provider: str) -> str:
    """Return the canonical spelling of a provider (plugin) name (lower case, ``-`` for ``_``)."""
    return provider.strip().lower().replace("_", "-")


def check_kind(kind: str) -> str:
    """Validate a component kind.

    Args:
        kind: One of :data:`KINDS`.

    Returns:
        The kind, unchanged.

    Raises:
        ValueError: If ``kind`` is not a known kind (the message suggests the closest one).
    """
    if kind in KINDS:
        return kind
    close = difflib.get_close_matches(str(kind), KINDS, n=1)
    suggestion = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"unknown component kind {kind!r}; expected one of {', '.join(KINDS)}.{suggestion}"
    )


def install_hint(kind: str) -> str | None:
    """Return ``"pip install <dist>"`` for a first-party kind, or None for core kinds."""
    distribution = FIRST_PARTY_DISTRIBUTIONS.get(kind)
    return f"pip install {distribution}" if distribution else None


class ComponentNotFoundError(LookupError):
    """No component of this kind has that name.

    Attributes:
        kind: The component kind searched.
        name: The name asked for.
        available: The names that do exist (sorted).
        hint: An install hint such as ``"pip install spikingtorch-neurons"``, or None.
        skipped: A sentence naming the plugins that did not load (and why), or ``""``.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "",
        name: str = "",
        available: Iterable[str] = (),
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.name = name
        self.available = list(available)
        self.hint = hint
        #: Which plugins did not load and why ("" when all loaded).
        self.skipped = ""


class AmbiguousComponentError(LookupError):
    """Several plugins provide a component under the same bare name.

    Attributes:
        kind: The component kind searched.
        name: The bare name asked for.
        candidates: The qualified names (``"plugin:name"``) that match; pass one of them instead.
    """

    def __init__(
        self, message: str, *, kind: str = "", name: str = "", candidates: Iterable[str] = ()
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.name = name
        self.candidates = list(candidates)


class ComponentImportError(ImportError):
    """A component's ``"module:attribute"`` factory could not be imported.

    The message names the plugin that registered the component; the original exception is
    chained as ``__cause__``.
    """


@dataclass(frozen=True)
class Entry:
    """One registered component.

    Attributes:
        kind: The component kind.
        name: The canonical name (lower case, underscores).
        provider: The plugin (entry-point / distribution name) that registered it.
        factory: A callable, or a ``"module:attribute"`` string imported on first use.
        summary: A one-line description, or None.
        aliases: Further canonical names that find this entry (never shadowing a primary name).
    """

    kind: str
    name: str
    provider: str
    factory: Factory | str
    summary: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def qualified_name(self) -> str:
        """``"provider:name"``, a name that stays unique when plugins clash."""
        return f"{self.provider}:{self.name}"

    @property
    def target(self) -> str:
        """The factory as a ``"module:attribute"`` string (best effort for callables)."""
        if isinstance(self.factory, str):
            return self.factory
        module = getattr(self.factory, "__module__", None) or "?"
        qualname = getattr(self.factory, "__qualname__", None) or repr(self.factory)
        return f"{module}:{qualname}"

    @property
    def export_name(self) -> str | None:
        """The attribute name the factory is exported as (``"IF"`` for ``"pkg.mod:IF"``).

        ``from spikingtorch import <export_name>`` finds this entry. None when the factory has
        no usable name (a lambda, a ``functools.partial``).
        """
        if isinstance(self.factory, str):
            candidate: str | None = self.factory.rpartition(":")[2].rpartition(".")[2]
        else:
            candidate = getattr(self.factory, "__name__", None)
        if isinstance(candidate, str) and candidate.isidentifier():
            return candidate
        return None


@dataclass(frozen=True)
class Conflict:
    """A bare name that several plugins provide (look each up as ``provider:name``).

    Attributes:
        kind: The component kind.
        name: The clashing bare name.
        providers: The providers, sorted.
    """

    kind: str
    name: str
    providers: tuple[str, ...]


class Registry:
    """The components of one kind, with the plugin that provided each.

    Args:
        kind: One of :data:`KINDS`.
        provider: The provider recorded by :meth:`add` (the loader switches it per plugin with
            :meth:`providing`). A plugin author testing a hook can pass a fresh
            ``Registry("neurons")`` to it directly.
    """

    def __init__(self, kind: str, *, provider: str = LOCAL_PROVIDER) -> None:
        self.kind: str = check_kind(kind)
        self._provider = provider
        self._primary: dict[str, list[Entry]] = {}
        self._alias: dict[str, list[Entry]] = {}
        self._loaded: dict[str, Any] = {}
        #: Plugins that did not register (plugin name -> "status: reason"), set by the loader
        #: so that a failed lookup can say why a component may be missing.
        self.unloaded: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, names={self.names()!r})"

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._primary.values())

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            self.lookup(name)
        except AmbiguousComponentError:
            return True
        except (ComponentNotFoundError, ValueError):
            return False
        return True

    @property
    def provider(self) -> str:
        """The provider that :meth:`add` records right now."""
        return self._provider

    @contextmanager
    def providing(self, provider: str) -> Iterator[Registry]:
        """Record ``provider`` for every :meth:`add` inside the ``with`` block (loader use)."""
        previous, self._provider = self._provider, provider
        try:
            yield self
        finally:
            self._provider = previous

    # -- adding ---------------------------------------------------------------------------

    def add(
        self,
        name: str,
        factory: Factory | str,
        *,
        summary: str | None = None,
        aliases: Iterable[str] = (),
    ) -> Entry:
        """Register a component under the current provider.

        Args:
            name: The component name (``[a-z][a-z0-9_]*`` after normalisation).
            factory: A callable returning the component, or a ``"module:attribute"`` string
                naming one; the string is imported only when the component is first used.
            summary: A one-line description (default: the first docstring line of a callable).
            aliases: Further names for the same component. Within one provider every name and
                alias must be unique; across providers an alias never shadows a primary name.

        Returns:
            The new entry.

        Raises:
            ValueError: For an invalid name or factory string, or a name/alias that this provider
                already registered in this registry.
            TypeError: If ``factory`` is neither callable nor a string.
        """
        key = self._check_name(name)
        alias_list = [aliases] if isinstance(aliases, str) else list(aliases)
        alias_keys = tuple(dict.fromkeys(self._check_name(alias) for alias in alias_list))
        self._check_factory(name, factory)
        provider = self._provider
        taken = self._names_of(provider)
        for candidate in (key, *alias_keys):
            if candidate in taken:
                raise ValueError(
                    f"{self.kind} name {candidate!r} is already registered by {provider!r}"
                )
        if key in alias_keys:
            raise ValueError(f"{self.kind} component {key!r} lists its own name as an alias")
        if summary is None and not isinstance(factory, str):
            summary = _first_doc_line(factory)
        entry = Entry(self.kind, key, provider, factory, summary, alias_keys)
        self._primary.setdefault(key, []).append(entry)
        for alias in alias_keys:
            self._alias.setdefault(alias, []).append(entry)
        return entry

    def remove_provider(self, provider: str) -> list[Entry]:
        """Remove every entry of ``provider`` (the loader's roll-back of a failed hook).

        Returns:
            The removed entries.
        """
        wanted = normalize_provider(provider)
        removed = [e for e in self.entries() if normalize_provider(e.provider) == wanted]
        for table in (self._primary, self._alias):
            for key in list(table):
                kept = [e for e in table[key] if normalize_provider(e.provider) != wanted]
                if kept:
                    table[key] = kept
                else:
                    del table[key]
        for entry in removed:
            self._loaded.pop(entry.qualified_name, None)
        return removed

    # -- reading --------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Sorted primary names (a name two plugins provide appears once)."""
        return sorted(self._primary)

    def entries(self) -> list[Entry]:
        """Every entry, sorted by name then provider."""
        return sorted(
            (entry for entries in self._primary.values() for entry in entries),
            key=lambda e: (e.name, normalize_provider(e.provider)),
        )

    def providers(self) -> list[str]:
        """Sorted names of the providers that registered at least one entry."""
        return sorted({entry.provider for entry in self.entries()}, key=normalize_provider)

    def provided_by(self, provider: str) -> list[str]:
        """Sorted primary names registered by ``provider``."""
        wanted = normalize_provider(provider)
        return sorted(e.name for e in self.entries() if normalize_provider(e.provider) == wanted)

    def conflicts(self) -> list[Conflict]:
        """Bare names that resolve to more than one provider (aliases included)."""
        found = []
        for key, entries in sorted(self._primary.items()):
            if len(entries) > 1:
                found.append(Conflict(self.kind, key, _providers(entries)))
        for key, entries in sorted(self._alias.items()):
            if key not in self._primary and len(entries) > 1:
                found.append(Conflict(self.kind, key, _providers(entries)))
        return found

    def find_exports(self, export_name: str) -> list[Entry]:
        """Entries whose :attr:`Entry.export_name` is ``export_name`` (case-sensitive)."""
        return [entry for entry in self.entries() if entry.export_name == export_name]

    def lookup(self, name: str) -> Entry:
        """Find the entry for a bare name, an alias, or a qualified ``"plugin:name"``.

        Raises:
            ComponentNotFoundError: If nothing matches (the message lists what exists).
            AmbiguousComponentError: If a bare name matches entries of several plugins.
        """
        if not isinstance(name, str):
            raise TypeError(f"a {self.kind} name must be a string, not {type(name).__name__}")
        if ":" in name:
            provider, _, bare = name.partition(":")
            return self._lookup_qualified(provider, normalize_name(bare), name)
        key = normalize_name(name)
        for table in (self._primary, self._alias):
            entries = table.get(key)
            if entries:
                if len(entries) > 1:
                    raise self._ambiguous(key, entries)
                return entries[0]
        raise self._not_found(name, key)

    def resolve(self, name: str) -> Any:
        """Return the factory of a component, importing a ``"module:attribute"`` string once.

        Raises:
            ComponentNotFoundError: If no component has that name.
            AmbiguousComponentError: If several plugins provide that bare name.
            ComponentImportError: If the factory string cannot be imported; names the plugin.
        """
        return self.load(self.lookup(name))

    def get(self, name: str, /, **params: Any) -> Any:
        """Build a component: ``resolve(name)(**params)``.

        Raises:
            ComponentNotFoundError: If no component has that name.
            AmbiguousComponentError: If several plugins provide that bare name.
            ComponentImportError: If the factory string cannot be imported.
        """
        return self.resolve(name)(**params)

    def load(self, entry: Entry) -> Any:
        """Return the factory object of ``entry`` (imported and cached if it is a string)."""
        if not isinstance(entry.factory, str):
            return entry.factory
        cached = self._loaded.get(entry.qualified_name, _MISSING)
        if cached is not _MISSING:
            return cached
        module_name, _, attribute = entry.factory.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attribute.split("."):
                obj = getattr(obj, part)
        except Exception as exc:
            raise ComponentImportError(
                f"cannot load {self.kind} component {entry.name!r} registered by plugin "
                f"{entry.provider!r}: importing {entry.factory!r} failed with "
                f"{type(exc).__name__}: {exc}",
                name=module_name,
            ) from exc
        if not callable(obj):
            raise TypeError(
                f"{self.kind} component {entry.name!r} registered by plugin {entry.provider!r}: "
                f"{entry.factory!r} is a {type(obj).__name__}, not a callable factory"
            )
        self._loaded[entry.qualified_name] = obj
        return obj

    # -- helpers --------------------------------------------------------------------------

    def _check_name(self, name: str) -> str:
        if not isinstance(name, str):
            raise TypeError(f"a {self.kind} name must be a string, not {type(name).__name__}")
        key = normalize_name(name)
        if not _NAME_RE.match(key):
            raise ValueError(
                f"invalid {self.kind} name {name!r}: use a letter followed by letters, digits, "
                "'_' or '-'"
            )
        return key

    def _check_factory(self, name: str, factory: object) -> None:
        if isinstance(factory, str):
            if not _TARGET_RE.match(factory):
                raise ValueError(
                    f"invalid factory for {self.kind} component {name!r}: {factory!r} is not a "
                    "'module:attribute' string"
                )
        elif not callable(factory):
            raise TypeError(
                f"the factory of {self.kind} component {name!r} must be callable or a "
                f"'module:attribute' string, not {type(factory).__name__}"
            )

    def _names_of(self, provider: str) -> set[str]:
        wanted = normalize_provider(provider)
        taken: set[str] = set()
        for entry in self.entries():
            if normalize_provider(entry.provider) == wanted:
                taken.add(entry.name)
                taken.update(entry.aliases)
        return taken

    def _lookup_qualified(self, provider: str, key: str, asked: str) -> Entry:
        wanted = normalize_provider(provider)
        mine = [e for e in self.entries() if normalize_provider(e.provider) == wanted]
        for entry in mine:
            if entry.name == key:
                return entry
        for entry in mine:
            if key in entry.aliases:
                return entry
        if not mine:
            providers = ", ".join(self.providers()) or "none"
            message = (
                f"no plugin {provider!r} provides {self.kind} (asked for {asked!r}); "
                f"{self.kind} providers: {providers}"
            )
            for name, reason in self.unloaded.items():
                if normalize_provider(name) == wanted:
                    message += f". Plugin {name!r} is installed but was not loaded ({reason})"
            available = [e.qualified_name for e in self.entries()]
        else:
            available = sorted(e.name for e in mine)
            message = (
                f"plugin {provider!r} provides no {self.kind} component {key!r}; "
                f"it provides: {', '.join(available)}"
            )
        raise ComponentNotFoundError(message, kind=self.kind, name=asked, available=available)

    def _ambiguous(self, key: str, entries: list[Entry]) -> AmbiguousComponentError:
        candidates = sorted((e.qualified_name for e in entries), key=str.lower)
        message = (
            f"{self.kind} name {key!r} is provided by several plugins: {', '.join(candidates)}. "
            f"Choose one by its qualified name, e.g. {candidates[0]!r}, or disable one plugin "
            "with SPIKINGTORCH_DISABLE_PLUGINS."
        )
        return AmbiguousComponentError(message, kind=self.kind, name=key, candidates=candidates)

    def _not_found(self, asked: str, key: str) -> ComponentNotFoundError:
        available = self.names()
        listing = ", ".join(available) if available else "none"
        message = f"no {self.kind} component named {asked!r}. Available {self.kind}: {listing}."
        close = difflib.get_close_matches(key, [*available, *self._alias], n=1)
        if close:
            message += f" Did you mean {close[0]!r}?"
        skipped = ""
        if self.unloaded:
            listing = "; ".join(f"{name} ({reason})" for name, reason in self.unloaded.items())
            skipped = (
                f"Plugins that did not load, which may provide it: {listing}. "
                "See 'spikingtorch list-plugins'."
            )
            message += " " + skipped
        hint = None
        distribution = FIRST_PARTY_DISTRIBUTIONS.get(self.kind)
        if distribution and normalize_provider(distribution) not in {
            normalize_provider(p) for p in self.providers()
        }:
            hint = install_hint(self.kind)
            message += (
                f" The first-party {self.kind} come with the distribution {distribution!r}, "
                f"which is not installed or not loaded: {hint}"
            )
        error = ComponentNotFoundError(
            message, kind=self.kind, name=asked, available=available, hint=hint
        )
        error.skipped = skipped
        return error


_MISSING: Final = object()


def _providers(entries: Iterable[Entry]) -> tuple[str, ...]:
    return tuple(sorted((e.provider for e in entries), key=normalize_provider))


def _first_doc_line(obj: object) -> str | None:
    doc = getattr(obj, "__doc__", None)
    if not isinstance(doc, str):
        return None
    for line in doc.strip().splitlines():
        if line.strip():
            return line.strip()
    return None


__all__ = [
    "CORE_DISTRIBUTION",
    "FIRST_PARTY_DISTRIBUTIONS",
    "KINDS",
    "LOCAL_PROVIDER",
    "AmbiguousComponentError",
    "ComponentImportError",
    "ComponentNotFoundError",
    "Conflict",
    "Entry",
    "Factory",
    "Registry",
    "check_kind",
    "install_hint",
    "normalize_name",
    "normalize_provider",
]
