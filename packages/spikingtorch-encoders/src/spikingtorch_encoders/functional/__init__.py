"""Pure spike-encoding functions: the math behind the encoder modules.

Each function takes a batch ``x`` of shape ``(N, *dims)`` (``N`` the batch, ``dims`` any feature
shape, e.g. ``(C, H, W)``) and returns ``(N, T, *dims)`` (``T = steps``): time is inserted as
dimension 1, right after the batch, and the channel axis is kept. :func:`delta_encode` instead
reads a time series ``(N, T, *dims)``; :func:`population_encode` appends a population axis.

Spikes are ``0.0`` / ``1.0`` in ``x``'s floating dtype on ``x``'s device (``-1.0`` too for signed
delta spikes). Spike trains carry no gradient (sampling and thresholding are not differentiable);
:func:`constant_encode` is the exception, since it repeats the analog value. Randomness comes from
``generator`` (a ``torch.Generator`` on ``x``'s device) or, when it is None, torch's global
generator: the same seed gives bit-identical trains. Uniform numbers are drawn in float32 (float64
for float64 inputs), so half-precision inputs do not coarsen spike probabilities.

The modules in :mod:`spikingtorch_encoders` hold the parameters and the layout (``batch_first``)
and call these functions. The submodules mirror them: ``rate`` (Poisson, periodic, constant),
``temporal`` (latency, delta), ``markov`` and ``population``.
"""

from spikingtorch_encoders.functional.markov import markov_encode
from spikingtorch_encoders.functional.population import (
    POPULATION_SPIKES,
    gaussian_fields,
    population_encode,
)
from spikingtorch_encoders.functional.rate import constant_encode, periodic_encode, poisson_encode
from spikingtorch_encoders.functional.temporal import (
    LATENCY_MODES,
    delta_encode,
    latency_encode,
    latency_steps,
)

__all__ = [
    "LATENCY_MODES",
    "POPULATION_SPIKES",
    "constant_encode",
    "delta_encode",
    "gaussian_fields",
    "latency_encode",
    "latency_steps",
    "markov_encode",
    "periodic_encode",
    "poisson_encode",
    "population_encode",
]
