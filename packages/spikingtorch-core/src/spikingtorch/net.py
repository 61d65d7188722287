"""``SpikingNet``: the time loop around a per-step network.

A spiking network is a recurrent network: the same per-step module ``net`` is applied at every
time step ``t = 0 .. T-1`` and its spiking neurons carry state from one step to the next.
:class:`SpikingNet` owns that loop so that user code only describes one step, exactly as in the
seed tutorial::

    model = SpikingNet(net, (Nout,))
    out = model(x)          # x: (N, T, *in)  ->  out: (N, T, Nout)

Shapes: ``N`` is the batch size, ``T`` the number of time steps, ``*in`` the per-step input
shape and ``out_shape`` the per-step output shape of ``net``.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from spikingtorch.neuron import detach_states, reset_states

__all__ = ["SpikingNet"]

_MODES = ("step",)


def _normalise_shape(out_shape: int | Sequence[int], what: str = "out_shape") -> tuple[int, ...]:
    if isinstance(out_shape, bool):
        raise TypeError(f"{what} must be an int or a tuple of ints, got {out_shape!r}")
    if isinstance(out_shape, int):
        out_shape = (out_shape,)
    try:
        dims = tuple(out_shape)
    except TypeError:
        raise TypeError(
            f"{what} must be an int or a tuple of ints, got {type(out_shape).__name__}"
        ) from None
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int) or d < 0:
            raise ValueError(f"{what} must hold non-negative ints, got {dims!r}")
    return dims


def _takes_init(net: nn.Module) -> bool:
    """Whether ``net(x, init)`` is a valid call (the seed's two-argument forward)."""
    try:
        params = inspect.signature(net.forward).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: assume the seed contract
        return True
    positional = 0
    for p in params:
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            return True
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
            positional += 1
    return positional >= 2


class SpikingNet(nn.Module):
    """Run a per-step network over time, resetting every neuron at the start of a sequence.

    In *step mode* (the seed contract) ``forward`` calls ``net(x_t, init)`` for
    ``t = 0 .. T-1`` with ``init=True`` only at ``t = 0``, so every spiking layer that receives
    the flag starts each sequence fresh. A ``net`` whose ``forward`` takes a single argument
    (``nn.Sequential`` of layers and neurons, say) is called as ``net(x_t)`` and all its neurons
    are reset by :func:`spikingtorch.reset_states` before the first step.

    Subclasses in the original package's style define ``single_pass(self, xi, init)`` instead of
    passing ``net``; they may call ``super().__init__()`` with no arguments and set
    ``self.Nout = (10,)`` afterwards.

    Args:
        net: the per-step module; ``None`` when a subclass defines ``single_pass``.
        out_shape: per-step output shape of ``net`` (``(Nout,)`` or an int); ``None`` skips the
            check (the shape is then whatever ``net`` returns).
        batch_first: input and output are ``(N, T, ...)`` when true (default, as in the
            seed), ``(T, N, ...)`` when false.
        mode: ``"step"``, the per-step loop.

    Shape:
        - input: ``(N, T, *in)`` (or ``(T, N, *in)`` with ``batch_first=False``), floating.
        - output: ``(N, T, *out_shape)`` (or ``(T, N, *out_shape)``): the per-step outputs of
          ``net`` stacked in time.
        - ``lengths`` (optional): ``(N,)`` ints in ``[1, T]``; outputs at ``t >= lengths[n]``
          are zero.

    Streaming: :meth:`step` advances one step and keeps the state across calls, :meth:`reset`
    starts a new sequence, :meth:`detach` cuts the autograd graph (truncated BPTT).

    Example:
        >>> import torch
        >>> from torch import nn
        >>> class Relay(nn.Module):  # stand-in for a network of spiking layers
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = nn.Linear(4, 3)
        ...     def forward(self, xi, init):
        ...         return (self.fc(xi) > 0).float()
        >>> model = SpikingNet(Relay(), (3,))
        >>> model(torch.rand(2, 5, 4)).shape
        torch.Size([2, 5, 3])
    """

    def __init__(
        self,
        net: nn.Module | None = None,
        out_shape: int | Sequence[int] | None = None,
        *,
        batch_first: bool = True,
        mode: str = "step",
    ) -> None:
        super().__init__()
        if net is not None and not isinstance(net, nn.Module):
            raise TypeError(f"net must be a torch.nn.Module, got {type(net).__name__}")
        if mode not in _MODES:
            if mode == "sequence":
                raise ValueError(
                    "mode='sequence' is not available yet in this version; use mode='step'"
                )
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
        self.net = net
        if out_shape is not None:
            self.Nout = _normalise_shape(out_shape)
        self.batch_first = bool(batch_first)
        self.mode = mode
        self._stream_init = True
        self._net_takes_init: bool | None = None

    # -- configuration --------------------------------------------------------------------------
    @property
    def out_shape(self) -> tuple[int, ...] | None:
        """Per-step output shape of ``net``; stored as ``Nout`` for the original package's API."""
        nout = self.__dict__.get("Nout")
        return None if nout is None else _normalise_shape(nout, "Nout")

    def extra_repr(self) -> str:
        return f"out_shape={self.out_shape}, batch_first={self.batch_first}, mode={self.mode!r}"

    # -- one step -------------------------------------------------------------------------------
    def single_pass(self, xi: Tensor, init: bool) -> Tensor:
        """Advance ``net`` by one step: ``(N, *in) -> (N, *out_shape)``.

        Subclasses may override this instead of passing ``net`` to the constructor.
        """
        net = self.net
        if net is None:
            raise TypeError(
                f"{type(self).__name__} has no net: pass a module, SpikingNet(net, out_shape), "
                "or define single_pass(self, xi, init) in a subclass"
            )
        if self._net_takes_init is None:
            self._net_takes_init = _takes_init(net)
        if self._net_takes_init:
            return net(xi, init)
        if init:
            reset_states(net)
        return net(xi)

    # -- the time loop --------------------------------------------------------------------------
    def forward(self, x: Tensor, lengths: Tensor | Sequence[int] | None = None) -> Tensor:
        """Run the network over all ``T`` steps of ``x``; see the class docstring for shapes."""
        self._check_input(x, min_rank=3, what="input")
        time_dim = 1 if self.batch_first else 0
        n_steps = x.shape[time_dim]
        batch = x.shape[1 - time_dim]
        if n_steps == 0:
            raise ValueError(f"input has T = 0 time steps (shape {tuple(x.shape)}); need T >= 1")
        mask = None
        run_steps = n_steps
        if lengths is not None:
            lens = self._check_lengths(lengths, batch, n_steps, x.device)
            run_steps = int(lens.max())
            mask = torch.arange(n_steps, device=x.device).unsqueeze(0) < lens.unsqueeze(1)

        outputs: list[Tensor] = []
        # unbind returns views: no per-step copy, and its backward is a single stack (indexing
        # x[:, t] in the loop would make the backward O(T^2)).
        for t, x_t in enumerate(x.unbind(time_dim)[:run_steps]):
            y = self.single_pass(x_t, t == 0)
            if t == 0:
                self._check_output(y, batch)
            outputs.append(y)
        if run_steps < n_steps:  # samples all ended early: pad with zeros inside the one stack
            outputs.extend([outputs[0].new_zeros(outputs[0].shape)] * (n_steps - run_steps))
        out = torch.stack(outputs, dim=time_dim)
        self._stream_init = False
        if mask is not None:
            if not self.batch_first:
                mask = mask.t()
            mask = mask.reshape(mask.shape + (1,) * (out.dim() - 2))
            out = out * mask.to(out.dtype)
        return out

    # -- streaming ------------------------------------------------------------------------------
    def step(self, x_t: Tensor) -> Tensor:
        """Advance one time step, keeping the state across calls.

        Args:
            x_t: one step of input, ``(N, *in)``.

        Returns:
            ``(N, *out_shape)``. The first call (and the first after :meth:`reset`) starts a
            new sequence, exactly like ``t = 0`` of :meth:`forward`.
        """
        self._check_input(x_t, min_rank=2, what="step input")
        init = self._stream_init
        y = self.single_pass(x_t, init)
        if init:
            self._check_output(y, x_t.shape[0])
        self._stream_init = False
        return y

    def reset(self) -> None:
        """Start a new sequence: reset this net's streaming position and every neuron's state."""
        reset_states(self)

    def detach(self) -> None:
        """Cut the autograd graph of every neuron's state (truncated BPTT); values are kept."""
        detach_states(self)

    def reset_state(self) -> None:
        """State-reset protocol: the next :meth:`step` starts a new sequence."""
        self._stream_init = True

    def detach_state(self) -> None:
        """State-reset protocol: nothing of its own to detach (neurons detach themselves)."""

    # -- validation -----------------------------------------------------------------------------
    def _check_input(self, x: Any, *, min_rank: int, what: str) -> None:
        if not isinstance(x, Tensor):
            raise TypeError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise ValueError(
                f"{what} must have a floating dtype (e.g. torch.float32), got {x.dtype}; "
                "convert spikes with x.float()"
            )
        if x.dim() < min_rank:
            layout = "(N, T, *in)" if self.batch_first else "(T, N, *in)"
            expected = layout if min_rank == 3 else "(N, *in)"
            raise ValueError(
                f"{what} must have at least {min_rank} dimensions {expected}, got shape "
                f"{tuple(x.shape)} ({x.dim()} dimensions)"
            )

    def _check_output(self, y: Any, batch: int) -> None:
        if not isinstance(y, Tensor):
            raise TypeError(f"net must return a torch.Tensor per step, got {type(y).__name__}")
        expected_shape = self.out_shape
        if expected_shape is not None and tuple(y.shape) != (batch, *expected_shape):
            raise ValueError(
                f"net returned shape {tuple(y.shape)} per step, but out_shape={expected_shape} "
                f"expects {(batch, *expected_shape)}; fix out_shape or the net"
            )

    @staticmethod
    def _check_lengths(
        lengths: Tensor | Sequence[int], batch: int, n_steps: int, device: torch.device
    ) -> Tensor:
        lens = torch.as_tensor(lengths)
        if lens.is_floating_point() or lens.is_complex() or lens.dtype == torch.bool:
            raise TypeError(f"lengths must hold integers, got dtype {lens.dtype}")
        if lens.dim() != 1 or lens.shape[0] != batch:
            raise ValueError(
                f"lengths must have shape ({batch},) (one length per sample), got "
                f"{tuple(lens.shape)}"
            )
        lo, hi = int(lens.min()), int(lens.max())
        if lo < 1 or hi > n_steps:
            raise ValueError(
                f"lengths must lie in [1, T] = [1, {n_steps}], got values from {lo} to {hi}"
            )
        return lens.to(device)
