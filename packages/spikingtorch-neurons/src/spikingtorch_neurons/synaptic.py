"""The current-based (synaptic) leaky integrate-and-fire neuron :class:`SynapticLIF`."""

from __future__ import annotations

from torch import Tensor, nn

from spikingtorch.surrogate import SurrogateFunction
from spikingtorch_neurons._params import (
    check_input,
    check_shapes,
    fused_scan_applies,
    like,
    read_decay,
    repr_args,
    store_named_decay,
    tau_of,
)
from spikingtorch_neurons.functional import Param, SynapticLIFState, synaptic_lif_step
from spikingtorch_neurons.functional.scan_adaptive import synaptic_lif_scan
from spikingtorch_neurons.leaky import LeakyNeuron

__all__ = ["SynapticLIF"]

#: Membrane time constant when neither ``tau`` nor ``decay`` is given (as for :class:`LIF`).
DEFAULT_TAU = 8.0
#: Synaptic time constant when neither ``tau_syn`` nor ``syn_decay`` is given.
DEFAULT_TAU_SYN = 4.0


class SynapticLIF(LeakyNeuron):
    """Current-based (CUBA) leaky integrate-and-fire neuron: a leaky synaptic current drives
    a leaky membrane.

    For an input ``x_t`` of shape ``(N, *F)`` at each step (``N`` the batch, ``F`` the feature
    shape), with the reset ``r`` applied at the start of the step that follows a spike:

    .. math::

        i_t &= \\alpha\\, i_{t-1} + b\\, x_t \\\\
        v_t &= a\\, r(v_{t-1}, s_{t-1}) + i_t \\\\
        s_t &= H(v_t - \\theta)

    with ``alpha = exp(-1 / tau_syn)`` and ``a = exp(-1 / tau)``. ``r(v, s)`` is ``(1 - s) v``
    (``reset="zero"``), ``v - theta s`` (``"subtract"``, before the next decay) or ``v``
    (``"none"``); a spike does not reset the current. ``H`` spikes iff ``v_t > theta`` and
    back-propagates through ``surrogate``. The input is thus filtered twice (an alpha-shaped
    response to a pulse), as in snnTorch's ``Synaptic`` and Norse's ``LIFCell``. The state is
    :class:`~spikingtorch_neurons.functional.SynapticLIFState` ``(i_t, v_t, s_t)``, starting at
    zero; see :func:`~spikingtorch_neurons.functional.synaptic_lif_step`.

    Args:
        tau: membrane time constant in steps (``> 0``). Default 8.0 when ``decay`` is not given.
        decay: the membrane decay ``a`` in ``(0, 1]`` itself (give ``tau`` or ``decay``).
        tau_syn: synaptic time constant in steps (``> 0``). Default 4.0 when ``syn_decay`` is
            not given.
        syn_decay: the current decay ``alpha`` in ``(0, 1]`` itself.
        threshold: ``theta``.
        reset: ``"zero"``, ``"subtract"`` or ``"none"``.
        surrogate: a :class:`~spikingtorch.surrogate.SurrogateFunction` or a surrogate name.
        input_scale: ``b``; ``None`` (default) feeds the input unscaled (``b = 1``).
        learn_tau: train the membrane decay (stored as ``decay_logit``, ``a = sigmoid(logit)``,
            so it stays in ``(0, 1)``).
        learn_tau_syn: train the current decay (stored as ``syn_decay_logit``).
        learn_threshold: make ``threshold`` a trainable ``nn.Parameter``.
        detach_reset: no gradient through the spike inside the reset.

    ``tau``, ``decay``, ``tau_syn``, ``syn_decay``, ``threshold`` and ``input_scale`` may be
    floats or tensors broadcastable to ``F`` (per-neuron values).

    Shape:
        input ``(N, *F)``, output spikes ``(N, *F)`` in ``{0, 1}`` with the input's dtype.

    Raises:
        ValueError: both a time constant and its decay; a non-positive time constant; a decay
            outside ``(0, 1]``; a non-finite value; per-neuron tensors that cannot broadcast
            together; an unknown reset mode or surrogate name.
        TypeError: a hyper-parameter or surrogate of the wrong type.

    Example:
        >>> import torch
        >>> neuron = SynapticLIF(decay=0.9, syn_decay=0.9)
        >>> x = torch.tensor([0.7, 0.0, 0.0])  # one pulse, then silence (N = 1, F = 1)
        >>> [int(neuron(x_t.view(1, 1), init=(t == 0))) for t, x_t in enumerate(x)]
        [0, 1, 0]

        The current outlasts the pulse (``i = 0.7, 0.63``) and keeps charging the membrane
        (``v = 0.7, 1.26``); a LIF with the same decay would never fire (``v = 0.7, 0.63``).
    """

    def __init__(
        self,
        tau: Param | None = None,
        *,
        decay: Param | None = None,
        tau_syn: Param | None = None,
        syn_decay: Param | None = None,
        threshold: Param = 1.0,
        reset: str = "zero",
        surrogate: SurrogateFunction | str = "sigmoid",
        input_scale: Param | None = None,
        learn_tau: bool = False,
        learn_tau_syn: bool = False,
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
            "syn_decay",
            tau=tau_syn,
            decay=syn_decay,
            learn=learn_tau_syn,
            default_tau=DEFAULT_TAU_SYN,
            tau_name="tau_syn",
            learn_name="learn_tau_syn",
        )
        check_shapes(type(self).__name__, None, **self._hyper())

    def _hyper(self) -> dict[str, Param | None]:
        return {
            "decay": self.decay,
            "syn_decay": self.syn_decay,
            "threshold": self.threshold,
            "input_scale": self.input_scale,
        }

    @property
    def syn_decay(self) -> Param:
        """The current decay ``alpha`` per step (a tensor when learned or per-neuron)."""
        return read_decay(self, "syn_decay")

    @property
    def tau_syn(self) -> Param:
        """The synaptic time constant ``-1 / log(alpha)`` in steps (``inf`` at ``alpha = 1``)."""
        return tau_of(self.syn_decay)

    def init_state(self, x_t: Tensor) -> SynapticLIFState:
        """The resting state ``i = 0, v = 0, s = 0`` shaped like ``x_t`` ``(N, *F)``."""
        check_input(self, x_t, **self._hyper())
        return SynapticLIFState.zeros_like(x_t)

    def step(self, x_t: Tensor, state: SynapticLIFState) -> tuple[Tensor, SynapticLIFState]:
        """One step; see :func:`~spikingtorch_neurons.functional.synaptic_lif_step`."""
        return synaptic_lif_step(
            x_t,
            state,
            syn_decay=like(self.syn_decay, x_t),
            **self._membrane_args(x_t),
        )

    def scan(
        self, x_seq: Tensor, state: SynapticLIFState | None = None
    ) -> tuple[Tensor, SynapticLIFState]:
        """Run over a time-first sequence ``(T, N, *F)`` with the fused
        :func:`~spikingtorch_neurons.functional.scan_adaptive.synaptic_lif_scan` (equal to
        stepping).

        Returns ``(spikes (T, N, *F), SynapticLIFState)`` like :meth:`step`. A subclass that
        overrides :meth:`step` gets the default per-step loop instead.
        """
        if not fused_scan_applies(self, SynapticLIF, x_seq):
            return super().scan(x_seq, state)
        if state is None:
            state = self.init_state(x_seq[0])
        return synaptic_lif_scan(
            x_seq,
            state,
            syn_decay=like(self.syn_decay, x_seq),
            **self._membrane_args(x_seq),
        )

    def extra_repr(self) -> str:
        return repr_args(
            tau=self.tau,
            decay=self.decay,
            tau_syn=self.tau_syn,
            syn_decay=self.syn_decay,
            threshold=self.threshold,
            reset=self.reset,
            surrogate=self.surrogate,
            input_scale=self.input_scale,
            detach_reset=self.detach_reset or None,
            learn_tau=(self._decay is None) or None,
            learn_tau_syn=(self._syn_decay is None) or None,
            learn_threshold=isinstance(self.threshold, nn.Parameter) or None,
        )
