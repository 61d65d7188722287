"""``check_encoder`` and ``check_decoder``: the conventions of spike encoders and readouts.

Encoders turn a batch ``(N, *F)`` into a spike train ``(N, T, *F)`` (the channel axis is kept;
``T = encoder.steps``); an encoder whose input already has a time axis (``time_from_input =
True``, such as a delta encoder) maps ``(N, T, *F)`` to ``(N, T, *F)``. With
``batch_first=False`` the first two axes are swapped. Decoders reduce the time axis:
``(N, T, *out) -> (N, *out)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from spikingtorch.testing._base import (
    Rule,
    build,
    check_repr,
    default_device,
    extra_devices,
    make_factory,
    seeded,
    sorted_values,
    where_differ,
)

__all__ = ["check_decoder", "check_encoder"]

_VALUES = {"binary": (0.0, 1.0), "signed": (-1.0, 0.0, 1.0), "analog": None}


def _shape(shape: Sequence[int], what: str, min_rank: int) -> tuple[int, ...]:
    dims = tuple(int(d) for d in shape)
    if len(dims) < min_rank or min(dims) < 1:
        raise ValueError(f"{what} must have at least {min_rank} positive sizes, got {shape!r}")
    return dims


def _rand(shape: Sequence[int], dtype: torch.dtype, device: torch.device, seed: int) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(tuple(shape), generator=gen, dtype=torch.float64).to(device, dtype)


def _module(component: Any, who: str) -> None:
    with Rule("is-module", who) as rule:
        rule.check(
            isinstance(component, nn.Module),
            f"the factory returned a {type(component).__name__}, not a torch.nn.Module",
        )


def _wrong_input(component: Any, who: str, bad: list[tuple[str, Any]]) -> None:
    """Rule ``bad-input``: each input must raise ValueError or TypeError."""
    rule = Rule("bad-input", who)
    for what, x in bad:
        try:
            component(x)
        except (ValueError, TypeError):
            continue
        except Exception as exc:
            rule.fail(f"{what} raised {type(exc).__name__}: {exc}")
        rule.fail(f"{what} was accepted without an error")


def _check_output(
    rule: Rule, out: Any, expected: tuple[int, ...], x: Tensor, what: str = "the output"
) -> None:
    rule.check(isinstance(out, Tensor), f"{what} is a {type(out).__name__}, not a tensor")
    rule.check(
        tuple(out.shape) == expected,
        f"an input of shape {tuple(x.shape)} gave {what} of shape {tuple(out.shape)}, "
        f"expected {expected}",
    )
    rule.check(out.dtype == x.dtype, f"a {x.dtype} input gave {what} of dtype {out.dtype}")
    rule.check(out.device == x.device, f"an input on {x.device} gave {what} on {out.device}")


def check_encoder(
    factory: Callable[[], Any] | str,
    *,
    input_shape: Sequence[int] = (3, 4),
    output_shape: Sequence[int] | None = None,
    values: str = "binary",
    dtypes: Sequence[torch.dtype] = (torch.float32, torch.float64),
    device: torch.device | str | None = None,
) -> None:
    """Check a spike encoder; raise on the first broken rule.

    Args:
        factory: a zero-argument callable returning a fresh encoder (the class, a
            ``functools.partial``, ``lambda: PoissonEncoder(8)``), or a registered name.
        input_shape: the input's shape, ``(N, *F)`` (``(N, T, *F)`` for an encoder with
            ``time_from_input = True``); inputs are uniform in ``[0, 1)``.
        output_shape: the expected output shape; None derives it from the conventions:
            ``(N, steps, *F)``, or the input's shape for ``time_from_input`` encoders, with the
            first two axes swapped when ``batch_first`` is false.
        values: ``"binary"`` (spikes in ``{0, 1}``), ``"signed"`` (``{-1, 0, 1}``) or
            ``"analog"`` (any finite value, e.g. a constant-current encoder).
        dtypes: floating dtypes that must run and be kept by the output.
        device: where to run (None: torch's default device); CUDA is tried too when available.

    Raises:
        ConformanceError: a rule is broken (``factory``, ``is-module``, ``repr``, ``output``,
            ``dtype``, ``device``, ``values``, ``determinism``, ``bad-input``, ``nan-input``).
        ValueError: the arguments themselves are invalid.
    """
    shape = _shape(input_shape, "input_shape", 1)
    if values not in _VALUES:
        raise ValueError(f"values must be one of {sorted(_VALUES)}, got {values!r}")
    make, who = make_factory(factory, "encoders")
    dev = default_device(device)
    with seeded(0):
        encoder = build(make, who)
        who = type(encoder).__name__
        _module(encoder, who)
        check_repr(encoder, who)
        time_from_input = bool(getattr(encoder, "time_from_input", False))
        if output_shape is not None:
            expected = tuple(int(d) for d in output_shape)
        elif time_from_input:
            expected = shape
        else:
            steps = getattr(encoder, "steps", None)
            if isinstance(steps, bool) or not isinstance(steps, int):
                raise ValueError(
                    f"{who} has no int attribute 'steps': pass output_shape= to check_encoder"
                )
            expected = (shape[0], steps, *shape[1:])
            if getattr(encoder, "batch_first", True) is False:
                expected = (expected[1], expected[0], *expected[2:])

        with Rule("output", who) as rule:
            x = _rand(shape, dtypes[0], dev, 1)
            out = make().to(dev)(x)
            _check_output(rule, out, expected, x)
        with Rule("values", who) as rule:
            allowed = _VALUES[values]
            rule.check(bool(torch.isfinite(out).all()), "the output holds NaN or inf")
            if allowed is not None:
                ok = torch.zeros_like(out, dtype=torch.bool)
                for v in allowed:
                    ok |= out == v
                rule.check(
                    bool(ok.all()),
                    f"the output takes the values {sorted_values(out)}, expected {set(allowed)}",
                )
        for dtype in dtypes:
            with Rule("dtype", who) as rule:
                x = _rand(shape, dtype, dev, 1)
                _check_output(rule, make().to(dev)(x), expected, x)
        for extra in extra_devices(dev):
            with Rule("device", who) as rule:
                x = _rand(shape, dtypes[0], extra, 1)
                _check_output(rule, make().to(extra)(x), expected, x)

        with Rule("determinism", who) as rule:
            x = _rand(shape, dtypes[0], dev, 2)
            runs = []
            for _ in range(2):
                torch.manual_seed(1234)
                runs.append(make().to(dev)(x))
            rule.check(
                torch.equal(runs[0], runs[1]),
                lambda: (
                    "two fresh encoders under torch.manual_seed(1234) gave different "
                    f"trains: {where_differ(runs[0], runs[1], None)}"
                ),
            )
            if isinstance(getattr(encoder, "generator", None), (torch.Generator, type(None))):
                runs = []
                for seed in (77, 77):
                    gen = torch.Generator(device=dev).manual_seed(seed)
                    enc = make().to(dev)
                    enc.generator = gen
                    torch.manual_seed(len(runs))  # the global generator must not matter
                    runs.append(enc(x))
                rule.check(
                    torch.equal(runs[0], runs[1]),
                    lambda: (
                        "two encoders given generators seeded alike gave different "
                        f"trains: {where_differ(runs[0], runs[1], None)}"
                    ),
                )

        rank = len(shape)
        bad = [("a scalar (0-dimensional) input", torch.tensor(0.5, device=dev))]
        if time_from_input and rank > 1:
            no_time = _rand(shape[:1], dtypes[0], dev, 3)
            bad.append((f"an input of shape {(shape[0],)} (no time axis)", no_time))
        _wrong_input(make().to(dev), who, bad)
        with Rule("nan-input", who) as rule:
            x = _rand(shape, dtypes[0], dev, 4)
            x.view(-1)[0] = float("nan")
            try:
                make().to(dev)(x)
            except ValueError:
                pass
            else:
                rule.fail("an input holding NaN was encoded without an error")


def check_decoder(
    factory: Callable[[], Any] | str,
    *,
    input_shape: Sequence[int] = (3, 6, 4),
    output_shape: Sequence[int] | None = None,
    dtypes: Sequence[torch.dtype] = (torch.float32, torch.float64),
    device: torch.device | str | None = None,
) -> None:
    """Check a decoder (readout); raise on the first broken rule.

    Args:
        factory: a zero-argument callable returning a fresh decoder, or a registered name.
        input_shape: ``(N, T, *out)``, the shape of a network's output over time; the input is
            a random binary spike train of that shape.
        output_shape: the expected output shape; None means ``(N, *out)``.
        dtypes: floating dtypes that must run and be kept by the output.
        device: where to run (None: torch's default device); CUDA is tried too when available.

    Raises:
        ConformanceError: a rule is broken (``factory``, ``is-module``, ``repr``, ``output``,
            ``dtype``, ``device``, ``determinism``, ``gradients``, ``bad-input``).
        ValueError: the arguments themselves are invalid.
    """
    shape = _shape(input_shape, "input_shape", 2)
    expected = (
        (shape[0], *shape[2:]) if output_shape is None else tuple(int(d) for d in output_shape)
    )
    make, who = make_factory(factory, "decoders")
    dev = default_device(device)

    def spikes(dtype: torch.dtype, device: torch.device, seed: int) -> Tensor:
        return (_rand(shape, torch.float64, device, seed) < 0.3).to(dtype)

    with seeded(0):
        decoder = build(make, who)
        who = type(decoder).__name__
        _module(decoder, who)
        check_repr(decoder, who)
        with Rule("output", who) as rule:
            x = spikes(dtypes[0], dev, 1)
            _check_output(rule, make().to(dev)(x), expected, x)
        for dtype in dtypes:
            with Rule("dtype", who) as rule:
                x = spikes(dtype, dev, 1)
                out = make().to(dev)(x)
                _check_output(rule, out, expected, x)
                rule.check(bool(torch.isfinite(out).all()), f"{dtype}: the output holds NaN/inf")
        for extra in extra_devices(dev):
            with Rule("device", who) as rule:
                x = spikes(dtypes[0], extra, 1)
                _check_output(rule, make().to(extra)(x), expected, x)
        with Rule("determinism", who) as rule:
            x = spikes(dtypes[0], dev, 2)
            first, again = decoder.to(dev)(x), decoder(x)
            rule.check(
                torch.equal(first, again),
                lambda: (
                    f"the same input gave different outputs: {where_differ(first, again, None)}"
                ),
            )
        with Rule("gradients", who) as rule:
            x = spikes(dtypes[-1], dev, 3).requires_grad_()
            out = make().to(dev)(x)
            rule.check(out.requires_grad, "the output carries no autograd graph")
            weights = _rand(out.shape, out.dtype, dev, 4)
            (out * weights).sum().backward()
            rule.check(x.grad is not None, "no gradient reached the input")
            assert x.grad is not None
            rule.check(bool(torch.isfinite(x.grad).all()), "the input's gradient holds NaN/inf")
            rule.check(bool(x.grad.abs().sum() > 0), "the input's gradient is zero everywhere")
        empty_time = (shape[0], 0, *shape[2:])
        _wrong_input(
            make().to(dev),
            who,
            [
                (f"an input of shape {(shape[0],)} (rank 1)", torch.zeros(shape[0], device=dev)),
                (f"an input with T = 0, shape {empty_time}", torch.zeros(empty_time, device=dev)),
            ],
        )
