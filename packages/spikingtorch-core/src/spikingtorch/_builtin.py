"""The core's own hook implementations (provider ``spikingtorch-core``).

Factories are ``"module:attribute"`` strings so that listing components never imports torch;
the loader registers this module before any plugin and does not list it as a plugin.
"""

from __future__ import annotations

from spikingtorch.plugins.markers import hookimpl
from spikingtorch.registry import Registry

_SURROGATE_MODULE = "spikingtorch.surrogate"


@hookimpl
def register_surrogates(registry: Registry) -> None:
    """Register the standard surrogate-gradient families of :mod:`spikingtorch.surrogate`.

    Args:
        registry: The surrogate registry.
    """
    registry.add(
        "sigmoid",
        f"{_SURROGATE_MODULE}:Sigmoid",
        summary="Heaviside spike, derivative of a steep sigmoid",
    )
    registry.add(
        "fast_sigmoid",
        f"{_SURROGATE_MODULE}:FastSigmoid",
        summary="Heaviside spike, fast-sigmoid derivative (SuperSpike)",
        aliases=("superspike",),
    )
    registry.add(
        "atan",
        f"{_SURROGATE_MODULE}:ATan",
        summary="Heaviside spike, arctangent derivative",
        aliases=("arctan",),
    )
    registry.add(
        "triangle",
        f"{_SURROGATE_MODULE}:Triangle",
        summary="Heaviside spike, triangular (piecewise-linear) derivative",
    )
    registry.add(
        "straight_through",
        f"{_SURROGATE_MODULE}:StraightThrough",
        summary="Heaviside spike, straight-through gradient estimator",
        aliases=("ste",),
    )
