"""The plugin system: pluggy markers, hook specifications, the loader and lookup helpers.

Everything here is torch-free: listing plugins imports torch only if a plugin module does.

:data:`PLUGIN_API_VERSION` (``"MAJOR.MINOR"``) is the plugin API this core provides; a plugin
declares the range it supports in its hook module, e.g. ``SPIKINGTORCH_PLUGIN_API = ">=1.0,<2"``
(see :mod:`spikingtorch.plugins.api`). Plugins outside the range are listed as ``incompatible``
and not loaded.
"""

from __future__ import annotations

from typing import Any

from spikingtorch.plugins.api import (
    PLUGIN_API_ATTRIBUTE,
    PLUGIN_API_VERSION,
    PluginApiError,
    parse_api_range,
)
from spikingtorch.plugins.loader import (
    ENV_ALLOW,
    ENV_DISABLE,
    ENV_STRICT,
    PluginError,
    PluginHost,
    PluginRecord,
    PluginWarning,
    Status,
    discover_entry_points,
    get,
    get_plugin_host,
    get_registry,
    plugin_conflicts,
    plugin_records,
    register_plugin,
    reset_plugins,
)
from spikingtorch.plugins.markers import ENTRY_POINT_GROUP, PROJECT, hookimpl, hookspec


def get_neuron(name: str, /, **params: Any) -> Any:
    """Build the neuron ``name`` (kind ``neurons``), e.g. ``get_neuron("lif", tau=5.0)``."""
    return get("neurons", name, **params)


def get_surrogate(name: str, /, **params: Any) -> Any:
    """Build the surrogate ``name`` (kind ``surrogates``), e.g. ``get_surrogate("atan")``."""
    return get("surrogates", name, **params)


def get_encoder(name: str, /, **params: Any) -> Any:
    """Build the encoder ``name`` (kind ``encoders``), e.g. ``get_encoder("poisson", steps=8)``."""
    return get("encoders", name, **params)


def get_decoder(name: str, /, **params: Any) -> Any:
    """Build the decoder ``name`` (kind ``decoders``)."""
    return get("decoders", name, **params)


def get_dataset(name: str, /, **params: Any) -> Any:
    """Build the dataset ``name`` (kind ``datasets``), e.g. ``get_dataset("randman")``."""
    return get("datasets", name, **params)


def get_network(name: str, /, **params: Any) -> Any:
    """Build the network ``name`` (kind ``networks``), e.g. ``get_network("mlp", ...)``."""
    return get("networks", name, **params)


__all__ = [
    "ENTRY_POINT_GROUP",
    "ENV_ALLOW",
    "ENV_DISABLE",
    "ENV_STRICT",
    "PLUGIN_API_ATTRIBUTE",
    "PLUGIN_API_VERSION",
    "PROJECT",
    "PluginApiError",
    "PluginError",
    "PluginHost",
    "PluginRecord",
    "PluginWarning",
    "Status",
    "discover_entry_points",
    "get",
    "get_dataset",
    "get_decoder",
    "get_encoder",
    "get_network",
    "get_neuron",
    "get_plugin_host",
    "get_registry",
    "get_surrogate",
    "hookimpl",
    "hookspec",
    "parse_api_range",
    "plugin_conflicts",
    "plugin_records",
    "register_plugin",
    "reset_plugins",
]
