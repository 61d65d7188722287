"""The adaptive leaky integrate-and-fire neuron :class:`AdaptiveLIF` (threshold adaptation)."""

from __future__ import annotations

from torch import Tensor, nn

from spikingtorch.surrogate import SurrogateFunction
from spikingtorch_neurons._params import (
    check_hyper,
    check_input,
    check_non_negative,
    check_shapes,
    fused_scan_applies,
    like,
    read_decay,
    repr_args,
    store,
    store_named_decay,
    tau_of,
)
from spikingtorch_neurons.functional import ALIFState, Param, alif_step
from spikingtorch_neurons.functional.scan_adaptive import alif_scan
from spikingtorch_neurons.leaky import LeakyNeuron

__all__ = ["AdaptiveLIF"]

#: Membrane time constant when neither ``tau`` nor ``decay`` is given (as for :class:`LIF`).
DEFAULT_TAU = 8.0
#: Adaptation time constant when neither ``tau_adapt`` nor ``adapt_decay`` is given.
DEFAULT_TAU_ADAPT = 100.0


class AdaptiveLIF(LeakyNeuron):
    """Adaptive leaky integrate-and-fire neuron: every spike raises its own threshold.

    The threshold adaptation of Bellec et al. (2018, "Long short-term memory and
    learning-to-learn in networks of spiking neurons", the LSNN's ALIF). For an input ``x_t``
    of shape ``(N, *F)`` at each step (``N`` the batch, ``F`` the feature shape), with the
    previous spike ``s_{t-1}`` applied at the start of step ``t``:

    .. math::

        w_t &= \\rho\\, w_{t-1} + s_{t-1} \\\\
        \\theta_t &= \\theta_0 + \\beta\\, w_t \\\\
        v_t &= a\\, r(v_{t-1}, s_{t-1}) + b\\, x_t \\\\
        s_t &= H(v_t - \\theta_t)

    with ``a = exp(-1 / tau)`` and ``rho = exp(-1 / tau_adapt)``. ``r(v, s)`` is ``(1 - s) v``
    (``reset="zero"``), ``v - theta_{t-1} s`` (``"subtract"``: the effective threshold the
    spike crossed) or ``v`` (``"none"``); ``H`` spikes iff ``v_t > theta_t`` and
    back-propagates through ``surrogate``, also along the adaptation path. Because the
    adaptation decays slowly (``tau_adapt`` of tens to hundreds of steps), it keeps a memory of
    past activity far beyond the membrane time constant. Bellec et al. scale the increment by
    ``1 - rho``; their ``beta`` is this ``beta / (1 - rho)``. The state is
    :class:`~spikingtorch_neurons.functional.ALIFState` ``(v_t, s_t, w_t)``, starting at zero;
    see :func:`~spikingtorch_neurons.functional.alif_step`.

    Args:
        tau: membrane time constant in steps (``> 0``). Default 8.0 when ``decay`` is not given.
        decay: the membrane decay ``a`` in ``(0, 1]`` itself (give ``tau`` or ``decay``).
        tau_adapt: adaptation time constant in steps (``> 0``). Default 100.0 when
            ``adapt_decay`` is not given.
        adapt_decay: the adaptation decay ``rho`` in ``(0, 1]`` itself.
        adapt_strength: ``beta >= 0``, the threshold raise per spike (default 0.1); ``0`` gives
            a :class:`~spikingtorch_neurons.LIF`.
        threshold: the baseline threshold ``theta_0``.
        reset: ``"zero"``, ``"subtract"`` or ``"none"``.
        surrogate: a :class:`~spikingtorch.surrogate.SurrogateFunction` or a surrogate name.
        input_scale: ``b``; ``None`` (default) feeds the input unscaled (``b = 1``).
        learn_tau: train the membrane decay (stored as ``decay_logit``, ``a = sigmoid(logit)``,
            so it stays in ``(0, 1)``).
        learn_tau_adapt: train the adaptation decay (stored as ``adapt_decay_logit``).
        learn_threshold: make ``threshold`` (``theta_0``) a trainable ``nn.Parameter``.
        detach_reset: no gradient through the spike inside the reset.

    ``tau``, ``decay``, ``tau_adapt``, ``adapt_decay``, ``adapt_strength``, ``threshold`` and
    ``input_scale`` may be floats or tensors broadcastable to ``F`` (per-neuron values).

    Shape:
        input ``(N, *F)``, output spikes ``(N, *F)`` in ``{0, 1}`` with the input's dtype.

    Raises:
        ValueError: both a time constant and its decay; a non-positive time constant; a decay
            outside ``(0, 1]``; ``adapt_strength < 0``; a non-finite value; per-neuron tensors
            that cannot broadcast together; an unknown reset mode or surrogate name.
        TypeError: a hyper-parameter or surrogate of the wrong type.

    Example:
        >>> import torch
        >>> neuron = AdaptiveLIF(decay=0.5, adapt_decay=0.5, adapt_strength=0.5)
        >>> x = torch.full((1, 2), 0.6)
        >>> [int(neuron(x, init=(t == 0))[0, 0]) for t in range(8)]  # a LIF fires every 3rd
        [0, 0, 1, 0, 0, 0, 1, 0]
        >>> neuron.effective_threshold[0, 0].item()  # theta_0 + beta * w_t at the last step
        1.53125
    """

    adapt_strength: Param

    def __init__(
        self,
        tau: Param | None = None,
        *,
        decay: Param | None = None,
        tau_adapt: Param | None = None,
        adapt_decay: Param | None = None,
        adapt_strength: Param = 0.1,
        threshold: Param = 1.0,
        reset: str = "zero",
        surrogate: SurrogateFunction | str = "sigmoid",
        input_scale: Param | None = None,
        learn_tau: bool = False,
        learn_tau_adapt: bool = False,
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
        store_named_decay(
            self,
            "adapt_decay",
            tau=tau_adapt,
            decay=adapt_decay,
            learn=learn_tau_adapt,
            default_tau=DEFAULT_TAU_ADAPT,
            tau_name="tau_adapt",
            learn_name="learn_tau_adapt",
        )
        beta = check_non_negative("adapt_strength", check_hyper("adapt_strength", adapt_strength))
        store(self, "adapt_strength", beta, learn=False)
        check_shapes(type(self).__name__, None, **self._hyper())

    def _hyper(self) -> dict[str, Param | None]:
        return {
            "decay": self.decay,
            "adapt_decay": self.adapt_decay,
            "adapt_strength": self.adapt_strength,
            "threshold": self.threshold,
            "input_scale": self.input_scale,
        }

    @property
    def adapt_decay(self) -> Param:
        """The adaptation decay ``rho`` per step (a tensor when learned or per-neuron)."""
        return read_decay(self, "adapt_decay")

    @property
    def tau_adapt(self) -> Param:
        """The adaptation time constant ``-1 / log(rho)`` in steps (``inf`` at ``rho = 1``)."""
        return tau_of(self.adapt_decay)

    @property
    def effective_threshold(self) -> Tensor | None:
        """``theta_t = theta_0 + beta w_t`` of the last step, shape ``(N, *F)``; ``None``
        before the first step."""
        state = self.state
        if state is None:
            return None
        w = state.w
        return like(self.threshold, w) + like(self.adapt_strength, w) * w

    def init_state(self, x_t: Tensor) -> ALIFState:
        """The resting state ``v = 0, s = 0, w = 0`` shaped like ``x_t`` ``(N, *F)``."""
        check_input(self, x_t, **self._hyper())
        return ALIFState.zeros_like(x_t)

    def step(self, x_t: Tensor, state: ALIFState) -> tuple[Tensor, ALIFState]:
        """One step; see :func:`~spikingtorch_neurons.functional.alif_step`."""
        return alif_step(
            x_t,
            state,
            adapt_decay=like(self.adapt_decay, x_t),
            adapt_strength=like(self.adapt_strength, x_t),
            **self._membrane_args(x_t),
        )

    def scan(self, x_seq: Tensor, state: ALIFState | None = None) -> tuple[Tensor, ALIFState]:
        """Run over a time-first sequence ``(T, N, *F)`` with the fused
        :func:`~spikingtorch_neurons.functional.scan_adaptive.alif_scan` (equal to stepping).

        Returns ``(spikes (T, N, *F), ALIFState)`` like :meth:`step`. A subclass that overrides
        :meth:`step` gets the default per-step loop instead.
        """
        if not fused_scan_applies(self, AdaptiveLIF, x_seq):
            return super().scan(x_seq, state)
        if state is None:
            state = self.init_state(x_seq[0])
        return alif_scan(
            x_seq,
            state,
            adapt_decay=like(self.adapt_decay, x_seq),
            adapt_strength=like(self.adapt_strength, x_seq),
            **self._membrane_args(x_seq),
        )

    def extra_repr(self) -> str:
        return repr_args(
            tau=self.tau,
            decay=self.decay,
            tau_adapt=self.tau_adapt,
            adapt_decay=self.adapt_decay,
            adapt_strength=self.adapt_strength,
            threshold=self.threshold,
            reset=self.reset,
            surrogate=self.surrogate,
            input_scale=self.input_scale,
            detach_reset=self.detach_reset or None,
            learn_tau=(self._decay is None) or None,
            learn_tau_adapt=(self._adapt_decay is None) or None,
            learn_threshold=isinstance(self.threshold, nn.Parameter) or None,
        )
