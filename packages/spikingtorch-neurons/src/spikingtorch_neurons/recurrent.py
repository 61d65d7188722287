"""The recurrent leaky integrate-and-fire layer :class:`RecurrentLIF` (learned spike feedback)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter

from spikingtorch.surrogate import SurrogateFunction
from spikingtorch_neurons._params import (
    check_input,
    check_shapes,
    repr_args,
)
from spikingtorch_neurons.functional import (
    RECURRENT_MODES,
    Param,
    RecurrentLIFState,
    recurrent_lif_step,
)
from spikingtorch_neurons.leaky import LeakyNeuron

__all__ = ["RecurrentLIF"]

#: The time constant used when neither ``tau`` nor ``decay`` is given (as for :class:`LIF`).
DEFAULT_TAU = 8.0


def _check_size(size: Any, recurrent: str) -> tuple[int, ...] | None:
    """``size`` as a feature shape: ``(F,)`` for dense, any shape for one-to-one."""
    if size is None:
        if recurrent == "dense":
            raise ValueError(
                "RecurrentLIF(recurrent='dense') needs size=F, the number of neurons (features "
                "(N, F)), to create its (F, F) recurrent weight"
            )
        return None
    dims: tuple[Any, ...]
    if isinstance(size, Sequence) and not isinstance(size, str) and recurrent == "one_to_one":
        dims = tuple(size)
    else:
        dims = (size,)
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            kind = "a positive int" if recurrent == "dense" else "a positive int or a tuple of them"
            raise ValueError(f"RecurrentLIF: size must be {kind}, got {size!r}")
    return tuple(int(d) for d in dims)


class RecurrentLIF(LazyModuleMixin, LeakyNeuron):
    """Leaky integrate-and-fire layer whose spikes feed back through learned weights.

    For an input ``x_t`` (``N`` the batch) at each step, with the reset ``r`` applied at the
    start of the step that follows a spike:

    .. math::

        v_t = a\\, r(v_{t-1}, s_{t-1}) + b\\, x_t + W s_{t-1}, \\qquad
        s_t = H(v_t - \\theta), \\qquad a = e^{-1/\\tau}

    * ``recurrent="dense"``: features ``(N, F)`` and a learnable ``(F, F)`` matrix,
      ``(W s)_j = sum_k W[j, k] s_k`` (``s @ W.T``, as ``nn.Linear``; self-connections
      included). ``size=F`` is required. Initialised uniform in ``(-1/sqrt(F), 1/sqrt(F))``,
      like ``nn.RNN``. Inputs ``(N, ..., F)`` recur over the last dimension.
    * ``recurrent="one_to_one"``: each neuron feeds back only to itself, ``W s = w * s`` with
      a learnable per-neuron weight ``w`` of the feature shape ``size`` (an int or a tuple;
      any feature shape ``(N, *F)``). Without ``size``, ``w`` is created at the first step
      with the input's feature shape (a lazy parameter, as ``nn.LazyLinear``). Initialised to
      zero: training starts from a plain LIF.

    ``r(v, s)`` is ``(1 - s) v`` (``reset="zero"``), ``v - theta s`` (``"subtract"``) or ``v``
    (``"none"``); ``H`` spikes iff ``v_t > theta`` and back-propagates through ``surrogate``.
    The weight is the parameter ``recurrent_weight``; :meth:`reset_parameters` re-draws it.
    The state is :class:`~spikingtorch_neurons.functional.RecurrentLIFState` ``(v_t, s_t)``,
    starting at zero; see :func:`~spikingtorch_neurons.functional.recurrent_lif_step`.

    Args:
        size: ``F`` (dense, required) or the feature shape (one-to-one, optional).
        recurrent: ``"dense"`` or ``"one_to_one"``.
        tau: membrane time constant in steps (``> 0``). Default 8.0 when ``decay`` is not given.
        decay: the decay factor ``a`` in ``(0, 1]`` itself (give ``tau`` or ``decay``).
        threshold: ``theta``.
        reset: ``"zero"``, ``"subtract"`` or ``"none"``.
        surrogate: a :class:`~spikingtorch.surrogate.SurrogateFunction` or a surrogate name.
        input_scale: ``b``; ``None`` (default) feeds the input unscaled (``b = 1``).
        learn_tau: train the decay (stored as ``decay_logit``, ``a = sigmoid(logit)``, so it
            stays in ``(0, 1)``).
        learn_threshold: make ``threshold`` a trainable ``nn.Parameter``.
        detach_reset: no gradient through the spike inside the reset.

    ``tau``, ``decay``, ``threshold`` and ``input_scale`` may be floats or per-neuron tensors
    broadcastable to the feature shape (``(F,)`` for dense).

    Shape:
        input ``(N, F)`` (dense) or ``(N, *F)`` (one-to-one); output spikes of the same shape
        in ``{0, 1}`` with the input's dtype.

    Raises:
        ValueError: ``recurrent="dense"`` without ``size``; a bad ``size`` or ``recurrent``;
            a per-neuron tensor that does not broadcast to ``size``; an input whose last
            dimension is not ``F`` (at the first step); the errors of :class:`LIF`.

    Example:
        >>> import torch
        >>> layer = RecurrentLIF(3, decay=0.5)
        >>> layer.recurrent_weight.shape
        torch.Size([3, 3])
        >>> layer(torch.rand(2, 3)).shape
        torch.Size([2, 3])
        >>> lazy = RecurrentLIF(recurrent="one_to_one")
        >>> _ = lazy(torch.rand(2, 4, 5))
        >>> lazy.recurrent_weight.shape
        torch.Size([4, 5])
    """

    recurrent_weight: nn.Parameter | UninitializedParameter

    def __init__(
        self,
        size: int | Sequence[int] | None = None,
        recurrent: str = "dense",
        *,
        tau: Param | None = None,
        decay: Param | None = None,
        threshold: Param = 1.0,
        reset: str = "zero",
        surrogate: SurrogateFunction | str = "sigmoid",
        input_scale: Param | None = None,
        learn_tau: bool = False,
        learn_threshold: bool = False,
        detach_reset: bool = False,
    ) -> None:
        super().__init__()
        if recurrent not in RECURRENT_MODES:
            raise ValueError(
                f"RecurrentLIF: recurrent must be one of {', '.join(map(repr, RECURRENT_MODES))}"
                f", got {recurrent!r}"
            )
        self.recurrent = recurrent
        self.size = _check_size(size, recurrent)
        self._init_membrane(
            tau=tau,
            decay=decay,
            threshold=threshold,
            reset=reset,
            surrogate=surrogate,
            input_scale=input_scale,
            learn_tau=learn_tau,
            learn_threshold=learn_threshold,
            detach_reset=detach_reset,
        )
        check_shapes(type(self).__name__, self.size, **self._hyper())
        if self.size is None:
            self.recurrent_weight = UninitializedParameter()
        else:
            shape = self.size * 2 if recurrent == "dense" else self.size
            self.recurrent_weight = nn.Parameter(torch.empty(shape))
            self.reset_parameters()

    def _hyper(self) -> dict[str, Param | None]:
        return {"decay": self.decay, "threshold": self.threshold, "input_scale": self.input_scale}

    def reset_parameters(self) -> None:
        """Re-draw the recurrent weight: uniform in ``±1/sqrt(F)`` (dense) or zeros
        (one-to-one)."""
        weight = self.recurrent_weight
        if isinstance(weight, UninitializedParameter):
            return
        with torch.no_grad():
            if self.recurrent == "dense":
                bound = 1 / math.sqrt(weight.shape[0])
                weight.uniform_(-bound, bound)
            else:
                weight.zero_()

    def initialize_parameters(self, x_t: Tensor, *args: Any, **kwargs: Any) -> None:
        """Create a lazy one-to-one weight with the feature shape of ``x_t`` ``(N, *F)``."""
        weight = self.recurrent_weight
        if isinstance(weight, UninitializedParameter):
            with torch.no_grad():
                weight.materialize(tuple(x_t.shape[1:]))
            self.reset_parameters()

    def init_state(self, x_t: Tensor) -> RecurrentLIFState:
        """The resting state ``v = 0, s = 0`` shaped like ``x_t``."""
        self.initialize_parameters(x_t)
        if self.recurrent == "dense":
            assert self.size is not None
            (features,) = self.size
            if x_t.dim() == 0 or x_t.shape[-1] != features:
                raise ValueError(
                    f"RecurrentLIF(size={features}, recurrent='dense') expects features (N, "
                    f"{features}): the input's last dimension must be {features}, got shape "
                    f"{tuple(x_t.shape)}"
                )
            check_input(self, x_t, **self._hyper())
        else:
            check_input(self, x_t, recurrent_weight=self.recurrent_weight, **self._hyper())
        return RecurrentLIFState.zeros_like(x_t)

    def step(self, x_t: Tensor, state: RecurrentLIFState) -> tuple[Tensor, RecurrentLIFState]:
        """One step; see :func:`~spikingtorch_neurons.functional.recurrent_lif_step`."""
        return recurrent_lif_step(
            x_t,
            state,
            weight=self.recurrent_weight.to(device=x_t.device, dtype=x_t.dtype),
            recurrent=self.recurrent,
            **self._membrane_args(x_t),
        )

    def extra_repr(self) -> str:
        size = self.size
        return repr_args(
            size=None if size is None else (size[0] if self.recurrent == "dense" else size),
            recurrent=self.recurrent,
            tau=self.tau,
            decay=self.decay,
            threshold=self.threshold,
            reset=self.reset,
            surrogate=self.surrogate,
            input_scale=self.input_scale,
            detach_reset=self.detach_reset or None,
            learn_tau=(self._decay is None) or None,
            learn_threshold=isinstance(self.threshold, nn.Parameter) or None,
        )
