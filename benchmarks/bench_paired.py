"""In-process paired rounds: the ANN limit and spikingtorch's sequence mode in one process.

``bench_train.py`` runs every framework in its own worker, so each has its own allocator,
thread pool and caches, and a round's ratio also carries whatever the machine did to one worker
and not the other. This script is the complement for short passes (the conv net at T = 8
takes 7-9 ms without gradients): both models live in one process and alternate, each call
preceded by the same disturbance (a write over a 32 MB buffer, which evicts the caches as the
other workers' steps do, then a pause), so a round's two calls see the same machine. It
prints, per model, the median time and the median of the per-round ratios to ``ann``.

Examples (from the repository root; any interpreter with spikingtorch installed)::

    python benchmarks/bench_paired.py                        # conv net, T=8, LIF, no grad
    python benchmarks/bench_paired.py --neuron if --kind train --rounds 25
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from _frameworks import build
from _workload import Workload


def _disturb(junk: torch.Tensor, pause_s: float) -> None:
    """Evict the caches (as another process's step would) and let the threads idle."""
    junk.add_(1.0)
    time.sleep(pause_s)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--net", default="A", help="A (seed conv net) or B (MLP)")
    parser.add_argument("--T", dest="steps", type=int, default=8)
    parser.add_argument("--neuron", default="lif", choices=("lif", "if"))
    parser.add_argument("--kind", default="infer", choices=("infer", "train"))
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--gap-ms", type=float, default=20.0, help="pause before each call")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    work = Workload(net=args.net, steps=args.steps, neuron=args.neuron)
    runners = {name: build(name, work, {}) for name in ("ann", "st_seq")}
    calls: dict[str, Callable[[], None]] = {
        name: runner.train_step if args.kind == "train" else runner.infer
        for name, runner in runners.items()
    }
    junk = torch.empty(8 * 2**20)  # 32 MB
    for call in calls.values():  # warm-up
        for _ in range(3):
            call()
    names = list(calls)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(args.rounds):
        for name in names[r % 2 :] + names[: r % 2]:  # alternate who goes first
            _disturb(junk, args.gap_ms / 1e3)
            start = time.perf_counter()
            calls[name]()
            times[name].append((time.perf_counter() - start) * 1e3)
    print(f"net {args.net}, T={args.steps}, {args.neuron}, {args.kind}, {args.rounds} rounds")
    for name in names:
        ratios = [a / b for a, b in zip(times[name], times["ann"], strict=True)]
        print(
            f"{name:8s} median {statistics.median(times[name]):7.2f} ms   "
            f"x ann (median of per-round ratios) {statistics.median(ratios):.3f}"
        )


if __name__ == "__main__":
    main()
