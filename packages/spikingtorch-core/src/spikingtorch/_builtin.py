"""The core's own hook implementations (provider ``spikingtorch-core``).

Factories are ``"module:attribute"`` strings so that listing components never imports torch;
the loader registers this module before any plugin and does not list it as a plugin.
"""

from __future__ import annotations

from spikingtorch.plugins.markers import hookimpl
from spikingtorch.registry import Registry

_SURROGATE_MODULE = "spikingtorch.surrogate"

#: The core's surrogate families: (name, class in spikingtorch.surrogate, aliases, summary).
#: spikingtorch.surrogate builds its own fast name table from this one list.
SURROGATES: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("sigmoid", "Sigmoid", (), "Heaviside spike, derivative of a steep sigmoid"),
    (
        "fast_sigmoid",
        "FastSigmoid",
        ("superspike",),
        "Heaviside spike, fast-sigmoid derivative (SuperSpike)",
    ),
    ("atan", "ATan", ("arctan",), "Heaviside spike, arctangent derivative"),
    ("triangle", "Triangle", (), "Heaviside spike, triangular (piecewise-linear) derivative"),
    (
        "straight_through",
        "StraightThrough",
        ("ste",),
        "Heaviside spike, straight-through gradient estimator",
    ),
)


@hookimpl
def register_surrogates(registry: Registry) -> None:
    """Register the standard surrogate-gradient families of :mod:`spikingtorch.surrogate`.

    Args:
        registry: The surrogate registry.
    """
    for name, attribute, aliases, summary in SURROGATES:
        registry.add(name, f"{_SURROGATE_MODULE}:{attribute}", summary=summary, aliases=aliases)


_NETWORK_MODULE = "spikingtorch.networks"


@hookimpl
def register_networks(registry: Registry) -> None:
    """Register the core's neuron-agnostic networks of :mod:`spikingtorch.networks`.

    Args:
        registry: The network registry.
    """
    registry.add(
        "mlp",
        f"{_NETWORK_MODULE}:mlp",
        summary="fully connected spiking layers (optional recurrence), any neuron by name",
    )
    registry.add(
        "convnet",
        f"{_NETWORK_MODULE}:convnet",
        summary="the seed tutorial's conv net (conv-neuron-conv-neuron-linear-neuron)",
    )
