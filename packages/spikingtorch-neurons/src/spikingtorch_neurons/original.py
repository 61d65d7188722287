"""The original spikingtorch package's neuron models, reimplemented on the Neuron protocol.

* :class:`McPitts` — McCulloch-Pitts threshold unit (no memory).
* :class:`CoarseLIF` — coarse-scale LIF (Yanguas-Gil 2020), the original ``SpikingLayer``.
* :class:`BioLIF` — conductance-based LIF with excitatory and inhibitory inputs.
* :class:`SpikingDecay` — the original decay neuron, ``v_t = (1 - s_{t-1}) v_{t-1} / tau + x_t``.

The original package's constructor spellings (``v0``, ``beta``, ``thr``, ``nudt``) live on in
:mod:`spikingtorch.layers`. Fixed here, compared with the original: a spike is
``v > threshold`` (the original's sign-based step gave ``0.5`` at ``v == threshold``), and
``SpikingDecay`` returns the spikes of the current step (the original returned the previous
step's).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from spikingtorch.neuron import Neuron
from spikingtorch.surrogate import SurrogateFunction
from spikingtorch.surrogate import get as get_surrogate
from spikingtorch_neurons._params import (
    check_hyper,
    check_input,
    check_shapes,
    like,
    read_decay,
    repr_args,
    store,
    store_decay,
    tau_of,
)
from spikingtorch_neurons.functional import (
    BioLIFState,
    CoarseLIFState,
    McPittsState,
    Param,
    SpikingDecayState,
    biolif_step,
    check_reset,
    coarse_lif_coefficients,
    coarse_lif_step,
    mcpitts_step,
    spiking_decay_step,
    split_conductance,
)

__all__ = ["BioLIF", "CoarseLIF", "McPitts", "SpikingDecay"]

#: Default time constants (steps) when neither ``tau`` nor ``decay`` is given.
COARSE_LIF_TAU = 8.0
BIOLIF_TAU = 4.0  # the original BioLIF example's nudt = 0.25
SPIKING_DECAY_TAU = 2.0


def _is_learned(threshold: Param) -> bool | None:
    return isinstance(threshold, nn.Parameter) or None


def _check_leaky(owner: str, module: nn.Module) -> None:
    """A decay ``a`` equal to 1 (``tau = inf``) is meaningless for the coarse LIF and BioLIF."""
    a = read_decay(module, "decay")
    ok = bool((a < 1).all()) if isinstance(a, Tensor) else a < 1
    if not ok:
        raise ValueError(f"{owner} needs a decay strictly inside (0, 1) (a finite tau), got {a!r}")


class McPitts(Neuron):
    """McCulloch-Pitts threshold unit: fires whenever its input exceeds the threshold.

    .. math::

        s_t = H(x_t - \\theta)

    The unit has no memory; its state :class:`~spikingtorch_neurons.functional.McPittsState`
    ``(v_t, s_t)`` only records the last input (``v_t = x_t``) and spikes for read-out, so
    ``forward(x, init)``, ``reset_state()`` and ``detach_state()`` work as for any neuron and
    change nothing in the output. There is no reset. See
    :func:`~spikingtorch_neurons.functional.mcpitts_step`.

    Args:
        threshold: ``theta``, a float or a tensor broadcastable to ``F`` (per-neuron values).
        surrogate: a :class:`~spikingtorch.surrogate.SurrogateFunction` or a surrogate name.
        learn_threshold: make ``threshold`` a trainable ``nn.Parameter``.

    Shape:
        input ``(N, *F)``, output spikes ``(N, *F)`` in ``{0, 1}`` with the input's dtype.

    Example:
        >>> import torch
        >>> unit = McPitts(threshold=0.5)
        >>> unit(torch.tensor([[0.25, 0.5, 0.75]]))
        tensor([[0., 0., 1.]])
    """

    threshold: Param

    def __init__(
        self,
        threshold: Param = 1.0,
        surrogate: SurrogateFunction | str = "sigmoid",
        *,
        learn_threshold: bool = False,
    ) -> None:
        super().__init__()
        self.surrogate = get_surrogate(surrogate)
        store(self, "threshold", check_hyper("threshold", threshold), learn=learn_threshold)

    def init_state(self, x_t: Tensor) -> McPittsState:
        """An empty record (``v = 0, s = 0``) shaped like ``x_t`` ``(N, *F)``."""
        check_input(self, x_t, threshold=self.threshold)
        return McPittsState.zeros_like(x_t)

    def step(self, x_t: Tensor, state: McPittsState | None) -> tuple[Tensor, McPittsState]:
        """One step (``state`` is ignored); see
        :func:`~spikingtorch_neurons.functional.mcpitts_step`."""
        return mcpitts_step(
            x_t, state, threshold=like(self.threshold, x_t), surrogate=self.surrogate
        )

    def extra_repr(self) -> str:
        return repr_args(
            threshold=self.threshold,
            surrogate=self.surrogate,
            learn_threshold=_is_learned(self.threshold),
        )


class _Leaky(Neuron):
    """Shared parameter handling: a decay (``tau``/``decay``) and a threshold."""

    threshold: Param

    def _setup(
        self,
        *,
        tau: Param | None,
        decay: Param | None,
        default_tau: float,
        threshold: Param,
        surrogate: SurrogateFunction | str,
        learn_tau: bool,
        learn_threshold: bool,
        detach_reset: bool,
    ) -> None:
        self.surrogate = get_surrogate(surrogate)
        self.detach_reset = bool(detach_reset)
        store_decay(self, "decay", tau=tau, decay=decay, learn=learn_tau, default_tau=default_tau)
        store(self, "threshold", check_hyper("threshold", threshold), learn=learn_threshold)
        check_shapes(type(self).__name__, None, decay=self.decay, threshold=self.threshold)

    @property
    def decay(self) -> Param:
        """The decay factor ``a`` per step (a tensor when learned or per-neuron)."""
        return read_decay(self, "decay")

    @property
    def learn_tau(self) -> bool:
        """Whether the decay is trained (stored as ``decay_logit``, ``a = sigmoid(logit)``)."""
        return getattr(self, "_decay", None) is None

    def _check(self, x_t: Tensor) -> None:
        check_input(self, x_t, decay=self.decay, threshold=self.threshold)


class CoarseLIF(_Leaky):
    """Coarse-scale leaky integrate-and-fire neuron (Yanguas-Gil 2020; the original package's
    ``CoarseLIF`` / ``SpikingLayer``).

    For an input ``x_t`` of shape ``(N, *F)`` at each step:

    .. math::

        v_t = (1 - s_{t-1})\\,(a v_{t-1} + b x_t) + s_{t-1}\\, c\\, x_t, \\qquad
        s_t = H(v_t - \\theta)

    .. math::

        a = e^{-1/\\tau}, \\qquad b = \\tau (1 - a) = \\int_0^1 e^{-w/\\tau} dw, \\qquad
        c = \\tau (1 - b)

    Meaning: one step stands for a unit of continuous time of ``dv/dt = -v / tau + x`` with the
    input held constant. Without a spike, ``a`` is the leak over the step and ``b`` the exact
    weight of the input integrated over it. After a spike the membrane restarts from zero at a
    moment inside the next step that the coarse step does not resolve; taking it uniform over
    the step, the mean weight of the input integrated after the restart is
    ``int_0^1 int_u^1 e^{-(1-w)/tau} dw du = tau (1 - b) = c`` (about ``1/2`` for large
    ``tau``). The reset is therefore fixed (there is no ``reset`` argument). ``H`` spikes iff
    ``v_t > theta`` (the original's step gave ``1/2`` at equality) and back-propagates
    through ``surrogate``. The state is
    :class:`~spikingtorch_neurons.functional.CoarseLIFState` ``(v_t, s_t)``; see
    :func:`~spikingtorch_neurons.functional.coarse_lif_step`.

    Args:
        tau: membrane time constant in steps (``> 0``, finite); default 8.0 when ``decay`` is
            not given either.
        decay: ``a`` in ``(0, 1)`` itself (give ``tau`` or ``decay``).
        threshold: ``theta``.
        surrogate: a :class:`~spikingtorch.surrogate.SurrogateFunction` or a surrogate name.
        learn_tau: train ``a`` (stored as ``decay_logit``, ``a = sigmoid(decay_logit)``, so it
            stays in ``(0, 1)``); ``b`` and ``c`` follow it.
        learn_threshold: make ``threshold`` a trainable ``nn.Parameter``.
        detach_reset: no gradient through the previous step's spike.

    ``tau``, ``decay`` and ``threshold`` may be floats or tensors broadcastable to ``F``.

    Raises:
        ValueError: both ``tau`` and ``decay``; ``tau <= 0`` or infinite; ``decay`` outside
            ``(0, 1)``; non-broadcasting per-neuron shapes; an unknown surrogate name.
        TypeError: a hyper-parameter or surrogate of the wrong type.

    Example:
        >>> import torch
        >>> neuron = CoarseLIF(tau=4.0)
        >>> x = torch.full((1, 2), 0.5)
        >>> [neuron(x, init=(t == 0))[0, 0].item() for t in range(4)]  # v: .44, .79, 1.06, .23
        [0.0, 0.0, 1.0, 0.0]
        >>> neuron
        CoarseLIF(tau=4.0, decay=0.7788, threshold=1.0, surrogate=Sigmoid(slope=5.0))
    """

    def __init__(
        self,
        tau: Param | None = None,
        *,
        decay: Param | None = None,
        threshold: Param = 1.0,
        surrogate: SurrogateFunction | str = "sigmoid",
        learn_tau: bool = False,
        learn_threshold: bool = False,
        detach_reset: bool = False,
    ) -> None:
        super().__init__()
        self._setup(
            tau=tau,
            decay=decay,
            default_tau=COARSE_LIF_TAU,
            threshold=threshold,
            surrogate=surrogate,
            learn_tau=learn_tau,
            learn_threshold=learn_threshold,
            detach_reset=detach_reset,
        )
        _check_leaky(type(self).__name__, self)

    @property
    def tau(self) -> Param:
        """The time constant ``tau = -1 / log(a)`` in steps."""
        return tau_of(self.decay)

    @property
    def coefficients(self) -> tuple[Param, Param, Param]:
        """``(a, b, c)``: the leak, the input weight, the input weight after a spike."""
        a = self.decay
        return (a, *coarse_lif_coefficients(a))

    def init_state(self, x_t: Tensor) -> CoarseLIFState:
        """The resting state ``v = 0, s = 0`` shaped like ``x_t`` ``(N, *F)``."""
        self._check(x_t)
        return CoarseLIFState.zeros_like(x_t)

    def step(self, x_t: Tensor, state: CoarseLIFState) -> tuple[Tensor, CoarseLIFState]:
        """One step; see :func:`~spikingtorch_neurons.functional.coarse_lif_step`."""
        return coarse_lif_step(
            x_t,
            state,
            decay=like(self.decay, x_t),
            threshold=like(self.threshold, x_t),
            surrogate=self.surrogate,
            detach_reset=self.detach_reset,
        )

    def extra_repr(self) -> str:
        return repr_args(
            tau=self.tau,
            decay=self.decay,
            threshold=self.threshold,
            surrogate=self.surrogate,
            detach_reset=self.detach_reset or None,
            learn_tau=self.learn_tau or None,
            learn_threshold=_is_learned(self.threshold),
        )


class BioLIF(_Leaky):
    """Conductance-based LIF with an excitatory and an inhibitory input (the original package's
    ``BioLIF``).

    The inputs are conductances (in units of the leak conductance): an excitatory ``g^e_t``
    with reversal potential 1 and an inhibitory (shunting) ``g^i_t`` with reversal potential 0,
    the leak's. Held constant over a step, they make the membrane relax exponentially towards
    ``g^e / nu`` at the rate ``nu / tau``; the update is that relaxation's exact solution:

    .. math::

        \\nu_t = 1 + g^e_t + g^i_t, \\qquad a_t = a^{\\nu_t} = e^{-\\nu_t / \\tau}, \\qquad
        v_t = a_t\\, r(v_{t-1}, s_{t-1}) + (1 - a_t) \\frac{g^e_t}{\\nu_t}, \\qquad
        s_t = H(v_t - \\theta)

    so ``v`` stays in ``[0, 1)`` (with the default zero reset), and more input of either kind
    makes the neuron faster (input-dependent decay). ``r(v, s)`` is ``(1 - s) v``
    (``reset="zero"``, the original's), ``v - theta s`` (``"subtract"``) or ``v``
    (``"none"``); ``H`` spikes iff ``v_t > theta`` and back-propagates through ``surrogate``.
    ``tau`` is the original's ``1 / nudt``.

    Call it with two inputs, ``neuron(x_exc, x_inh, init=False)`` (the original's
    ``forward(xe, xi, init)``), or with one signed drive ``neuron(x, init=False)``, split as
    ``g^e = max(x, 0)``, ``g^i = max(-x, 0)``
    (:func:`~spikingtorch_neurons.functional.split_conductance`), which lets BioLIF replace any
    one-input neuron. For :meth:`step`, :meth:`init_state` and :meth:`scan` the input is the
    pair ``(x_exc, x_inh)`` or the one signed tensor. Conductances must be ``>= 0`` (they are
    not checked: ``nu <= 0`` gives non-finite values); the original kept its weights positive
    with a clipping optimizer.

    Args:
        tau: resting membrane time constant in steps (``> 0``, finite); default 4.0 when
            ``decay`` is not given either.
        decay: the resting decay ``a = exp(-1 / tau)`` in ``(0, 1)`` (give ``tau`` or
            ``decay``).
        threshold: ``theta`` (default 0.5, the original's; the membrane lies in ``[0, 1)``).
        reset: ``"zero"``, ``"subtract"`` or ``"none"``.
        surrogate: a :class:`~spikingtorch.surrogate.SurrogateFunction` or a surrogate name.
        learn_tau: train ``a`` (stored as ``decay_logit``, ``a = sigmoid(decay_logit)``).
        learn_threshold: make ``threshold`` a trainable ``nn.Parameter``.
        detach_reset: no gradient through the spike inside the reset.
        detach_decay: no gradient through ``a_t`` (the original detached it; the default here
            is the exact gradient). Incompatible with ``learn_tau``.

    Shape:
        inputs ``(N, *F)`` (both the same shape and dtype), output spikes ``(N, *F)``.

    Raises:
        ValueError: as :class:`CoarseLIF`, an unknown reset mode, ``learn_tau`` with
            ``detach_decay``; at the step, ``x_exc`` and ``x_inh`` of different shapes.
        TypeError: a hyper-parameter or surrogate of the wrong type; at the step, inputs of
            different dtypes.

    Example:
        >>> import torch
        >>> neuron = BioLIF(tau=4.0)
        >>> ge, gi = torch.full((1, 2), 3.0), torch.zeros(1, 2)
        >>> [neuron(ge, gi, init=(t == 0))[0, 0].item() for t in range(3)]  # v: .47, .65, .47
        [0.0, 1.0, 0.0]
        >>> neuron(torch.tensor([[3.0, -3.0]]), init=True)  # one signed drive
        tensor([[0., 0.]])
    """

    def __init__(
        self,
        tau: Param | None = None,
        *,
        decay: Param | None = None,
        threshold: Param = 0.5,
        reset: str = "zero",
        surrogate: SurrogateFunction | str = "sigmoid",
        learn_tau: bool = False,
        learn_threshold: bool = False,
        detach_reset: bool = False,
        detach_decay: bool = False,
    ) -> None:
        super().__init__()
        self.reset = check_reset(reset)
        if learn_tau and detach_decay:
            raise ValueError(
                "BioLIF: learn_tau needs the gradient through the decay; "
                "do not combine it with detach_decay=True"
            )
        self._setup(
            tau=tau,
            decay=decay,
            default_tau=BIOLIF_TAU,
            threshold=threshold,
            surrogate=surrogate,
            learn_tau=learn_tau,
            learn_threshold=learn_threshold,
            detach_reset=detach_reset,
        )
        _check_leaky(type(self).__name__, self)
        self.detach_decay = bool(detach_decay)

    @property
    def tau(self) -> Param:
        """The resting time constant ``tau = -1 / log(a)`` in steps."""
        return tau_of(self.decay)

    @staticmethod
    def _split(x_t: Tensor | tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        """``(g^e, g^i)`` from a pair or from one signed drive, checking the pair."""
        if isinstance(x_t, Tensor):
            return split_conductance(x_t)
        if not (isinstance(x_t, tuple) and len(x_t) == 2):
            raise TypeError(
                "BioLIF expects a tensor (one signed drive) or a pair (x_exc, x_inh), "
                f"got {type(x_t).__name__}"
            )
        x_exc, x_inh = x_t
        if not (isinstance(x_exc, Tensor) and isinstance(x_inh, Tensor)):
            raise TypeError("BioLIF: x_exc and x_inh must be tensors")
        if x_exc.shape != x_inh.shape:
            raise ValueError(
                f"BioLIF: x_exc of shape {tuple(x_exc.shape)} and x_inh of shape "
                f"{tuple(x_inh.shape)} differ"
            )
        if x_exc.dtype != x_inh.dtype:
            raise TypeError(f"BioLIF: x_exc is {x_exc.dtype} but x_inh is {x_inh.dtype}")
        return x_exc, x_inh

    def init_state(self, x_t: Tensor | tuple[Tensor, Tensor]) -> BioLIFState:
        """The resting state ``v = 0, s = 0`` shaped like the input ``(N, *F)``."""
        x_exc, _ = self._split(x_t)
        self._check(x_exc)
        return BioLIFState.zeros_like(x_exc)

    def step(
        self, x_t: Tensor | tuple[Tensor, Tensor], state: BioLIFState
    ) -> tuple[Tensor, BioLIFState]:
        """One step on ``(x_exc, x_inh)`` or one signed drive; see
        :func:`~spikingtorch_neurons.functional.biolif_step`."""
        x_exc, x_inh = self._split(x_t)
        return biolif_step(
            x_exc,
            x_inh,
            state,
            decay=like(self.decay, x_exc),
            threshold=like(self.threshold, x_exc),
            reset=self.reset,
            surrogate=self.surrogate,
            detach_reset=self.detach_reset,
            detach_decay=self.detach_decay,
        )

    def scan(self, x_seq: Tensor | tuple[Tensor, Tensor], state: Any = None) -> tuple[Tensor, Any]:
        """Run over a time-first sequence: ``(T, N, *F)`` signed drives or a pair of them."""
        if isinstance(x_seq, Tensor):
            return super().scan(x_seq, state)
        x_exc, x_inh = self._split(x_seq)
        if x_exc.dim() < 2 or x_exc.shape[0] == 0:
            raise ValueError(
                f"scan expects time-first inputs (T, N, *F) with T > 0, got shape "
                f"{tuple(x_exc.shape)}"
            )
        pairs = list(zip(x_exc.unbind(0), x_inh.unbind(0), strict=True))
        if state is None:
            state = self.init_state(pairs[0])
        out = []
        for pair in pairs:
            s, state = self.step(pair, state)
            out.append(s)
        return torch.stack(out, 0), state

    def forward(  # type: ignore[override]
        self,
        x_t: Tensor | tuple[Tensor, Tensor],
        x_inh: Tensor | bool | None = None,
        init: bool = False,
    ) -> Tensor:
        """Advance one step: ``neuron(x_exc, x_inh, init=False)`` or ``neuron(x, init=False)``.

        A boolean second argument is ``init`` (``neuron(x, True)``), as for other neurons.
        """
        if isinstance(x_inh, bool):
            init = init or x_inh
            x_inh = None
        inputs: Tensor | tuple[Tensor, Tensor]
        if x_inh is None:
            inputs = x_t
        elif isinstance(x_t, Tensor):
            inputs = (x_t, x_inh)
        else:
            raise TypeError("BioLIF: give either a pair (x_exc, x_inh) or two tensors, not both")
        x_exc = self._split(inputs)[0] if isinstance(inputs, tuple) else inputs
        state = self._state
        if (
            init
            or state is None
            or state.v.shape != x_exc.shape
            or state.v.dtype != x_exc.dtype
            or state.v.device != x_exc.device
        ):
            state = self.init_state(inputs)
        spikes, self._state = self.step(inputs, state)
        return spikes

    def extra_repr(self) -> str:
        return repr_args(
            tau=self.tau,
            decay=self.decay,
            threshold=self.threshold,
            reset=self.reset,
            surrogate=self.surrogate,
            detach_reset=self.detach_reset or None,
            detach_decay=self.detach_decay or None,
            learn_tau=self.learn_tau or None,
            learn_threshold=_is_learned(self.threshold),
        )


class SpikingDecay(_Leaky):
    """The original package's decay neuron: its membrane keeps ``1 / tau`` of itself per step.

    .. math::

        v_t = a\\, r(v_{t-1}, s_{t-1}) + x_t, \\qquad s_t = H(v_t - \\theta), \\qquad
        a = 1 / \\tau

    Note that ``tau`` here is the original's parameter, ``a = 1 / tau`` (so ``tau >= 1``), not
    the ``a = exp(-1 / tau)`` of :class:`~spikingtorch_neurons.LIF`; otherwise this is a LIF
    with an unscaled input. ``r(v, s)`` is ``(1 - s) v`` (``reset="zero"``, the original's),
    ``v - theta s`` (``"subtract"``) or ``v`` (``"none"``); ``H`` spikes iff ``v_t > theta``
    and back-propagates through ``surrogate``. Fixed, compared with the original: the neuron
    returns this step's spikes ``s_t`` (the original returned ``s_{t-1}``, one step late) and
    ``H(0) = 0`` (not ``1/2``). The state is
    :class:`~spikingtorch_neurons.functional.SpikingDecayState` ``(v_t, s_t)``; see
    :func:`~spikingtorch_neurons.functional.spiking_decay_step`.

    Args:
        tau: ``>= 1``; the decay is ``a = 1 / tau``. Default 2.0 when ``decay`` is not given.
        decay: ``a`` in ``(0, 1]`` itself (give ``tau`` or ``decay``).
        threshold: ``theta``.
        reset: ``"zero"``, ``"subtract"`` or ``"none"``.
        surrogate: a :class:`~spikingtorch.surrogate.SurrogateFunction` or a surrogate name.
        learn_tau: train ``a`` (stored as ``decay_logit``, ``a = sigmoid(decay_logit)``, so it
            stays in ``(0, 1)``); needs ``tau > 1``.
        learn_threshold: make ``threshold`` a trainable ``nn.Parameter``.
        detach_reset: no gradient through the spike inside the reset.

    Raises:
        ValueError: both ``tau`` and ``decay``; ``tau < 1``; ``decay`` outside ``(0, 1]``;
            non-broadcasting per-neuron shapes; an unknown reset mode or surrogate name.
        TypeError: a hyper-parameter or surrogate of the wrong type.

    Example:
        >>> import torch
        >>> neuron = SpikingDecay(tau=2.0)
        >>> x = torch.full((1, 2), 0.75)
        >>> [neuron(x, init=(t == 0))[0, 0].item() for t in range(3)]  # v: .75, 1.125, .75
        [0.0, 1.0, 0.0]
    """

    def __init__(
        self,
        tau: Param | None = None,
        *,
        decay: Param | None = None,
        threshold: Param = 1.0,
        reset: str = "zero",
        surrogate: SurrogateFunction | str = "sigmoid",
        learn_tau: bool = False,
        learn_threshold: bool = False,
        detach_reset: bool = False,
    ) -> None:
        super().__init__()
        self.reset = check_reset(reset)
        if tau is not None and decay is not None:
            raise ValueError(f"give tau or decay, not both (got tau={tau!r}, decay={decay!r})")
        if decay is None:
            t = check_hyper("tau", SPIKING_DECAY_TAU if tau is None else tau)
            ok = bool((t >= 1).all()) if isinstance(t, Tensor) else t >= 1
            if not ok:
                raise ValueError(
                    f"SpikingDecay: tau must be >= 1 (the decay 1/tau must lie in (0, 1]), "
                    f"got {t!r}"
                )
            decay = 1 / t
            if learn_tau and not (bool((t > 1).all()) if isinstance(t, Tensor) else t > 1):
                raise ValueError(f"SpikingDecay: learn_tau needs tau > 1, got {t!r}")
        self._setup(
            tau=None,
            decay=decay,
            default_tau=SPIKING_DECAY_TAU,
            threshold=threshold,
            surrogate=surrogate,
            learn_tau=learn_tau,
            learn_threshold=learn_threshold,
            detach_reset=detach_reset,
        )

    @property
    def tau(self) -> Param:
        """The original's time constant ``tau = 1 / a``."""
        return 1 / self.decay

    def init_state(self, x_t: Tensor) -> SpikingDecayState:
        """The resting state ``v = 0, s = 0`` shaped like ``x_t`` ``(N, *F)``."""
        self._check(x_t)
        return SpikingDecayState.zeros_like(x_t)

    def step(self, x_t: Tensor, state: SpikingDecayState) -> tuple[Tensor, SpikingDecayState]:
        """One step; see :func:`~spikingtorch_neurons.functional.spiking_decay_step`."""
        return spiking_decay_step(
            x_t,
            state,
            decay=like(self.decay, x_t),
            threshold=like(self.threshold, x_t),
            reset=self.reset,
            surrogate=self.surrogate,
            detach_reset=self.detach_reset,
        )

    def extra_repr(self) -> str:
        return repr_args(
            tau=self.tau,
            decay=self.decay,
            threshold=self.threshold,
            reset=self.reset,
            surrogate=self.surrogate,
            detach_reset=self.detach_reset or None,
            learn_tau=self.learn_tau or None,
            learn_threshold=_is_learned(self.threshold),
        )
