"""The seed tutorial's code, read from ``shared/seed-tutorial.rst`` and run unchanged.

The tutorial has two code blocks: ``model = SpikingNet(net, (Nout,))`` and a user network class
(which the tutorial also happens to call ``SpikingNet``) built from ``from spikingtorch import IF``
layers. Both blocks are executed exactly as written; the test only supplies the names the
tutorial leaves to the reader (``nn``, ``Nout`` and, for the first block, ``net``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from torch import nn

import spikingtorch

TUTORIAL = Path(__file__).resolve().parents[3] / "shared" / "seed-tutorial.rst"
NOUT = 10


def _code_blocks(text: str) -> list[str]:
    """Literal blocks of an rst file: the indented lines after a line ending in '::'."""
    blocks: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].rstrip().endswith("::"):
            i += 1
            body: list[str] = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
                body.append(lines[i])
                i += 1
            indent = min(len(ln) - len(ln.lstrip()) for ln in body if ln.strip())
            blocks.append("\n".join(ln[indent:] for ln in body).strip() + "\n")
        else:
            i += 1
    return blocks


@pytest.fixture(scope="module")
def blocks() -> list[str]:
    if not TUTORIAL.is_file():
        pytest.fail(f"seed tutorial not found at {TUTORIAL}; the repo expects ../shared beside it")
    found = _code_blocks(TUTORIAL.read_text())
    assert len(found) == 2, found
    assert re.search(r"model = SpikingNet\(net, \(Nout,\)\)", found[0])
    assert "from spikingtorch import IF" in found[1]
    return found


def _build(blocks: list[str]) -> nn.Module:
    user_ns: dict[str, object] = {"nn": nn, "Nout": NOUT}
    exec(compile(blocks[1], str(TUTORIAL), "exec"), user_ns)  # the user's network class
    net = user_ns["SpikingNet"]()  # type: ignore[operator]
    wrap_ns: dict[str, object] = {
        "SpikingNet": spikingtorch.SpikingNet,
        "net": net,
        "Nout": NOUT,
    }
    exec(compile(blocks[0], str(TUTORIAL), "exec"), wrap_ns)
    model = wrap_ns["model"]
    assert isinstance(model, spikingtorch.SpikingNet)
    return model


def test_tutorial_forward_backward_and_optimizer_step(blocks: list[str]) -> None:
    torch.manual_seed(0)
    model = _build(blocks)
    x = (torch.rand(4, 6, 1, 28, 28) < 0.3).float()
    out = model(x)
    assert out.shape == (4, 6, NOUT)
    assert set(out.unique().tolist()) <= {0.0, 1.0}

    counts = out.sum(1)
    loss = nn.functional.cross_entropy(counts, torch.arange(4) % NOUT)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = [p.detach().clone() for p in model.parameters()]
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    opt.step()
    assert all(not torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))


def test_tutorial_layers_are_the_plugin_if(blocks: list[str]) -> None:
    from spikingtorch_neurons import IF

    model = _build(blocks)
    assert spikingtorch.IF is IF
    layers = [m for m in model.modules() if isinstance(m, spikingtorch.Neuron)]
    assert len(layers) == 3 and all(isinstance(m, IF) for m in layers)


def test_tutorial_reset_makes_calls_repeatable(blocks: list[str]) -> None:
    torch.manual_seed(1)
    model = _build(blocks)
    x = (torch.rand(2, 5, 1, 28, 28) < 0.5).float()
    torch.testing.assert_close(model(x), model(x))
