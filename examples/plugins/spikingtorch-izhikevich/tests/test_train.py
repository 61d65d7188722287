"""``spikingtorch train`` with the Izhikevich neuron: by name, by qualified name, from a TOML stack.

Training needs a dataset and a decoder, so these tests need ``spikingtorch-datasets`` (Randman)
and ``spikingtorch-encoders`` (the decoders) — but not ``spikingtorch-neurons``.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from spikingtorch.cli import cli

pytestmark = pytest.mark.skipif(
    any(
        importlib.util.find_spec(m) is None
        for m in ("spikingtorch_datasets", "spikingtorch_encoders")
    ),
    reason="training needs spikingtorch-datasets and spikingtorch-encoders installed",
)

# Randman, tiny: 20 samples per class (160 train / 40 test), T = 50, one epoch.
SMALL = [
    *("--dataset-param", "samples_per_class=20", "--epochs", "1", "--batch-size", "16"),
    *("--threads", "1", "--no-progress"),
]


def _train(tmp_path: Path, *args: str) -> tuple[Result, list[dict[str, float]], str]:
    result = CliRunner().invoke(
        cli, ["train", *SMALL, "--out", str(tmp_path), "--name", "run", *args]
    )
    assert result.exit_code == 0, result.output
    run = tmp_path / "run"
    metrics = json.loads((run / "metrics.json").read_text())
    return result, metrics, (run / "config.toml").read_text()


def _finite(metrics: list[dict[str, float]]) -> bool:
    return all(math.isfinite(m[key]) for m in metrics for key in ("train_loss", "test_loss"))


def test_train_by_name_with_defaults(tmp_path: Path) -> None:
    # Unscaled weighted spikes are tiny currents for this neuron: it trains (without NaN) but
    # barely fires, so the accuracy stays near chance.
    result, metrics, config = _train(tmp_path, "--neuron", "izhikevich")
    assert "network: mlp with neuron izhikevich" in result.output
    assert len(metrics) == 1
    assert _finite(metrics)
    assert '[neuron]\nname = "izhikevich"\n' in config


def test_train_qualified_name_preset_and_scaled_input(tmp_path: Path) -> None:
    result, metrics, config = _train(
        tmp_path,
        *("--neuron", "spikingtorch-izhikevich:izhikevich"),
        *("--neuron-param", "preset=fast_spiking", "--neuron-param", "input_scale=50"),
        *("--network-param", "readout=membrane", "--decoder", "max_membrane"),
    )
    assert "neuron spikingtorch-izhikevich:izhikevich" in result.output
    assert _finite(metrics)
    assert 'preset = "fast_spiking"' in config
    assert "input_scale = 50" in config


def test_train_from_a_toml_stack(tmp_path: Path) -> None:
    stack = tmp_path / "stack.toml"
    stack.write_text(
        '[neuron]\nname = "izhikevich"\npreset = "chattering"\ninput_scale = 50.0\n'
        'surrogate = "gaussian"\nsurrogate_scale = 20.0\n'
        '[network]\nname = "mlp"\nhidden = [32]\n'
    )
    _, metrics, config = _train(tmp_path, "--config", str(stack))
    assert _finite(metrics)
    assert 'surrogate = "gaussian"' in config


def test_unknown_preset_is_a_clear_error(tmp_path: Path) -> None:
    args = ["--out", str(tmp_path), "--neuron", "izhikevich", "--neuron-param", "preset=bursting"]
    result = CliRunner().invoke(cli, ["train", *SMALL, *args])
    assert result.exit_code == 2
    assert "unknown Izhikevich preset 'bursting'" in result.output
