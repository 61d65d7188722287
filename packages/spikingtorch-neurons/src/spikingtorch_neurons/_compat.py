"""The original spikingtorch package's neuron spellings, published as :mod:`spikingtorch.layers`.

Each class here is a subclass of this package's model that accepts the original constructor
arguments, in the original positional order, keeps the original's defaults and semantics, and
issues a :class:`DeprecationWarning` naming the new spelling whenever an original-only argument
is used:

==============================  ==========================================================
original                        new
==============================  ==========================================================
``v0=...``, ``thr=...``         ``threshold=...``
``beta=k``                      ``surrogate=Sigmoid(slope=k)``
``BioLIF(nudt)``                ``BioLIF(tau=1 / nudt, detach_decay=True)``
``BioLIF(track_act=True)``      sum the returned spikes (``.act`` is still kept here)
==============================  ==========================================================

Semantics kept from the original, without a warning: ``LIF(tau=...)`` scales its input by
``b = tau (1 - a)`` (``input_scale``; the new :class:`~spikingtorch_neurons.LIF` feeds it
unscaled) while ``LIF(decay=...)`` has ``b = 1``; ``McPitts`` defaults to a sigmoid slope of 3;
``BioLIF`` detaches its input-dependent decay from the graph. The fixes of the new classes
apply (a spike is ``v > threshold``; ``SpikingDecay`` returns the current step's spikes).
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import torch
from torch import Tensor

from spikingtorch.surrogate import Sigmoid
from spikingtorch_neurons import integrate_fire, leaky, original
from spikingtorch_neurons._params import check_hyper, decay_from_tau, fmt

__all__ = ["IF", "LIF", "BioLIF", "CoarseLIF", "McPitts", "SpikingDecay", "SpikingLayer"]

# original name -> the new parameter it becomes
_RENAMED = {"v0": "threshold", "thr": "threshold", "beta": "surrogate", "nudt": "tau"}


def _show(value: Any) -> str:
    """A value as it would be written in the new spelling (tensors by their shape)."""
    return fmt(value) if isinstance(value, Tensor) else repr(value)


class _Original:
    """Mixin: the original constructor spellings, and the original's ``.v`` / ``.s`` read-out."""

    #: The original constructor's parameters in positional order, with new names where the
    #: meaning is the same (those never warn).
    _positional: ClassVar[tuple[str, ...]] = ()
    #: The new class, for messages.
    _new_name: ClassVar[str] = ""

    state: Any

    @classmethod
    def _translate(
        cls, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[dict[str, Any], list[str]]:
        """Bind ``args`` to the original order and rename original-only keywords.

        Returns the keyword arguments for the new class and the original-only ``name=value``
        pairs that were used (empty: no warning).
        """
        name = cls.__name__
        if len(args) > len(cls._positional):
            raise TypeError(
                f"spikingtorch.layers.{name}() takes at most {len(cls._positional)} positional "
                f"arguments ({', '.join(cls._positional)}), got {len(args)}"
            )
        given = dict(zip(cls._positional, args, strict=False))
        for key, value in kwargs.items():
            if key in given:
                raise TypeError(f"spikingtorch.layers.{name}() got multiple values for {key!r}")
            given[key] = value
        new: dict[str, Any] = {}
        used: list[str] = []
        for key, value in given.items():
            target = _RENAMED.get(key)
            if target is None or key not in cls._renames():
                new[key] = value
                continue
            used.append(f"{key}={_show(value)}")
            clash = [k for k in given if k != key and _RENAMED.get(k, k) == target]
            if target == "tau":
                clash += [k for k in ("decay",) if k in given]
            if clash:
                raise TypeError(
                    f"spikingtorch.layers.{name}(): give {key} (original spelling) or "
                    f"{clash[0]}, not both"
                )
            new[target] = _convert(key, value)
        return new, used

    @classmethod
    def _renames(cls) -> tuple[str, ...]:
        return ("v0", "beta")

    def _warn(self, used: list[str], new: dict[str, Any], extra: str = "") -> None:
        if not used:
            return
        spelled = ", ".join(f"{k}={_show(v)}" for k, v in new.items())
        warnings.warn(
            f"spikingtorch.layers.{type(self).__name__}({', '.join(used)}) uses the original "
            f"spikingtorch spelling, which is deprecated; write "
            f"spikingtorch_neurons.{self._new_name}({spelled}){extra}",
            DeprecationWarning,
            stacklevel=3,
        )

    @property
    def v(self) -> Tensor | None:
        """The membrane after the last step (the original's ``.v``), or ``None``."""
        return None if self.state is None else self.state.v

    @property
    def s(self) -> Tensor | None:
        """The spikes of the last step (the original's ``.s``), or ``None``."""
        return None if self.state is None else self.state.s


def _convert(key: str, value: Any) -> Any:
    """The new parameter's value for an original-only argument."""
    if key == "beta":
        try:
            return Sigmoid(slope=value)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"beta (the sigmoid slope) {str(exc).removeprefix('slope ')}") from None
    if key == "nudt":
        nudt = check_hyper("nudt", value)
        ok = bool((nudt > 0).all()) if isinstance(nudt, Tensor) else nudt > 0
        if not ok:
            raise ValueError(f"nudt (1 / tau) must be positive, got {nudt!r}")
        return 1 / nudt
    return value


class IF(_Original, integrate_fire.IF):
    """``IF(v0=1, beta=5)``: :class:`spikingtorch_neurons.IF` with the original spelling.

    ``v0`` is ``threshold`` and ``beta`` the slope of the ``Sigmoid`` surrogate; both warn.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     neuron = IF(v0=0.5, beta=3)
        >>> print(caught[0].message)  # doctest: +NORMALIZE_WHITESPACE
        spikingtorch.layers.IF(v0=0.5, beta=3) uses the original spikingtorch spelling, which is
        deprecated; write spikingtorch_neurons.IF(threshold=0.5, surrogate=Sigmoid(slope=3.0))
    """

    _positional = ("threshold", "beta")
    _new_name = "IF"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        new, used = self._translate(args, kwargs)
        super().__init__(**new)
        self._warn(used, new)


class LIF(_Original, leaky.LIF):
    """``LIF(tau=8, v0=1, beta=5, decay=None)`` with the original's semantics.

    With ``tau`` (default 8) the input is scaled by ``b = tau (1 - a)``, ``a = exp(-1/tau)``,
    as in the original: ``v_t = (1 - s_{t-1}) a v_{t-1} + b x_t``. With ``decay`` the input is
    unscaled (``b = 1``) and ``tau`` is ignored, as in the original. ``v0`` / ``beta`` warn with
    the new spelling, which for ``tau`` includes ``input_scale``. The input scale is fixed at
    construction (it does not follow a learned ``tau``).
    """

    _positional = ("tau", "v0", "beta", "decay")
    _new_name = "LIF"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        new, used = self._translate(args, kwargs)
        if new.get("decay") is None:
            new.pop("decay", None)
            tau = new.get("tau")
            tau = 8.0 if tau is None else tau
            new["tau"] = tau
            if new.get("input_scale") is None:
                t = check_hyper("tau", tau)
                a = decay_from_tau(t)
                new["input_scale"] = t * (1 - a)
        elif new.get("tau") is not None:
            warnings.warn(
                f"spikingtorch.layers.LIF: tau={_show(new['tau'])} is ignored when decay is "
                f"given (as in the original); write spikingtorch_neurons.LIF("
                f"decay={_show(new['decay'])})",
                DeprecationWarning,
                stacklevel=2,
            )
            del new["tau"]
        super().__init__(**new)
        self._warn(used, new)


class McPitts(_Original, original.McPitts):
    """``McPitts(thr, beta=3)``: :class:`spikingtorch_neurons.McPitts` with the original spelling.

    ``thr`` is ``threshold``; the surrogate defaults to ``Sigmoid(slope=3)``, the original's.
    """

    _positional = ("threshold", "beta")
    _new_name = "McPitts"

    @classmethod
    def _renames(cls) -> tuple[str, ...]:
        return ("thr", "beta")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        new, used = self._translate(args, kwargs)
        new.setdefault("surrogate", Sigmoid(slope=3.0))
        super().__init__(**new)
        self._warn(used, new)


class CoarseLIF(_Original, original.CoarseLIF):
    """``CoarseLIF(tau, v0=1, beta=5)``: :class:`spikingtorch_neurons.CoarseLIF`, original
    spelling (also available as ``SpikingLayer``, its older name)."""

    _positional = ("tau", "v0", "beta")
    _new_name = "CoarseLIF"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        new, used = self._translate(args, kwargs)
        super().__init__(**new)
        self._warn(used, new)


#: The original package's older name of the coarse-scale LIF.
SpikingLayer = CoarseLIF


class SpikingDecay(_Original, original.SpikingDecay):
    """``SpikingDecay(tau, v0=1, beta=5)``: :class:`spikingtorch_neurons.SpikingDecay`,
    original spelling. It returns the current step's spikes (the original's were one step
    late)."""

    _positional = ("tau", "v0", "beta")
    _new_name = "SpikingDecay"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        new, used = self._translate(args, kwargs)
        super().__init__(**new)
        self._warn(used, new)


class BioLIF(_Original, original.BioLIF):
    """``BioLIF(nudt, v0=0.5, beta=5, track_act=False)``: :class:`spikingtorch_neurons.BioLIF`
    with the original spelling and its detached decay.

    ``nudt`` is ``1 / tau``. With ``track_act=True`` the attribute ``act`` counts the spikes
    of the current sequence (detached from the graph).
    """

    _positional = ("nudt", "v0", "beta", "track_act")
    _new_name = "BioLIF"

    @classmethod
    def _renames(cls) -> tuple[str, ...]:
        return ("nudt", "v0", "beta")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        new, used = self._translate(args, kwargs)
        track = new.pop("track_act", None)
        if track is not None:
            used.append(f"track_act={track!r}")
        new.setdefault("detach_decay", not new.get("learn_tau", False))
        super().__init__(**new)
        self.track_act = bool(track)
        self.act: Tensor | None = None
        extra = "; sum the returned spikes instead of track_act" if track is not None else ""
        self._warn(used, new, extra)

    def init_state(self, x_t: Tensor | tuple[Tensor, Tensor]) -> original.BioLIFState:
        state = super().init_state(x_t)
        if self.track_act:
            self.act = torch.zeros_like(state.v)
        return state

    def forward(  # type: ignore[override]
        self,
        x_t: Tensor | tuple[Tensor, Tensor],
        x_inh: Tensor | bool | None = None,
        init: bool = False,
    ) -> Tensor:
        spikes = super().forward(x_t, x_inh, init)
        if self.track_act and self.act is not None:
            self.act = self.act + spikes.detach()
        return spikes
