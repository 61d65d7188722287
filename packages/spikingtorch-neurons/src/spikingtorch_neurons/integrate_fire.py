"""The integrate-and-fire neuron :class:`IF` (the seed tutorial's spiking layer)."""

from __future__ import annotations

from torch import Tensor, nn

from spikingtorch.neuron import Neuron
from spikingtorch.surrogate import SurrogateFunction
from spikingtorch.surrogate import get as get_surrogate
from spikingtorch_neurons._params import (
    check_hyper,
    check_input,
    fused_scan,
    fused_scan_applies,
    like,
    merged_kernel,
    repr_args,
    store,
)
from spikingtorch_neurons.functional import IFState, Param, check_reset
from spikingtorch_neurons.functional.fused_step import if_step_fused

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
        store(self, "threshold", check_hyper("threshold", threshold), learn=learn_threshold)

    def init_state(self, x_t: Tensor) -> IFState:
        """The resting state ``v = 0, s = 0`` shaped like ``x_t`` ``(N, *F)``."""
        check_input(self, x_t, threshold=self.threshold)
        return IFState.zeros_like(x_t)

    def step(self, x_t: Tensor, state: IFState) -> tuple[Tensor, IFState]:
        """One step; see :func:`~spikingtorch_neurons.functional.if_step`.

        Runs as one autograd node in float32/float64 outside ``torch.compile`` (same
        results; see :func:`~spikingtorch_neurons.functional.fused_step.if_step_fused`).
        """
        return if_step_fused(
            x_t,
            state,
            threshold=like(self.threshold, x_t),
            reset=self.reset,
            surrogate=self.surrogate,
            detach_reset=self.detach_reset,
        )

    def scan(self, x_seq: Tensor, state: IFState | None = None) -> tuple[Tensor, IFState]:
        """Run over a time-first sequence ``(T, N, *F)`` with the fused
        :func:`~spikingtorch_neurons.functional.scan.if_scan` (equal to stepping).

        A subclass that overrides :meth:`step` gets the default per-step loop instead.
        """
        if not fused_scan_applies(self, IF, x_seq):
            return super().scan(x_seq, state)
        return fused_scan(self, x_seq, state, None, state_type=IFState, threshold=self.threshold)

    def scan_merged(
        self, x: Tensor, n_steps: int, state: IFState | None = None
    ) -> tuple[Tensor, IFState]:
        """:meth:`scan` on sequence mode's time-merged ``(T*N, *F)`` (see
        :meth:`spikingtorch.Neuron.scan_merged`): the same fused scan, without reshapes."""
        done = merged_kernel(self, IF, x, n_steps, state, IFState)
        if done is not None:
            return done
        if type(self).scan is not IF.scan or not fused_scan_applies(self, IF, x):
            return super().scan_merged(x, n_steps, state)  # through this class's own scan
        return fused_scan(self, x, state, n_steps, state_type=IFState, threshold=self.threshold)

    def extra_repr(self) -> str:
        return repr_args(
            threshold=self.threshold,
            reset=self.reset,
            surrogate=self.surrogate,
            detach_reset=self.detach_reset or None,
            learn_threshold=isinstance(self.threshold, nn.Parameter) or None,
        )
