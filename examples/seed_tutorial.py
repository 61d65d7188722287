"""Train the seed tutorial's spiking conv net for a few steps on generated spike input.

Each of the ``Nout`` classes is a random 28x28 intensity prototype; a sample is a Poisson
(Bernoulli per step) spike train drawn from its class prototype. The network is the tutorial's
(``IF`` layers, conv 1->4->6, linear 600->Nout), wrapped in ``SpikingNet(net, (Nout,))``; the
prediction is the spike count of each output neuron over the T steps. The printed loss goes
down as the network learns.

Run::

    python examples/seed_tutorial.py            # 40 optimisation steps
    python examples/seed_tutorial.py --steps 5  # quicker
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn as nn

from spikingtorch import IF, SpikingNet

Nout = 10


class TutorialNet(nn.Module):
    """The seed tutorial's network (its code, with the class renamed to avoid a clash)."""

    def __init__(self) -> None:
        super().__init__()
        self.Nout = Nout
        self.conv1 = nn.Conv2d(1, 4, (4, 4), stride=2, padding=0)  # 13x13
        self.conv2 = nn.Conv2d(4, 6, (4, 4), stride=1, padding=0)  # 10x10
        self.l1 = nn.Linear(600, Nout, bias=None)

        self.sl1 = IF()
        self.sl2 = IF()
        self.sl3 = IF()

    def forward(self, xi: torch.Tensor, init: bool) -> torch.Tensor:
        xi = self.conv1(xi)
        s1 = self.sl1(xi, init)
        xi = self.conv2(s1)
        s2 = self.sl2(xi, init)
        xi = s2.view(s2.shape[0], -1)
        xi2 = self.l1(xi)
        return self.sl3(xi2, init)


def make_batch(
    prototypes: torch.Tensor, batch: int, steps: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Spike trains ``(batch, steps, 1, 28, 28)`` drawn from the class prototypes, and labels."""
    labels = torch.randint(0, prototypes.shape[0], (batch,), generator=generator)
    rates = prototypes[labels].unsqueeze(1).expand(batch, steps, 1, 28, 28)
    spikes = (torch.rand(rates.shape, generator=generator) < rates).float()
    return spikes, labels


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="optimisation steps")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--time-steps", type=int, default=8, help="T, spike-train length")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    prototypes = torch.rand(Nout, 1, 28, 28, generator=gen) * 0.6

    model = SpikingNet(TutorialNet(), (Nout,))
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
    losses = []
    start = time.perf_counter()
    for step in range(args.steps):
        x, y = make_batch(prototypes, args.batch_size, args.time_steps, gen)
        counts = model(x).sum(dim=1)  # (N, T, Nout) -> spike counts (N, Nout)
        loss = nn.functional.cross_entropy(counts, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        acc = (counts.argmax(1) == y).float().mean().item()
        print(f"step {step + 1:3d}/{args.steps}  loss {loss.item():.4f}  batch accuracy {acc:.2f}")
    elapsed = time.perf_counter() - start
    k = max(1, len(losses) // 4)
    first, last = sum(losses[:k]) / k, sum(losses[-k:]) / k
    print(
        f"mean loss of the first {k} steps {first:.4f} -> last {k} steps {last:.4f} "
        f"({elapsed:.1f} s)"
    )
    return last - first


if __name__ == "__main__":
    main()
