"""The integrate-and-fire neuron :class:`IF` (the seed tutorial's spiking layer)."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from spikingtorch.neuron import Neuron
from spikingtorch.surrogate import SurrogateFunction
from spikingtorch.surrogate import get as get_surrogate
from spikingtorch_neurons.functional import IFState, Param, check_reset, if_step

__all__ = ["IF"]


class IF(Neuron):
    """Integrate-and-fire neuron: sums its input and fires when the sum exceeds a threshold.

    For an input ``x_t`` of shape ``(N, *F)`` at each step (``N`` the batch, ``F`` the feature
    shape), with the reset ``r`` applied at the start of the step that follows a spike:

    .. math::

        v_t = r(v_{t-1}, s_{t-1}) + x_t, \\qquad s_t = H(v_t - \\theta)

    ``r(v, s)`` is ``(1 - s) v`` (``reset="zero"``), ``v - theta s`` (``"subtract"``) or ``v``
    (``"none"``); ``H`` spikes iff ``v_t > theta`` and back-propagates through ``surrogate``. The
    state is :class:`~spikingtorch_neurons.functional.IFState` ``(v_t, s_t)``, starting at
    zero; see :func:`~spikingtorch_neurons.functional.if_step`.

    Args:
        threshold: ``theta``, a float or a tensor broadcastable to ``F`` (per-neuron values).
        reset: ``"zero"``, ``"subtract"`` or ``"none"``.
        surrogate: a :class:`~spikingtorch.surrogate.SurrogateFunction` or a surrogate name.
        detach_reset: no gradient through the spike inside the reset.
        learn_threshold: make ``threshold`` a trainable ``nn.Parameter``.

    Shape:
        input ``(N, *F)``, output spikes ``(N, *F)`` in ``{0, 1}`` with the input's dtype.

    Example:
        >>> import torch
        >>> neuron = IF(threshold=1.0)
        >>> x = torch.full((1, 3), 0.6)
        >>> [neuron(x, init=(t == 0))[0, 0].item() for t in range(4)]
        [0.0, 1.0, 0.0, 1.0]
    """

    threshold: Param

    def __init__(
        self,
        threshold: Param = 1.0,
        reset: str = "zero",
        surrogate: SurrogateFunction | str = "sigmoid",
        detach_reset: bool = False,
        *,
        learn_threshold: bool = False,
    ) -> None:
        super().__init__()
        self.reset = check_reset(reset)
        self.surrogate = get_surrogate(surrogate)
        self.detach_reset = bool(detach_reset)
        _store(self, "threshold", _check_hyper("threshold", threshold), learn=learn_threshold)

    def init_state(self, x_t: Tensor) -> IFState:
        """The resting state ``v = 0, s = 0`` shaped like ``x_t`` ``(N, *F)``."""
        _check_input(self, x_t, threshold=self.threshold)
        return IFState.zeros_like(x_t)

    def step(self, x_t: Tensor, state: IFState) -> tuple[Tensor, IFState]:
        """One step; see :func:`~spikingtorch_neurons.functional.if_step`."""
        return if_step(
            x_t,
            state,
            threshold=_like(self.threshold, x_t),
            reset=self.reset,
            surrogate=self.surrogate,
            detach_reset=self.detach_reset,
        )

    def extra_repr(self) -> str:
        return _repr_args(
            threshold=self.threshold,
            reset=self.reset,
            surrogate=self.surrogate,
            detach_reset=self.detach_reset or None,
            learn_threshold=isinstance(self.threshold, nn.Parameter) or None,
        )


# -- helpers shared with the other neuron modules ---------------------------------------------


def _check_hyper(name: str, value: Any) -> Param:
    """Validate a hyper-parameter: a finite real number or a real tensor of finite values.

    Returns a float, or a floating tensor detached from the caller's (a copy).
    """
    if isinstance(value, Tensor):
        if value.dtype == torch.bool or value.is_complex():
            raise TypeError(f"{name} must be a real tensor, got dtype {value.dtype}")
        t = value.detach().clone()
        if not t.is_floating_point():
            t = t.to(torch.get_default_dtype())
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} must be finite, got {t}")
        return t
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float or a tensor, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def _store(module: nn.Module, name: str, value: Param, *, learn: bool) -> None:
    """Store a hyper-parameter: an ``nn.Parameter`` if learned, else a buffer or a float."""
    if learn:
        t = value if isinstance(value, Tensor) else torch.tensor(value)
        setattr(module, name, nn.Parameter(t))
    elif isinstance(value, Tensor):
        module.register_buffer(name, value)
    else:
        setattr(module, name, value)


def _like(p: Param, x: Tensor) -> Param:
    """``p`` on ``x``'s device with ``x``'s dtype (floats pass through: exact in any dtype)."""
    return p.to(device=x.device, dtype=x.dtype) if isinstance(p, Tensor) else p


def _check_input(module: nn.Module, x: Tensor, **params: Param | None) -> None:
    """Check that ``x`` is floating and that per-neuron ``params`` broadcast to its shape."""
    if not x.is_floating_point():
        raise TypeError(
            f"{type(module).__name__} expects a floating-point input, got dtype {x.dtype}"
        )
    for name, p in params.items():
        if not isinstance(p, Tensor):
            continue
        try:
            ok = torch.broadcast_shapes(p.shape, x.shape) == x.shape
        except RuntimeError:
            ok = False
        if not ok:
            raise ValueError(
                f"{type(module).__name__}: {name} of shape {tuple(p.shape)} does not "
                f"broadcast to the input shape {tuple(x.shape)}"
            )


def _fmt(value: Any) -> str:
    """Short form of a hyper-parameter: 4 significant digits, tensors by their shape."""
    if isinstance(value, Tensor):
        if value.dim() > 0:
            return f"tensor(shape={tuple(value.shape)})"
        value = value.item()
    if isinstance(value, float):
        text = format(value, ".4g")
        return text if any(c in text for c in ".ein") else text + ".0"
    return repr(value)


def _repr_args(**args: Any) -> str:
    """``name=value`` pairs for ``extra_repr``, leaving out ``None`` values."""
    return ", ".join(f"{k}={_fmt(v)}" for k, v in args.items() if v is not None)
