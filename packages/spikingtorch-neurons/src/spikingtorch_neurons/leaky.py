"""The leaky integrate-and-fire neuron :class:`LIF`."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from spikingtorch.neuron import Neuron
from spikingtorch.surrogate import SurrogateFunction
from spikingtorch.surrogate import get as get_surrogate
from spikingtorch_neurons._params import (
    check_hyper,
    check_input,
    check_shapes,
    fused_scan,
    fused_scan_applies,
    like,
    merged_kernel,
    read_decay,
    repr_args,
    store,
    store_decay,
    tau_of,
)
from spikingtorch_neurons.functional import LIFState, Param, check_reset
from spikingtorch_neurons.functional.fused_step import lif_step_fused

__all__ = ["LIF", "LeakyNeuron"]

#: The time constant used when neither ``tau`` nor ``decay`` is given (the original package's).
DEFAULT_TAU = 8.0


class LeakyNeuron(Neuron):
    """Shared base of the leaky integrate-and-fire family (LIF, ALIF, synaptic, recurrent).

    It holds what these models have in common — the reset mode, the surrogate, the membrane
    decay ``a`` (from ``tau`` or ``decay``, learnable through its logit), the threshold
    ``theta`` and the optional input scale ``b`` — so each model adds only its own state and
    step. Subclasses call :meth:`_init_membrane` from their constructor.
    """

    threshold: Param
    input_scale: Param | None

    def _init_membrane(
        self,
        *,
        tau: Param | None,
        decay: Param | None,
        threshold: Param,
        reset: str,
        surrogate: SurrogateFunction | str,
        input_scale: Param | None,
        learn_tau: bool,
        learn_threshold: bool,
        detach_reset: bool,
    ) -> None:
        """Validate and store the shared parameters (see the subclasses' Args)."""
        self.reset = check_reset(reset)
        self.surrogate = get_surrogate(surrogate)
        self.detach_reset = bool(detach_reset)
        store_decay(self, "decay", tau=tau, decay=decay, learn=learn_tau, default_tau=DEFAULT_TAU)
        store(self, "threshold", check_hyper("threshold", threshold), learn=learn_threshold)
        if input_scale is None:
            self.input_scale = None
        else:
            store(self, "input_scale", check_hyper("input_scale", input_scale), learn=False)

    def _membrane_args(self, x: Tensor) -> dict[str, Any]:
        """Keyword arguments every LIF-family step function takes, cast like ``x``.

        ``decay``, ``threshold`` and ``input_scale`` follow ``x``'s device and dtype; ``reset``,
        ``surrogate`` and ``detach_reset`` are passed as stored.
        """
        b = self.input_scale
        return {
            "decay": like(self.decay, x),
            "threshold": like(self.threshold, x),
            "input_scale": None if b is None else like(b, x),
            "reset": self.reset,
            "surrogate": self.surrogate,
            "detach_reset": self.detach_reset,
        }

    @property
    def decay(self) -> Param:
        """The decay factor ``a`` per step (a tensor when learned or per-neuron)."""
        return read_decay(self, "decay")

    @property
    def tau(self) -> Param:
        """The time constant ``tau = -1 / log(a)`` in steps (``inf`` when ``a = 1``)."""
        return tau_of(self.decay)


class LIF(LeakyNeuron):
    """Leaky integrate-and-fire neuron.

    For an input ``x_t`` of shape ``(N, *F)`` at each step (``N`` the batch, ``F`` the feature
    shape), with the reset ``r`` applied at the start of the step that follows a spike:

    .. math::

        v_t = a\\, r(v_{t-1}, s_{t-1}) + b\\, x_t, \\qquad s_t = H(v_t - \\theta),
        \\qquad a = e^{-1/\\tau}

    ``r(v, s)`` is ``(1 - s) v`` (``reset="zero"``, the seed's
    ``v_t = (1 - s_{t-1}) a v_{t-1} + b x_t``), ``v - theta s`` (``"subtract"``, before the
    next decay) or ``v`` (``"none"``); ``H`` spikes iff ``v_t > theta`` and back-propagates
    through ``surrogate``. The state is :class:`~spikingtorch_neurons.functional.LIFState`
    ``(v_t, s_t)``, starting at zero; see :func:`~spikingtorch_neurons.functional.lif_step`.

    Args:
        tau: membrane time constant in steps (``> 0``); ``a = exp(-1 / tau)``. Default 8.0
            when ``decay`` is not given either.
        decay: the decay factor ``a`` in ``(0, 1]`` itself (give ``tau`` or ``decay``).
        threshold: ``theta``, any finite value.
        reset: ``"zero"``, ``"subtract"`` or ``"none"``.
        surrogate: a :class:`~spikingtorch.surrogate.SurrogateFunction` or a surrogate name.
        input_scale: ``b``; ``None`` (default) feeds the input unscaled (``b = 1``).
        learn_tau: train the decay; it is stored as ``decay_logit`` with
            ``a = sigmoid(decay_logit)``, so it stays in ``(0, 1)`` whatever the gradient step.
        learn_threshold: make ``threshold`` a trainable ``nn.Parameter``.
        detach_reset: no gradient through the spike inside the reset.

    ``tau``, ``decay``, ``threshold`` and ``input_scale`` may be floats or tensors broadcastable
    to ``F`` (per-neuron values; e.g. ``(C, 1, 1)`` per channel of ``(N, C, H, W)`` maps).

    Shape:
        input ``(N, *F)``, output spikes ``(N, *F)`` in ``{0, 1}`` with the input's dtype.

    Raises:
        ValueError: both ``tau`` and ``decay``; ``tau <= 0``; ``decay`` outside ``(0, 1]``;
            a non-finite value; an unknown reset mode or surrogate name.
        TypeError: a hyper-parameter or surrogate of the wrong type.

    Example:
        >>> import torch
        >>> neuron = LIF(decay=0.5)
        >>> x = torch.full((1, 2), 0.6)
        >>> [neuron(x, init=(t == 0))[0, 0].item() for t in range(4)]  # v: .6, .9, 1.05, .6
        [0.0, 0.0, 1.0, 0.0]
        >>> LIF(tau=10.0, reset="subtract")
        LIF(tau=10.0, decay=0.9048, threshold=1.0, reset='subtract', surrogate=Sigmoid(slope=5.0))
    """

    def __init__(
        self,
        tau: Param | None = None,
        *,
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
        check_shapes(
            type(self).__name__,
            None,
            decay=self._decay,
            threshold=self.threshold,
            input_scale=self.input_scale,
        )

    def init_state(self, x_t: Tensor) -> LIFState:
        """The resting state ``v = 0, s = 0`` shaped like ``x_t`` ``(N, *F)``."""
        check_input(
            self, x_t, decay=self.decay, threshold=self.threshold, input_scale=self.input_scale
        )
        return LIFState.zeros_like(x_t)

    def step(self, x_t: Tensor, state: LIFState) -> tuple[Tensor, LIFState]:
        """One step; see :func:`~spikingtorch_neurons.functional.lif_step`.

        Runs as one autograd node in float32/float64 outside ``torch.compile`` (same
        results; see :func:`~spikingtorch_neurons.functional.fused_step.lif_step_fused`).
        """
        return lif_step_fused(x_t, state, **self._membrane_args(x_t))

    def scan(self, x_seq: Tensor, state: LIFState | None = None) -> tuple[Tensor, LIFState]:
        """Run over a time-first sequence ``(T, N, *F)`` with the fused
        :func:`~spikingtorch_neurons.functional.scan.lif_scan` (equal to stepping).

        A subclass that overrides :meth:`step` gets the default per-step loop instead.
        """
        if not fused_scan_applies(self, LIF, x_seq):
            return super().scan(x_seq, state)
        return fused_scan(
            self,
            x_seq,
            state,
            None,
            state_type=LIFState,
            threshold=self.threshold,
            decay=self.decay,
            input_scale=self.input_scale,
        )

    def scan_merged(
        self, x: Tensor, n_steps: int, state: LIFState | None = None
    ) -> tuple[Tensor, LIFState]:
        """:meth:`scan` on sequence mode's time-merged ``(T*N, *F)`` (see
        :meth:`spikingtorch.Neuron.scan_merged`): the same fused scan, without reshapes."""
        done = merged_kernel(self, LIF, x, n_steps, state, LIFState, "_decay", scaled=True)
        if done is not None:
            return done
        if type(self).scan is not LIF.scan or not fused_scan_applies(self, LIF, x):
            return super().scan_merged(x, n_steps, state)  # through this class's own scan
        return fused_scan(
            self,
            x,
            state,
            n_steps,
            state_type=LIFState,
            threshold=self.threshold,
            decay=self.decay,
            input_scale=self.input_scale,
        )

    def extra_repr(self) -> str:
        learned = self._decay is None
        return repr_args(
            tau=self.tau,
            decay=self.decay,
            threshold=self.threshold,
            reset=self.reset,
            surrogate=self.surrogate,
            input_scale=self.input_scale,
            detach_reset=self.detach_reset or None,
            learn_tau=learned or None,
            learn_threshold=isinstance(self.threshold, nn.Parameter) or None,
        )
