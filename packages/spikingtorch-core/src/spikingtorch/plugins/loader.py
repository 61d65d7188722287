"""Plugin discovery and isolation: our own entry-point loader on top of pluggy.

Each installed distribution may declare one entry point in the ``spikingtorch`` group, named
after itself, that points to a module of ``@spikingtorch.hookimpl`` functions. The loader:

1. registers the core's own components (provider ``spikingtorch-core``, never listed as a plugin);
2. discovers the entry points (:func:`discover_entry_points`; tests inject their own list);
3. applies ``SPIKINGTORCH_PLUGINS`` (comma-separated allow-list; set but empty loads none) and
   ``SPIKINGTORCH_DISABLE_PLUGINS`` (block-list); filtered plugins get status ``disabled``;
4. of several entry points with one name, loads the first by distribution name and reports the
   others as ``duplicate``;
5. imports each plugin inside its own ``try``: a plugin that fails to import gets status
   ``error`` and a :class:`PluginWarning`;
6. checks the plugin API range the hook module declares (``SPIKINGTORCH_PLUGIN_API``, see
   :mod:`spikingtorch.plugins.api`) against :data:`~spikingtorch.plugins.api.PLUGIN_API_VERSION`:
   a plugin whose range excludes it gets status ``incompatible`` and is not registered (none of
   its hooks run); a malformed declaration is an ``error``; no declaration counts as compatible;
7. registers the plugin's hooks: a plugin that implements an unknown hook gets status ``error``;
8. builds a registry lazily, the first time a kind is needed, calling each hook implementation
   on its own and rolling back the entries of one that raises (status ``error``).

``SPIKINGTORCH_STRICT_PLUGINS=1`` re-raises instead of recording (an incompatible or
malformed API declaration as a :class:`PluginError`). Environment variables are read
when plugins are loaded (first use after import or after :func:`reset_plugins`).
"""

from __future__ import annotations

import difflib
import importlib.metadata as metadata
import inspect
import os
import threading
import traceback
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import pluggy

from spikingtorch import _builtin
from spikingtorch.plugins import hookspecs
from spikingtorch.plugins.api import PluginApiError, api_incompatibility
from spikingtorch.plugins.markers import ENTRY_POINT_GROUP, PROJECT
from spikingtorch.registry import (
    CORE_DISTRIBUTION,
    KINDS,
    Conflict,
    Entry,
    Registry,
    check_kind,
    normalize_provider,
)

ENV_ALLOW = "SPIKINGTORCH_PLUGINS"
ENV_DISABLE = "SPIKINGTORCH_DISABLE_PLUGINS"
ENV_STRICT = "SPIKINGTORCH_STRICT_PLUGINS"

Status = Literal["ok", "error", "disabled", "duplicate", "local", "incompatible"]
EntryPoint = metadata.EntryPoint


class PluginWarning(UserWarning):
    """A plugin was skipped or only partly registered (see ``spikingtorch list-plugins``)."""


class PluginError(RuntimeError):
    """A plugin problem raised in strict mode, or a lookup made while plugins are loading."""


@dataclass
class PluginRecord:
    """What the loader knows about one plugin.

    Attributes:
        name: The entry-point name (by convention the distribution name), or the name given to
            :func:`register_plugin`.
        distribution: The distribution that declared the entry point (None for local plugins).
        version: That distribution's version, or None.
        module: The entry point's value (``"pkg.plugin"``) or the local plugin's module.
        status: ``ok``, ``error``, ``disabled``, ``duplicate``, ``local`` or ``incompatible``
            (its declared plugin API range excludes the core's; it was not registered).
        hooks: The hooks it implements.
        provides: Component kind -> sorted names it registered (every kind is a key).
        error: Why the plugin is not (fully) active: the exception, the duplicate, the filter,
            the API mismatch (with what to upgrade or downgrade).
        traceback: The formatted traceback of the failure, if any.
    """

    name: str
    distribution: str | None
    version: str | None
    module: str | None
    status: Status
    hooks: list[str] = field(default_factory=list)
    provides: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None

    def to_dict(self, *, include_traceback: bool = False) -> dict[str, Any]:
        """Return the record as JSON-ready data (keys in a fixed order).

        Args:
            include_traceback: Add the ``traceback`` key.
        """
        data: dict[str, Any] = {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "module": self.module,
            "status": self.status,
            "hooks": list(self.hooks),
            "provides": {kind: list(self.provides.get(kind, [])) for kind in KINDS},
            "error": self.error,
        }
        if include_traceback:
            data["traceback"] = self.traceback
        return data


@dataclass
class _Plugin:
    record: PluginRecord
    hook_errors: dict[str, tuple[str, str]] = field(default_factory=dict)


def discover_entry_points() -> list[EntryPoint]:
    """Return the installed entry points of the ``spikingtorch`` group."""
    return list(metadata.entry_points(group=ENTRY_POINT_GROUP))


class PluginHost:
    """A plugin manager with its plugin records and lazily built registries.

    Most code uses the process-wide host through the module functions (:func:`get_registry`,
    :func:`plugin_records`, ...); tests may build their own.

    Args:
        entry_points: The entry points to consider; None discovers the installed ones.
        environ: Where to read the ``SPIKINGTORCH_*`` variables (default ``os.environ``).
        strict: Re-raise plugin failures; None reads ``SPIKINGTORCH_STRICT_PLUGINS``.
    """

    def __init__(
        self,
        entry_points: Iterable[EntryPoint] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        strict: bool | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.strict = _env_flag(env.get(ENV_STRICT, "")) if strict is None else strict
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.pm.register(_builtin, name=CORE_DISTRIBUTION)
        self._lock = threading.RLock()
        self._plugins: list[_Plugin] = []
        self._registered: dict[str, _Plugin] = {}
        self._registries: dict[str, Registry] = {}
        self._building: str | None = None
        self.notices: list[str] = []
        """Load-time problems that concern no single plugin (e.g. an unmatched allow-list name)."""
        found = discover_entry_points() if entry_points is None else list(entry_points)
        self._load(found, env)

    # -- loading --------------------------------------------------------------------------

    def _load(self, entry_points: list[EntryPoint], env: Mapping[str, str]) -> None:
        allow = _name_set(env[ENV_ALLOW]) if ENV_ALLOW in env else None
        block = _name_set(env.get(ENV_DISABLE, ""))
        seen: set[str] = set()
        groups: dict[str, list[tuple[EntryPoint, str | None, str | None]]] = {}
        unique = {
            (normalize_provider(ep.name), *_dist_info(ep), ep.value): ep for ep in entry_points
        }
        for (key, dist, version, _value), ep in sorted(unique.items(), key=_ep_order):
            names = {key} | ({normalize_provider(dist)} if dist else set())
            seen |= names
            reason = None
            if names & block:
                reason = f"disabled by {ENV_DISABLE}"
            elif allow is not None and not names & allow:
                reason = f"not listed in {ENV_ALLOW}" if allow else f"{ENV_ALLOW} is empty"
            if reason:
                record = PluginRecord(ep.name, dist, version, ep.value, "disabled", error=reason)
                self._plugins.append(_Plugin(record))
            else:
                groups.setdefault(key, []).append((ep, dist, version))
        for key, candidates in groups.items():
            winner = None if key == normalize_provider(CORE_DISTRIBUTION) else candidates[0]
            if winner is not None:
                self._load_one(*winner)
            for ep, dist, version in candidates[1:] if winner else candidates:
                if winner is None:
                    why = f"the name {ep.name!r} is reserved for the core's built-in components"
                else:
                    why = (
                        f"entry point {ep.name!r} of {_describe(ep, dist)} duplicates the one of "
                        f"{_describe(*winner[:2])}, which is loaded instead"
                    )
                record = PluginRecord(ep.name, dist, version, ep.value, "duplicate", error=why)
                self._plugins.append(_Plugin(record))
                if self.strict:
                    raise PluginError(why)
                _warn(f"spikingtorch plugin {ep.name!r} ignored: {why}")
        for name in sorted((allow or set()) - seen):
            notice = f"{ENV_ALLOW} names {name!r}, but no installed spikingtorch plugin has it"
            self.notices.append(notice)
            _warn(notice)

    def _load_one(self, ep: EntryPoint, dist: str | None, version: str | None) -> None:
        plugin = _Plugin(PluginRecord(ep.name, dist, version, ep.value, "ok"))
        self._plugins.append(plugin)
        try:
            obj = ep.load()
        except Exception as exc:
            if self.strict:
                raise
            self._fail(plugin, f"{type(exc).__name__}: {exc}", exc, "failed to import")
            return
        try:
            problem = api_incompatibility(obj, ep.name, distribution=dist, version=version)
        except PluginApiError as exc:
            if self.strict:
                raise PluginError(f"spikingtorch plugin {ep.name!r}: {exc}") from exc
            plugin.record.status = "error"
            plugin.record.error = str(exc)
            _warn(f"spikingtorch plugin {ep.name!r} was skipped: {exc}")
            return
        if problem is not None:
            if self.strict:
                raise PluginError(problem)
            plugin.record.status = "incompatible"
            plugin.record.error = problem
            _warn(f"spikingtorch plugin {ep.name!r} is incompatible and was skipped: {problem}")
            return
        try:
            self._register(plugin, obj)
        except Exception as exc:
            if self.strict:
                raise
            message = str(exc) if isinstance(exc, PluginError) else _oneline(exc)
            self._fail(plugin, message, exc)

    def _register(self, plugin: _Plugin, obj: object) -> None:
        """Register ``obj`` with pluggy and validate its hooks; undo and raise on failure."""
        name = plugin.record.name
        taken = {normalize_provider(n) for n in (*self._registered, CORE_DISTRIBUTION)}
        if self.pm.has_plugin(name) or normalize_provider(name) in taken:
            raise ValueError(f"a spikingtorch plugin named {name!r} is already registered")
        try:
            registered = self.pm.register(obj, name=name)
        except Exception:
            if self.pm.is_registered(obj):  # pluggy keeps the hooks it validated before failing
                self.pm.unregister(obj)
            raise
        if registered is None:
            raise ValueError(f"plugin {name!r} is blocked")
        callers = self.pm.get_hookcallers(obj) or []
        plugin.record.hooks = sorted({caller.name for caller in callers})
        unknown = sorted(caller.name for caller in callers if not caller.has_spec())
        try:
            self.pm.check_pending()
        except Exception as exc:
            self.pm.unregister(obj)
            if unknown:
                raise PluginError(_unknown_hooks_message(unknown)) from exc
            raise
        self._registered[name] = plugin

    def _fail(self, plugin: _Plugin, message: str, exc: BaseException, what: str = "") -> None:
        plugin.record.status = "error"
        plugin.record.error = message
        plugin.record.traceback = "".join(traceback.format_exception(exc))
        name = plugin.record.name
        _warn(f"spikingtorch plugin {name!r} {what or 'failed'} and was skipped: {message}")

    def register_plugin(self, obj: object, name: str | None = None) -> str:
        """Register an in-process plugin (status ``local``); see :func:`register_plugin`."""
        if name is None:
            own_name = getattr(obj, "__name__", None)
            name = own_name if isinstance(own_name, str) else f"{type(obj).__name__}-{id(obj):x}"
        if inspect.ismodule(obj):
            module = obj.__name__
        else:
            module = getattr(obj, "__module__", None) or type(obj).__module__
        plugin = _Plugin(PluginRecord(name, None, None, module, "local"))
        try:
            problem = api_incompatibility(obj, name)
        except PluginApiError as exc:
            raise PluginError(f"spikingtorch plugin {name!r}: {exc}") from exc
        if problem is not None:
            raise PluginError(problem)
        with self._lock:
            self._register(plugin, obj)
            self._plugins.append(plugin)
            self._registries.clear()
        return name

    # -- registries -----------------------------------------------------------------------

    def registry(self, kind: str) -> Registry:
        """Return the registry of ``kind``, calling the ``register_<kind>`` hooks on first use."""
        check_kind(kind)
        with self._lock:
            if self._building is not None:
                raise PluginError(
                    f"cannot look up {kind} while the {self._building} registry is being built: "
                    "a hook must only add entries"
                )
            registry = self._registries.get(kind)
            if registry is None:
                self._building = kind
                try:
                    registry = self._build(kind)
                finally:
                    self._building = None
                self._registries[kind] = registry
            return registry

    def _build(self, kind: str) -> Registry:
        hook_name = f"register_{kind}"
        registry = Registry(kind)
        registry.unloaded = {
            p.record.name: f"{p.record.status}: {p.record.error}"
            for p in self._plugins
            if p.record.status in ("error", "incompatible")
        }
        for plugin in self._plugins:
            plugin.hook_errors.pop(kind, None)
        impls = getattr(self.pm.hook, hook_name).get_hookimpls()
        core = normalize_provider(CORE_DISTRIBUTION)
        for impl in sorted(impls, key=lambda i: (i.plugin_name != core, i.plugin_name.lower())):
            if impl.hookwrapper or impl.wrapper:
                continue  # a wrapper cannot add entries around other plugins; ignore it
            try:
                with registry.providing(impl.plugin_name):
                    impl.function(*[registry for _ in impl.argnames])
            except Exception as exc:
                registry.remove_provider(impl.plugin_name)
                owner = self._registered.get(impl.plugin_name)
                if owner is None or self.strict:
                    raise
                message = f"{hook_name} raised {_oneline(exc)}"
                owner.hook_errors[kind] = (message, "".join(traceback.format_exception(exc)))
                name = impl.plugin_name
                _warn(f"spikingtorch plugin {name!r}: {message}; its {kind} were skipped")
                registry.unloaded[owner.record.name] = f"error: {message}"
        return registry

    def registries(self) -> dict[str, Registry]:
        """Build (if needed) and return every registry, by kind."""
        return {kind: self.registry(kind) for kind in KINDS}

    def records(self) -> list[PluginRecord]:
        """Snapshots of every plugin record, sorted by name (builds every registry)."""
        registries = self.registries()
        out = []
        for plugin in self._plugins:
            record = replace(plugin.record, hooks=list(plugin.record.hooks))
            registered = self._registered.get(record.name) is plugin
            record.provides = {
                kind: registries[kind].provided_by(record.name) if registered else []
                for kind in KINDS
            }
            if plugin.hook_errors:
                if record.status in ("ok", "local"):
                    record.status = "error"
                errors = [message for message, _ in plugin.hook_errors.values()]
                tracebacks = [tb for _, tb in plugin.hook_errors.values()]
                record.error = "; ".join(filter(None, [record.error, *errors]))
                record.traceback = "\n".join(filter(None, [record.traceback, *tracebacks]))
            out.append(record)
        return sorted(out, key=lambda r: (normalize_provider(r.name), r.distribution or ""))

    def conflicts(self) -> list[Conflict]:
        """Every bare name that several plugins provide, over all kinds."""
        return [c for registry in self.registries().values() for c in registry.conflicts()]

    def builtin(self) -> dict[str, list[str]]:
        """Kind -> names that the core registers itself (kinds with none are left out)."""
        provided = {k: r.provided_by(CORE_DISTRIBUTION) for k, r in self.registries().items()}
        return {kind: names for kind, names in provided.items() if names}

    def find_exports(self, export_name: str) -> list[Entry]:
        """Entries of any kind whose factory is exported as ``export_name``."""
        return [e for r in self.registries().values() for e in r.find_exports(export_name)]


# -- the process-wide host ----------------------------------------------------------------

_lock = threading.RLock()
_host: PluginHost | None = None
_override: list[EntryPoint] | None = None
_loading = False


def get_plugin_host() -> PluginHost:
    """Return the process-wide :class:`PluginHost`, loading plugins on first use.

    Raises:
        PluginError: If called while plugins are being imported (from a plugin's import code).
    """
    global _host, _loading
    with _lock:
        if _host is None:
            if _loading:
                raise PluginError(
                    "spikingtorch plugins are still loading: a plugin must not look up "
                    "components while it is imported"
                )
            _loading = True
            try:
                _host = PluginHost(_override)
            finally:
                _loading = False
        return _host


def reset_plugins(entry_points: Iterable[EntryPoint] | None = None) -> None:
    """Forget the loaded plugins; the next use loads them again (and re-reads the environment).

    Args:
        entry_points: If given, later loads use these entry points instead of the installed
            ones (for tests); None returns to discovering the installed ones.
    """
    global _host, _override
    with _lock:
        _host = None
        _override = None if entry_points is None else list(entry_points)


def register_plugin(obj: object, name: str | None = None) -> str:
    """Register an in-process plugin: a module or object with ``@hookimpl`` functions.

    For notebooks and tests. The plugin is listed with status ``local``, and cached
    registries are rebuilt on next use so its components appear.

    Args:
        obj: The plugin (usually a module or a class instance).
        name: Its plugin name (default: ``obj.__name__``).

    Returns:
        The name it was registered under.

    Raises:
        ValueError: If the name is taken (or reserved for the core).
        PluginError: If the plugin implements an unknown hook (e.g. ``register_neuron``), or
            declares a plugin API range (``SPIKINGTORCH_PLUGIN_API``) that is malformed or
            excludes the core's :data:`~spikingtorch.plugins.api.PLUGIN_API_VERSION`.
        pluggy.PluginValidationError: If a hook's signature does not match its specification.
    """
    return get_plugin_host().register_plugin(obj, name)


def get_registry(kind: str) -> Registry:
    """Return the process-wide registry of ``kind`` (one of ``spikingtorch.registry.KINDS``)."""
    return get_plugin_host().registry(kind)


def get(kind: str, name: str, /, **params: Any) -> Any:
    """Build the component ``name`` of ``kind`` with ``params``.

    Example: ``spikingtorch.get("neurons", "lif", tau=5.0)``; qualified names
    (``"spikingtorch-neurons:lif"``) choose between clashing plugins.

    Raises:
        ComponentNotFoundError: No such component (the message lists the available ones).
        AmbiguousComponentError: Several plugins provide ``name``.
    """
    return get_registry(kind).get(name, **params)


def plugin_records() -> list[PluginRecord]:
    """Return a snapshot of every plugin's record, sorted by name."""
    return get_plugin_host().records()


def plugin_conflicts() -> list[Conflict]:
    """Return the bare names that several plugins provide."""
    return get_plugin_host().conflicts()


# -- helpers ------------------------------------------------------------------------------


def _warn(message: str) -> None:
    warnings.warn(PluginWarning(message), stacklevel=3)


def _env_flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _name_set(value: str) -> set[str]:
    return {normalize_provider(part) for part in value.split(",") if part.strip()}


def _dist_info(ep: EntryPoint) -> tuple[str | None, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, None
    try:
        name = getattr(dist, "name", None) or dist.metadata["Name"]
        version = getattr(dist, "version", None)
    except Exception:
        return None, None
    return (str(name) if name else None), (str(version) if version else None)


def _ep_order(item: tuple[tuple[str, str | None, str | None, str], EntryPoint]) -> tuple[str, ...]:
    (key, dist, _version, value), _ep = item
    return key, normalize_provider(dist or ""), value


def _describe(ep: EntryPoint, dist: str | None) -> str:
    return f"distribution {dist!r}" if dist else f"module {ep.value!r}"


def _oneline(exc: BaseException) -> str:
    text = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _unknown_hooks_message(unknown: list[str]) -> str:
    known = [f"register_{kind}" for kind in KINDS]
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1)
        parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    label = "unknown hook" if len(unknown) == 1 else "unknown hooks"
    return f"{label} {', '.join(parts)}; known hooks: {', '.join(known)}"


__all__ = [
    "ENV_ALLOW",
    "ENV_DISABLE",
    "ENV_STRICT",
    "PluginError",
    "PluginHost",
    "PluginRecord",
    "PluginWarning",
    "Status",
    "discover_entry_points",
    "get",
    "get_plugin_host",
    "get_registry",
    "plugin_conflicts",
    "plugin_records",
    "register_plugin",
    "reset_plugins",
]
