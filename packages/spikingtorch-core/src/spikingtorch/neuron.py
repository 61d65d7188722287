"""The spiking-neuron base class and the state-reset protocol.

A spiking neuron is a recurrent cell: at each time step ``t`` it takes an input current
``x_t`` of shape ``(N, *F)`` (``N`` the batch, ``F`` the feature shape) and a state (membrane
potential, last spikes, ...) and returns spikes of the same shape and a new state. spikingtorch
splits a neuron in three layers, as norse does:

* a pure step function in a plugin's ``functional.py`` (the math, no hidden state);
* :meth:`Neuron.step` / :meth:`Neuron.init_state` that call it with the module's parameters;
* :meth:`Neuron.forward` ``(x_t, init=False)``, the seed tutorial's contract, which keeps the
  state inside the module so that user networks stay ordinary ``nn.Module`` code.

The state is (re)initialised when ``init`` is true, when there is none yet, or when the input's
shape, device or dtype differs from the stored state's; a new sequence therefore always starts
fresh, whether or not the caller remembered to reset.

The *state-reset protocol* is two methods any module may implement: ``reset_state()`` (forget
the state) and ``detach_state()`` (keep its value, cut its autograd history, for truncated
back-propagation through time). :func:`reset_states` and :func:`detach_states` apply them to
every submodule of a network.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeGuard, runtime_checkable

import torch
from torch import Tensor, nn

__all__ = [
    "Neuron",
    "StatefulModule",
    "detach_states",
    "is_stateful",
    "reset_states",
]


@runtime_checkable
class StatefulModule(Protocol):
    """Anything that keeps state across time steps and can forget or detach it."""

    def reset_state(self) -> None:
        """Forget the state; the next step starts a new sequence."""

    def detach_state(self) -> None:
        """Keep the state's value but cut its autograd history."""


def is_stateful(module: Any) -> TypeGuard[StatefulModule]:
    """Whether ``module`` is a :class:`StatefulModule` (has ``reset_state`` and
    ``detach_state``): the protocol's ``isinstance`` check, without its cost (this runs for
    every submodule on every sequence)."""
    return callable(getattr(module, "reset_state", None)) and callable(
        getattr(module, "detach_state", None)
    )


class Neuron(nn.Module):
    """Base class of spiking neurons.

    Subclasses implement :meth:`init_state` and :meth:`step` (and may override :meth:`scan`
    with a fused sequence kernel, and :meth:`scan_merged` to run it on the merged layout
    directly). Calling the module advances one time step; inside a
    :class:`~spikingtorch.SpikingNet` in ``mode="sequence"`` the call instead receives the
    time-merged batch ``(T*N, *F)`` (time-major), runs :meth:`scan_merged` (by default
    :meth:`scan` on the ``(T, N, *F)`` view) from rest and keeps the state after the last
    step, copied where it views a larger tensor (so that it does not keep the whole spike
    sequence alive). Subclasses that override ``forward`` cannot run in sequence mode
    (``SpikingNet`` refuses them).

    Args (of ``forward``):
        x_t: input current of shape ``(N, *F)``.
        init: when true, start a new sequence (re-initialise the state) before this step.

    Returns:
        Spikes of shape ``(N, *F)`` with ``x_t``'s dtype, values in ``{0, 1}``.

    Example:
        >>> import torch
        >>> class Counter(Neuron):  # spikes every second step of constant input 0.6
        ...     def init_state(self, x):
        ...         return (torch.zeros_like(x),)
        ...     def step(self, x, state):
        ...         v = state[0] + x
        ...         s = (v > 1.0).to(x.dtype)
        ...         return s, ((1 - s) * v,)
        >>> n = Counter()
        >>> x = torch.full((1, 2), 0.6)
        >>> [n(x, init=(t == 0))[0, 0].item() for t in range(4)]
        [0.0, 1.0, 0.0, 1.0]
    """

    def __init__(self) -> None:
        super().__init__()
        self._state: Any = None
        #: ``T`` while a :class:`~spikingtorch.SpikingNet` runs in sequence mode: the input of
        #: :meth:`forward` is then the time-merged batch ``(T*N, *F)`` (time-major).
        self._sequence_steps: int | None = None
        #: Set with ``_sequence_steps`` for the later chunks of a time-chunked sequence: the
        #: scan then continues from the stored state instead of starting at rest.
        self._sequence_resume = False

    # -- to implement -------------------------------------------------------------------------
    def init_state(self, x_t: Tensor) -> Any:
        """Return the state at the start of a sequence for an input shaped like ``x_t``.

        The state is a NamedTuple (or tuple) of tensors with ``x_t``'s shape, device and dtype.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement init_state(x_t)")

    def step(self, x_t: Tensor, state: Any) -> tuple[Tensor, Any]:
        """Advance one step: ``(x_t, state) -> (spikes, new_state)``; pure, no mutation."""
        raise NotImplementedError(f"{type(self).__name__} must implement step(x_t, state)")

    def scan(self, x_seq: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """Run the neuron over a whole time-first sequence.

        Args:
            x_seq: inputs of shape ``(T, N, *F)``.
            state: the state before the first step; ``None`` starts fresh.

        Returns:
            ``(spikes, state)`` with spikes of shape ``(T, N, *F)`` and the state after the
            last step. The default loops over :meth:`step`; subclasses may override it with a
            fused kernel that gives the same result.
        """
        if x_seq.dim() < 2 or x_seq.shape[0] == 0:
            raise ValueError(
                f"scan expects a time-first input (T, N, *F) with T > 0, got shape "
                f"{tuple(x_seq.shape)}"
            )
        steps = x_seq.unbind(0)
        if state is None:
            state = self.init_state(steps[0])
        out = []
        for x_t in steps:
            s, state = self.step(x_t, state)
            out.append(s)
        return torch.stack(out, 0), state

    def scan_merged(self, x: Tensor, n_steps: int, state: Any = None) -> tuple[Tensor, Any]:
        """:meth:`scan` on sequence mode's time-merged layout.

        Args:
            x: ``(T*N, *F)``, time-major: rows ``t*N .. (t+1)*N - 1`` are step ``t``.
            n_steps: ``T`` (it divides ``x.shape[0]``).
            state: the state before the first step (``(N, *F)`` tensors); ``None`` starts fresh.

        Returns:
            ``(spikes, state)`` with spikes ``(T*N, *F)``. The default views ``x`` as
            ``(T, N, *F)``, runs :meth:`scan` and merges the spikes back; a fused neuron may
            override it to work on the merged tensor directly (no reshapes in the autograd
            graph). It must give what :meth:`scan` gives.
        """
        x_seq = x.reshape(n_steps, x.shape[0] // n_steps, *x.shape[1:])  # a view when contiguous
        spikes, state = self.scan(x_seq, state)
        return spikes.reshape(x.shape), state

    # -- the seed contract --------------------------------------------------------------------
    def forward(self, x_t: Tensor, init: bool = False) -> Tensor:
        n_steps = getattr(self, "_sequence_steps", None)
        if n_steps is not None:
            return self._forward_merged(x_t, n_steps)
        state = self._state
        if init or state is None or not _state_matches(state, x_t):
            state = self.init_state(x_t)
        self._hand_out_state()  # the step (and its autograd graph) may keep the old tensors
        spikes, state = self.step(x_t, state)
        # a plain attribute: stored past nn.Module.__setattr__'s checks (once per step)
        self.__dict__["_state"] = state
        return spikes

    def _forward_merged(self, x: Tensor, n_steps: int) -> Tensor:
        """Sequence mode: ``x`` is ``(T*N, *F)``, time-major; run :meth:`scan` from rest."""
        shape = x.shape
        if not shape or shape[0] % n_steps != 0:
            raise ValueError(
                f"{type(self).__name__} in sequence mode expects the time-merged batch "
                f"(T*N, *F) with T = {n_steps}, got shape {tuple(x.shape)}; a layer before it "
                "changed the batch dimension, which sequence mode cannot run (use mode='step')"
            )
        state = None
        if getattr(self, "_sequence_resume", False):
            self._hand_out_state()  # the scan reads (and autograd may save) the old tensors
            state = self._state
            step_shape = (x.shape[0] // n_steps, *x.shape[1:])
            if state is not None and not _state_matches(state, x, step_shape):
                raise ValueError(
                    f"{type(self).__name__} in sequence mode: the state left by the previous "
                    f"time chunk does not fit this chunk's input {step_shape}; a layer "
                    "before it changed shape between chunks (use mode='step' or time_chunk=None)"
                )
        else:
            # A new sequence: drop the last one's state before the scan allocates this one's,
            # so that its memory is free for this pass.
            self.__dict__["_state"] = None
        self.__dict__["_merging"] = True
        try:
            spikes, state = self.scan_merged(x, n_steps, state)
        finally:
            self.__dict__["_merging"] = False
        self.__dict__["_state"] = _compact(state)
        return spikes

    # -- state buffers a fused scan may write into again -----------------------------------
    def _reusable_state_buffers(self) -> tuple[Tensor, ...] | None:
        """Inside a sequence-mode call: the tensors of the state this module stored last, if
        nothing outside it has seen them since (no :attr:`state` read, no step, no later chunk,
        no detach); a no-grad scan may then write the new state into them instead of
        allocating. ``None`` otherwise (and always outside a sequence-mode call)."""
        if not self.__dict__.get("_merging", False):
            return None
        buffers: tuple[Tensor, ...] | None = self.__dict__.get("_reusable")
        return buffers

    def _offer_state_buffers(self, buffers: tuple[Tensor, ...]) -> None:
        """Record that the state a no-grad scan just produced lives in ``buffers``; honoured
        only inside a sequence-mode call, where that state goes to this module alone."""
        if self.__dict__.get("_merging", False):
            self.__dict__["_reusable"] = buffers
        else:
            self._hand_out_state()

    def _hand_out_state(self) -> None:
        """The stored state's tensors may now be referenced elsewhere: never overwrite them."""
        self.__dict__.pop("_reusable", None)

    def __getstate__(self) -> dict[str, Any]:
        """Copies (``copy.deepcopy``) and pickles carry the state's values without its autograd
        history: a state computed with gradients is not a graph leaf, which torch refuses to
        deep-copy. They never share recycled state buffers with this module."""
        attrs = dict(super().__getstate__())
        attrs["_state"] = _detach(attrs.get("_state"))
        attrs.pop("_reusable", None)
        attrs.pop("_merging", None)
        return attrs

    # -- protocol -----------------------------------------------------------------------------
    @property
    def state(self) -> Any:
        """The state after the last step, or ``None`` before the first step / after a reset."""
        self._hand_out_state()
        return self._state

    def reset_state(self) -> None:
        """Forget the state: the next call starts a new sequence."""
        self._state = None

    def detach_state(self) -> None:
        """Cut the state's autograd history (truncated BPTT); its value is kept."""
        self._hand_out_state()
        if self._state is not None:
            self._state = _detach(self._state)


def _state_matches(state: Any, x: Tensor, shape: Any = None) -> bool:
    """Whether a stored state can continue with input ``x`` (same shape, or ``shape`` when
    given, device and dtype)."""
    first = state[0] if isinstance(state, tuple) else state
    if not isinstance(first, Tensor):
        return True
    shape = x.shape if shape is None else shape
    return (
        tuple(first.shape) == tuple(shape) and first.device == x.device and (first.dtype == x.dtype)
    )


def _pins_more(t: Tensor) -> bool:
    """Whether ``t`` views another tensor's memory (e.g. one step of a sequence's spikes)."""
    return t._base is not None and not torch.compiler.is_compiling()


def _compact(state: Any) -> Any:
    """``state`` with every tensor that views a larger block (``spikes[-1]`` of a scan) copied,
    so that the state kept between calls does not keep a whole sequence's outputs alive."""
    if isinstance(state, Tensor):
        return state.clone() if _pins_more(state) else state
    if isinstance(state, tuple):
        for s in state:  # the common case (a scan's own tensors) returns the tuple as it is
            if _pins_more(s) if isinstance(s, Tensor) else isinstance(s, tuple):
                break
        else:
            return state
        items = [_compact(s) for s in state]
        return type(state)(*items) if hasattr(state, "_fields") else tuple(items)
    return state


def _detach(state: Any) -> Any:
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, tuple):
        items = [_detach(s) for s in state]
        # NamedTuples are rebuilt with their own type; plain tuples stay tuples.
        return type(state)(*items) if hasattr(state, "_fields") else tuple(items)
    return state


def reset_states(module: nn.Module) -> None:
    """Call ``reset_state()`` on ``module`` and every submodule that has one.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(3, 2))
        >>> reset_states(net)  # no stateful module: nothing to do
    """
    for m in module.modules():
        if is_stateful(m):
            m.reset_state()


def detach_states(module: nn.Module) -> None:
    """Call ``detach_state()`` on ``module`` and every submodule that has one."""
    for m in module.modules():
        if is_stateful(m):
            m.detach_state()
