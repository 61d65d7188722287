"""The README's quick-start code runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import torch

README = Path(__file__).resolve().parents[2] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_quick_start_runs() -> None:
    (block,) = [b for b in _python_blocks() if "model = SpikingNet(Net(), (Nout,))" in b]
    ns: dict[str, object] = {}
    exec(compile(block, str(README), "exec"), ns)
    out = ns["out"]
    assert isinstance(out, torch.Tensor)
    assert out.shape == (32, 8, 10)
    assert all(p.grad is not None for p in ns["model"].parameters())  # type: ignore[attr-defined]


def test_lookup_snippet_runs() -> None:
    (block,) = [b for b in _python_blocks() if 'spikingtorch.get("neurons", "lif"' in b]
    ns: dict[str, object] = {}
    exec(compile(block, str(README), "exec"), ns)
    from spikingtorch_neurons import LIF

    assert isinstance(ns["lif"], LIF)


def test_encoder_snippet_runs() -> None:
    (block,) = [b for b in _python_blocks() if "encode = PoissonEncoder(8)" in b]
    ns: dict[str, object] = {}
    exec(compile(block, str(README), "exec"), ns)
    spikes = ns["encode"](torch.rand(2, 3, 4, 4))  # type: ignore[operator]
    assert spikes.shape == (2, 8, 3, 4, 4)
    counts = ns["decode"](spikes.flatten(2))  # type: ignore[operator]
    assert counts.shape == (2, 48)
    torch.testing.assert_close(counts, spikes.flatten(2).sum(1))


def test_stack_toml_example_equals_its_cli_options(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from spikingtorch.cli import cli
    from spikingtorch.config import load_toml

    (block,) = re.findall(r"```toml\n(# stack\.toml.*?)```", README.read_text(), flags=re.DOTALL)
    path = tmp_path / "stack.toml"
    path.write_text(block)
    config = load_toml(path)
    assert config.neuron == "alif"
    options = [
        *("--dataset", "randman", "--dataset-param", "samples_per_class=100"),
        *("--encoder", "auto", "--steps", "8", "--network", "mlp"),
        *("--network-param", "hidden=[128]", "--neuron", "alif", "--neuron-param", "tau=5.0"),
        *("--decoder", "sum", "--epochs", "10", "--batch-size", "64", "--lr", "0.01"),
        *("--seed", "0", "--print-config"),
    ]
    from_file = CliRunner().invoke(cli, ["train", "--config", str(path), "--print-config"])
    from_options = CliRunner().invoke(cli, ["train", *options])
    assert from_file.exit_code == 0, from_file.output
    assert from_options.exit_code == 0, from_options.output
    assert from_file.stdout == from_options.stdout
