"""The plugin API version of the core, and the range of it that a plugin declares it supports.

The core provides one plugin API, :data:`PLUGIN_API_VERSION`, a ``"MAJOR.MINOR"`` string:

* the *major* number changes when the plugin interface changes incompatibly (a hook removed or
  renamed, a hook's arguments changed, :class:`~spikingtorch.registry.Registry` methods that
  plugins call removed or changed, the ``Neuron`` or ``SurrogateFunction`` contract changed);
* the *minor* number changes when something is added that plugins may use (a new hook, a new
  registry method); plugins written against an older minor keep working.

A plugin declares the versions it supports in its hook module (the module its entry point
names), with the module attribute :data:`PLUGIN_API_ATTRIBUTE`::

    SPIKINGTORCH_PLUGIN_API = ">=1.0,<2"

The value is a string of comma-separated clauses ``<op><version>``; every clause must hold.
Operators: ``>=``, ``>``, ``<=``, ``<``, ``==``, ``!=`` and ``~=`` (compatible release:
``~=1.2`` means ``>=1.2,<2``). Versions are dotted non-negative integers compared number by
number, missing numbers counting as 0 (``1`` equals ``1.0``). The usual declaration is
``">=1.<minor you need>,<2"``. A plugin that declares nothing is taken to be compatible.

The loader checks the declaration right after importing the hook module and before it
registers any hook: a plugin whose range excludes :data:`PLUGIN_API_VERSION` gets the status
``incompatible`` (none of its hooks run), a declaration that cannot be parsed the status
``error``. This module is dependency-free (no ``packaging``) and does not import torch.

Example:
    >>> api_range = parse_api_range(">=1.0,<2")
    >>> api_range.contains("1.0"), api_range.contains("1.7"), api_range.contains("2.0")
    (True, True, False)
    >>> parse_api_range("~=1.2").contains("1.1")
    False
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Final

__all__ = [
    "PLUGIN_API_ATTRIBUTE",
    "PLUGIN_API_VERSION",
    "ApiRange",
    "PluginApiError",
    "api_incompatibility",
    "declared_api_range",
    "parse_api_range",
]

PLUGIN_API_VERSION: Final = "1.0"
"""The plugin API this core provides, ``"MAJOR.MINOR"`` (see the module docstring)."""

PLUGIN_API_ATTRIBUTE: Final = "SPIKINGTORCH_PLUGIN_API"
"""The hook-module attribute in which a plugin declares the API versions it supports."""

_OPERATORS: Final = ("~=", "==", "!=", ">=", "<=", ">", "<")
_CLAUSE_RE: Final = re.compile(r"^(~=|==|!=|>=|<=|>|<)\s*(\d+(?:\.\d+)*)$")

Version = tuple[int, ...]


class PluginApiError(ValueError):
    """A plugin's API declaration (``SPIKINGTORCH_PLUGIN_API``) cannot be parsed."""


def _version(text: str) -> Version:
    return tuple(int(part) for part in text.split("."))


def _compare(a: Version, b: Version) -> int:
    width = max(len(a), len(b))
    left, right = a + (0,) * (width - len(a)), b + (0,) * (width - len(b))
    return (left > right) - (left < right)


def _holds(op: str, version: Version, bound: Version) -> bool:
    c = _compare(version, bound)
    if op == "~=":
        upper = (*bound[:-2], bound[-2] + 1)  # ~=1.2 -> <2 ; ~=1.2.3 -> <1.3
        return c >= 0 and _compare(version, upper) < 0
    return {
        "==": c == 0,
        "!=": c != 0,
        ">=": c >= 0,
        "<=": c <= 0,
        ">": c > 0,
        "<": c < 0,
    }[op]


@dataclass(frozen=True)
class ApiRange:
    """A parsed API range: every clause ``(operator, version)`` must hold.

    Attributes:
        text: The declaration as written.
        clauses: ``(operator, version)`` pairs, e.g. ``((">=", (1, 0)), ("<", (2,)))``.
    """

    text: str
    clauses: tuple[tuple[str, Version], ...]

    def contains(self, version: str) -> bool:
        """Whether the API version ``version`` (``"MAJOR.MINOR"``) satisfies every clause."""
        wanted = _version(version)
        return all(_holds(op, wanted, bound) for op, bound in self.clauses)

    def needs_newer(self, version: str) -> bool:
        """Whether ``version`` is excluded because it is too *old* for this range.

        True when ``version`` fails a lower bound (``>=``, ``>``, ``~=``, or ``==`` a newer
        version): the plugin needs a newer core. False means the plugin is too old (an upper
        bound or ``!=`` excludes ``version``).
        """
        wanted = _version(version)
        for op, bound in self.clauses:
            c = _compare(wanted, bound)
            if (op in (">=", "~=", "==") and c < 0) or (op == ">" and c <= 0):
                return True
        return False

    def __str__(self) -> str:
        return self.text


def parse_api_range(text: str) -> ApiRange:
    """Parse a declaration such as ``">=1.0,<2"``.

    Args:
        text: Comma-separated clauses ``<op><version>`` (spaces allowed around them).

    Returns:
        The parsed range.

    Raises:
        PluginApiError: ``text`` is not a string, is empty, or has a clause that is not
            ``<op><version>`` (the message shows an example of a valid declaration).
    """
    example = f'e.g. {PLUGIN_API_ATTRIBUTE} = ">={_major()}.0,<{int(_major()) + 1}"'
    if not isinstance(text, str):
        raise PluginApiError(
            f"{PLUGIN_API_ATTRIBUTE} must be a string of version clauses, not "
            f"{type(text).__name__} {text!r} ({example})"
        )
    parts = [part.strip() for part in text.split(",")]
    if not any(parts):
        raise PluginApiError(f"{PLUGIN_API_ATTRIBUTE} is empty ({example})")
    clauses = []
    for part in parts:
        match = _CLAUSE_RE.match(part)
        if match is None:
            raise PluginApiError(
                f"invalid {PLUGIN_API_ATTRIBUTE} {text!r}: clause {part!r} is not an operator "
                f"({', '.join(_OPERATORS)}) followed by a version like 1 or 1.0 ({example})"
            )
        op, bound = match.group(1), _version(match.group(2))
        if op == "~=" and len(bound) < 2:
            raise PluginApiError(
                f"invalid {PLUGIN_API_ATTRIBUTE} {text!r}: '~=' needs a version with at least "
                f"two numbers, e.g. ~={_major()}.0"
            )
        clauses.append((op, bound))
    return ApiRange(text, tuple(clauses))


def declared_api_range(plugin: object) -> ApiRange | None:
    """The API range a plugin object (usually its hook module) declares, or None if none.

    The attribute is read statically (a module's ``__getattr__`` or a property is not run).

    Raises:
        PluginApiError: The declaration is malformed.
    """
    declared = inspect.getattr_static(plugin, PLUGIN_API_ATTRIBUTE, None)
    return None if declared is None else parse_api_range(declared)


def api_incompatibility(
    plugin: object,
    name: str,
    *,
    distribution: str | None = None,
    version: str | None = None,
    api_version: str = PLUGIN_API_VERSION,
) -> str | None:
    """Check a plugin's declaration against the core's API version.

    Args:
        plugin: The plugin object (its hook module, or an in-process plugin).
        name: The plugin's name (for the message).
        distribution: The distribution that installed it, if known (for the message).
        version: That distribution's version, if known.
        api_version: The core's API version (default :data:`PLUGIN_API_VERSION`).

    Returns:
        None if the plugin declares nothing or a range containing ``api_version``; otherwise a
        message that says both versions and which package to upgrade or downgrade.

    Raises:
        PluginApiError: The declaration is malformed.
    """
    api_range = declared_api_range(plugin)
    if api_range is None or api_range.contains(api_version):
        return None
    from spikingtorch import __version__ as core_version

    package = distribution or name
    who = f"plugin {name!r}"
    if distribution:
        who += f" ({distribution} {version})" if version else f" ({distribution})"
    lead = (
        f"{who} supports spikingtorch plugin API {api_range.text!r}, but spikingtorch-core "
        f"{core_version} provides plugin API {api_version}; the plugin was not loaded."
    )
    if api_range.needs_newer(api_version):
        advice = (
            f" Upgrade spikingtorch-core to a release whose plugin API is in {api_range.text!r} "
            f"(pip install -U spikingtorch-core), or install an older release of {package!r} "
            f"that supports plugin API {api_version}."
        )
    else:
        advice = (
            f" Upgrade {package!r} to a release that supports plugin API {api_version} "
            f"(pip install -U {package}), or install an older spikingtorch-core whose plugin "
            f"API is in {api_range.text!r}."
        )
    return lead + advice


def _major() -> str:
    return PLUGIN_API_VERSION.partition(".")[0]
