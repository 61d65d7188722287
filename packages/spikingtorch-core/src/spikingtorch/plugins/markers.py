"""The pluggy markers of spikingtorch.

Plugins decorate their hook implementations with :data:`hookimpl` (re-exported as
``spikingtorch.hookimpl``); the core declares its hook specifications with :data:`hookspec`.
"""

from __future__ import annotations

from typing import Final

import pluggy

PROJECT: Final = "spikingtorch"
"""The pluggy project name: hook implementations must be marked for this project."""

ENTRY_POINT_GROUP: Final = "spikingtorch"
"""The entry-point group under which plugin distributions declare their hook module."""

hookspec: Final = pluggy.HookspecMarker(PROJECT)
"""Marks a function as a hook specification (used by the core only)."""

hookimpl: Final = pluggy.HookimplMarker(PROJECT)
"""Marks a function as a hook implementation; plugins use it as ``@spikingtorch.hookimpl``."""

__all__ = ["ENTRY_POINT_GROUP", "PROJECT", "hookimpl", "hookspec"]
