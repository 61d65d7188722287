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
import operator
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from spikingtorch.neuron import Neuron, detach_states, is_stateful, reset_states

__all__ = ["AUTO_CONV_BATCH_CPU", "AUTO_MERGED_BATCH_CPU", "SequenceModeCheck", "SpikingNet"]

_MODES = ("step", "sequence")

#: ``max_conv_batch="auto"`` on CPU: convolutions of the time-merged batch run on slices of at
#: most this many samples. oneDNN's convolution backward is cache-hostile on large batches of
#: small feature maps: the seed conv net (N=128) trains 1.4-1.7x slower on T*N = 4096 samples in
#: one call than in per-step calls, while slices of 256 to 1024 samples beat both layouts.
AUTO_CONV_BATCH_CPU = 1024

#: ``time_chunk="auto"`` on CPU while training: sequence mode runs ``net`` on chunks of
#: ``max(1, AUTO_MERGED_BATCH_CPU // N)`` time steps, each a merged batch of about this many
#: samples, the neurons carrying their state from one chunk to the next. The activations kept
#: for the backward are the same; what shrinks is every temporary of the forward and of the
#: backward (whole-sequence gradients, convolution workspaces), which otherwise grow with
#: ``T*N``: the seed conv net at T=32, N=128 peaks at step mode's memory instead of ~15 %
#: above it, at the same speed.
AUTO_MERGED_BATCH_CPU = 1024


@dataclass(frozen=True)
class SequenceModeCheck:
    """What :meth:`SpikingNet.check_sequence_mode` found; true iff both modes agree.

    Attributes:
        ok: outputs (and every neuron's spikes) agree within the tolerance.
        max_abs_diff: largest absolute difference of the outputs.
        first_step: first time step at which the outputs differ (``None`` when they agree).
        where: the first neuron (by module name, in module order) whose spikes differ, or
            ``None`` (no neuron differs, or none could be compared).
        message: a one-line summary.
    """

    ok: bool
    max_abs_diff: float
    first_step: int | None
    where: str | None
    message: str

    def __bool__(self) -> bool:
        return self.ok


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


_NO_FORWARD = object()  # marks a convolution without an instance-level forward


def _is_limit(value: Any) -> bool:
    """A positive int (not a bool), ``None`` or ``"auto"``."""
    if value is None or (isinstance(value, str) and value == "auto"):
        return True
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _sliced(forward: Any, size: int) -> Any:
    """Wrap a convolution's bound ``forward``: run it on slices of ``size`` samples, then concat."""

    def run(x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if x.dim() < 2 or x.shape[0] <= size:
            return forward(x, *args, **kwargs)
        return torch.cat([forward(part, *args, **kwargs) for part in x.split(size)])

    return run


@dataclass(frozen=True)
class _SequencePlan:
    """What sequence mode needs to know about a net's modules (see ``_sequence_plan``)."""

    modules: list[nn.Module]
    neurons: list[Neuron]
    batchnorms: list[tuple[str, nn.Module]]
    convs: list[nn.Module]


def _walk(root: nn.Module) -> list[nn.Module]:
    """Every module under ``root`` (``root`` included) once, in a fixed order; cheaper than
    ``named_modules`` (no names, no generators)."""
    seen = {id(root)}
    found = [root]
    stack = [root]
    while stack:
        for child in stack.pop()._modules.values():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                found.append(child)
                stack.append(child)
    return found


def _same_modules(old: list[nn.Module], new: list[nn.Module]) -> bool:
    """Whether two walks found the very same module objects in the same order (identity: a
    module class may define ``__eq__``)."""
    return len(old) == len(new) and not any(map(operator.is_not, old, new))


def _slice_convolutions(convs: list[nn.Module], size: int) -> dict[nn.Module, Any]:
    """Make every convolution in ``convs`` run on slices of ``size`` samples; returns what
    :func:`_restore_convolutions` needs to undo it."""
    saved: dict[nn.Module, Any] = {}
    for conv in convs:
        # an instance attribute shadows the class's forward; hooks still run in __call__.
        # An instance-level forward set by someone else is wrapped, and put back afterwards.
        saved[conv] = conv.__dict__.get("forward", _NO_FORWARD)
        conv.forward = _sliced(conv.forward, size)
    return saved


def _restore_convolutions(saved: dict[nn.Module, Any]) -> None:
    for conv, previous in saved.items():
        if previous is _NO_FORWARD:
            conv.__dict__.pop("forward", None)
        else:
            conv.forward = previous


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
        mode: ``"step"``, the per-step loop (default), or ``"sequence"``: ``net`` is called
            once on the time-merged batch ``(T*N, *in)`` and every spikingtorch neuron runs its
            :meth:`~spikingtorch.Neuron.scan` over ``T`` (fused for IF and LIF). Valid for
            feed-forward nets whose only state lives in spikingtorch neurons and whose layers
            treat samples independently (no batch statistics: BatchNorm in training mode mixes
            the ``T*N`` merged samples and warns); see :meth:`check_sequence_mode`.
        max_conv_batch: sequence mode only: convolutions (``nn.Conv1d/2d/3d`` and their
            transposes) run on consecutive slices of at most this many samples of the
            time-merged batch, concatenated (convolutions treat samples independently; the
            backend may pick another algorithm per batch size, so float32 values can differ
            in the last bit). ``None`` runs them on all ``T*N`` samples at once. ``"auto"``
            (default) uses :data:`AUTO_CONV_BATCH_CPU` on CPU with autograd enabled (one large
            convolution backward is slower there) and ``None`` otherwise.
        time_chunk: sequence mode only: run ``net`` on chunks of at most this many time steps
            (each a merged batch ``(chunk*N, *in)``), every neuron continuing from the state
            the previous chunk left (outputs and gradients equal the unchunked run's).
            ``None`` runs all ``T`` steps in one pass. ``"auto"`` (default) uses
            ``max(1, AUTO_MERGED_BATCH_CPU // N)`` steps on CPU with autograd enabled (smaller
            temporaries: the peak memory of a training step stays near step mode's) and all
            ``T`` otherwise.

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
        max_conv_batch: int | str | None = "auto",
        time_chunk: int | str | None = "auto",
    ) -> None:
        super().__init__()
        if net is not None and not isinstance(net, nn.Module):
            raise TypeError(f"net must be a torch.nn.Module, got {type(net).__name__}")
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
        if not _is_limit(max_conv_batch):
            raise ValueError(
                f"max_conv_batch must be a positive int, None or 'auto', got {max_conv_batch!r}"
            )
        if not _is_limit(time_chunk):
            raise ValueError(
                f"time_chunk must be a positive int, None or 'auto', got {time_chunk!r}"
            )
        self.max_conv_batch = max_conv_batch
        self.time_chunk = time_chunk
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
        text = f"out_shape={self.out_shape}, batch_first={self.batch_first}, mode={self.mode!r}"
        limit = self.__dict__.get("max_conv_batch", "auto")
        if self.mode == "sequence" and limit != "auto":
            text += f", max_conv_batch={limit!r}"
        chunk = self.__dict__.get("time_chunk", "auto")
        if self.mode == "sequence" and chunk != "auto":
            text += f", time_chunk={chunk!r}"
        return text

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

        if self.mode == "sequence":
            out = self._forward_sequence(x, n_steps, batch)
            self.__dict__["_stream_init"] = False  # past nn.Module.__setattr__
            return out if mask is None else self._apply_mask(out, mask)

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
        self.__dict__["_stream_init"] = False
        return out if mask is None else self._apply_mask(out, mask)

    def _apply_mask(self, out: Tensor, mask: Tensor) -> Tensor:
        """Zero the outputs past each sample's length; ``mask`` is ``(N, T)`` bool."""
        if not self.batch_first:
            mask = mask.t()
        mask = mask.reshape(mask.shape + (1,) * (out.dim() - 2))
        return out * mask.to(out.dtype)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_plan", None)  # rebuilt by the next sequence-mode call
        return state

    # -- sequence mode --------------------------------------------------------------------------
    def _sequence_plan(self) -> _SequencePlan:
        """The neurons and convolutions of this net for sequence mode, validated.

        Walking and checking every submodule costs more than a small net's neurons once the
        caches are cold (a pass right after other work), so the result is kept and reused for
        as long as the tree holds the same modules: a walk over ``_modules`` compares them on
        every call, and any added, removed or replaced submodule rebuilds it. Batch norms are
        re-checked every call: their ``training`` flag changes without a change to the tree.
        """
        modules = _walk(self)
        plan: _SequencePlan | None = self.__dict__.get("_plan")
        if plan is None or not _same_modules(plan.modules, modules):
            neurons, batchnorms = self._sequence_neurons()
            convs: list[nn.Module] = [m for m in modules if isinstance(m, nn.modules.conv._ConvNd)]
            plan = _SequencePlan(modules, neurons, batchnorms, convs)
            self.__dict__["_plan"] = plan
        for name, bn in plan.batchnorms:
            if bn.training:
                warnings.warn(
                    f"mode='sequence': {name!r} ({type(bn).__name__}) in training mode "
                    "normalises over the time-merged batch (all T steps together), unlike step "
                    "mode; outputs differ from mode='step'",
                    UserWarning,
                    stacklevel=6,  # the caller of model(x)
                )
        return plan

    def _sequence_neurons(self) -> tuple[list[Neuron], list[tuple[str, nn.Module]]]:
        """The neurons that will scan, and the batch norms (by name); raise for state sequence
        mode cannot carry over time."""
        neurons: list[Neuron] = []
        batchnorms: list[tuple[str, nn.Module]] = []
        for name, m in self.named_modules():
            if m is self:
                continue
            if isinstance(m, Neuron):
                if type(m).forward is not Neuron.forward:
                    raise ValueError(
                        f"mode='sequence': neuron {name!r} ({type(m).__name__}) overrides "
                        "forward, so it cannot run as a scan over the time-merged batch; "
                        "use mode='step'"
                    )
                neurons.append(m)
            elif is_stateful(m):
                raise ValueError(
                    f"mode='sequence': module {name!r} ({type(m).__name__}) keeps state across "
                    "time steps outside a spikingtorch Neuron; sequence mode would run it once "
                    "on all steps at the same time. Use mode='step'"
                )
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                batchnorms.append((name, m))
        return neurons, batchnorms

    def _conv_slice(self, device: torch.device) -> int | None:
        """The number of merged samples a convolution gets per call (``None``: all)."""
        limit = self.__dict__.get("max_conv_batch", "auto")
        if limit == "auto":  # the large-batch penalty is in the backward: inference runs whole
            cpu_training = device.type == "cpu" and torch.is_grad_enabled()
            return AUTO_CONV_BATCH_CPU if cpu_training else None
        return limit if isinstance(limit, int) else None

    def _time_chunk(self, n_steps: int, batch: int, device: torch.device) -> int:
        """The number of time steps per merged pass of sequence mode."""
        chunk = self.__dict__.get("time_chunk", "auto")
        if chunk == "auto":
            if device.type == "cpu" and torch.is_grad_enabled():
                return max(1, min(n_steps, AUTO_MERGED_BATCH_CPU // max(1, batch)))
            return n_steps
        return min(n_steps, chunk) if isinstance(chunk, int) else n_steps

    def _forward_sequence(self, x: Tensor, n_steps: int, batch: int) -> Tensor:
        # Time-major merge (t * N + n): neurons then view (T*N, *F) as (T, N, *F) without a copy.
        x_tm = x.transpose(0, 1) if self.batch_first else x
        device = x.device
        chunk = self._time_chunk(n_steps, batch, device)
        conv_slice = self._conv_slice(device)
        if conv_slice is not None and chunk * batch <= conv_slice:
            conv_slice = None  # every merged pass fits one convolution call: nothing to patch
        plan = self._sequence_plan()
        neurons = plan.neurons
        saved = _slice_convolutions(plan.convs, conv_slice) if conv_slice is not None else None
        outs: list[Tensor] = []
        try:
            # every neuron starts this sequence at rest: drop the last sequence's states now,
            # so that their memory is free for this pass (see Neuron._forward_merged)
            for m in neurons:
                m.__dict__["_state"] = None
            for t0 in range(0, n_steps, chunk):
                k = min(chunk, n_steps - t0)
                # later chunks continue from the state the previous chunk left in every neuron;
                # plain attributes, set past nn.Module.__setattr__'s checks
                for m in neurons:
                    m.__dict__["_sequence_steps"] = k
                    m.__dict__["_sequence_resume"] = t0 > 0
                part = x_tm if k == n_steps else x_tm[t0 : t0 + k]
                merged = part.reshape(k * batch, *x.shape[2:])
                y = self.single_pass(merged, t0 == 0)
                self._check_output(y, k * batch)
                if y.dim() < 1 or y.shape[0] != k * batch:
                    raise ValueError(
                        f"mode='sequence': net returned shape {tuple(y.shape)} for the "
                        f"time-merged batch of {k} * {batch} samples; its first dimension must "
                        "stay T*N"
                    )
                outs.append(y.reshape(k, batch, *y.shape[1:]))
        finally:
            for m in neurons:
                m.__dict__["_sequence_steps"] = None
                m.__dict__["_sequence_resume"] = False
            if saved is not None:
                _restore_convolutions(saved)
        out = outs[0] if len(outs) == 1 else torch.cat(outs)
        return out.transpose(0, 1) if self.batch_first else out

    def check_sequence_mode(
        self,
        x: Tensor,
        lengths: Tensor | Sequence[int] | None = None,
        *,
        rtol: float = 1e-5,
        atol: float = 1e-6,
        strict: bool = False,
    ) -> SequenceModeCheck:
        """Run ``x`` in step mode and in sequence mode and say whether the results agree.

        Sequence mode cannot tell in general whether a net is valid for it: state kept outside
        spikingtorch neurons (other than modules with ``reset_state``, which are refused) and
        layers that mix samples of a batch (batch statistics, attention over the batch, ...)
        give different results silently. Run this on a representative batch first. The
        outputs, and the spikes of every neuron (which names the first neuron that differs), are
        compared with ``torch.allclose(rtol, atol)``: binary spikes must match exactly, graded
        outputs to rounding. Dense layers on the merged batch may round differently from
        per-step batches, so a spike exactly at threshold may rarely flip; dropout draws
        differently, so check in ``eval()`` mode. Runs without gradients; afterwards the
        neurons hold the sequence run's state.

        Args:
            x: an input batch, as for :meth:`forward`.
            lengths: optional lengths, as for :meth:`forward`.
            rtol, atol: tolerance on the outputs and on each neuron's spikes.
            strict: raise ``ValueError`` instead of returning a failed check.

        Returns:
            A :class:`SequenceModeCheck` (true iff they agree).

        Example:
            >>> import torch
            >>> from torch import nn
            >>> model = SpikingNet(nn.Sequential(nn.Linear(4, 3)), (3,))
            >>> bool(model.check_sequence_mode(torch.rand(2, 5, 4)))
            True
        """
        spikes: dict[str, dict[str, list[Tensor]]] = {"step": {}, "sequence": {}}
        current = ["step"]
        handles = []
        for name, m in self.named_modules():
            if isinstance(m, Neuron):

                def hook(_m: nn.Module, _i: Any, out: Any, name: str = name) -> None:
                    if isinstance(out, Tensor):
                        spikes[current[0]].setdefault(name, []).append(out)

                handles.append(m.register_forward_hook(hook))
        mode = self.mode
        try:
            with torch.no_grad():
                self.mode = "step"
                ref = self(x, lengths)
                self.mode = "sequence"
                current[0] = "sequence"
                got = self(x, lengths)
        finally:
            self.mode = mode
            for h in handles:
                h.remove()
        time_dim = 1 if self.batch_first else 0
        n_steps = x.shape[time_dim]
        first: int | None
        if ref.shape != got.shape:
            diff, first, agree = float("inf"), 0, False
        else:
            delta = (ref - got).abs()
            diff = float(delta.max()) if delta.numel() else 0.0
            close = torch.isclose(got, ref, rtol=rtol, atol=atol)
            per_step = close.movedim(time_dim, 0).reshape(n_steps, -1).all(1)
            agree = bool(per_step.all())
            first = None if agree else int((~per_step).nonzero()[0, 0])
        where = None
        for name, steps in spikes["step"].items():
            seq = spikes["sequence"].get(name, [])
            if len(steps) != n_steps or len(seq) != 1:
                continue  # shared or skipped neuron: not comparable step by step
            stacked, merged = torch.stack(steps), seq[0].reshape(n_steps, *steps[0].shape)
            if not torch.allclose(merged, stacked, rtol=rtol, atol=atol):
                where = name
                break
        ok = agree and where is None
        if ok:
            message = f"sequence mode agrees with step mode (max |diff| {diff:.3g})"
        else:
            parts = [f"sequence mode differs from step mode: max |diff| {diff:.3g}"]
            if first is not None:
                parts.append(f"first at step t={first}")
            if where is not None:
                parts.append(f"first neuron whose spikes differ: {where!r}")
            message = ", ".join(parts) + (
                "; the net may keep state outside spikingtorch neurons or mix samples of the "
                "batch (e.g. batch statistics): use mode='step'"
            )
        result = SequenceModeCheck(ok, diff, first, where, message)
        if strict and not ok:
            raise ValueError(message)
        return result

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
        nout = self.__dict__.get("Nout")
        if nout is None or (type(nout) is tuple and y.shape[0] == batch and y.shape[1:] == nout):
            return  # no shape to check, or the normalised one matches (the common case)
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
