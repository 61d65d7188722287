"""``spikingtorch train`` end to end with the real plugins (neurons, encoders, datasets).

* acceptance a: a shortened default run on Randman beats chance by a clear margin;
* acceptance e: a run killed after epoch 1 and resumed ends with the same weights as an
  uninterrupted run (a hard exit right after the checkpoint, and a real SIGKILL at any moment);
* acceptance g: without the datasets plugin (disabled, or not installed as in the tox env
  ``all`` before it gains it), ``train`` says what to install;
* the seed tutorial's stack (Poisson encoder, convnet, IF neurons) trains through the CLI.

Runs go through ``python -m spikingtorch`` in subprocesses (what a user types), with one torch
thread (``--threads 1``): on a busy 2-core machine two threads are many times slower.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner

import spikingtorch
from spikingtorch.cli import cli
from spikingtorch.train import CHECKPOINT, EXIT_AFTER_EPOCH_ENV, METRICS, load_checkpoint
from tests.core._train_fakes import FakeStackPlugin


def _needs(*modules: str) -> pytest.MarkDecorator:
    """Skip where a plugin is not installed, except where the environment requires it.

    The tox env ``all`` lists every plugin in ``SPIKINGTORCH_TEST_REQUIRE``; a missing one is
    then a failure, so a broken install cannot hide behind skipped tests.
    """
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    required = set(os.environ.get("SPIKINGTORCH_TEST_REQUIRE", "").split(","))
    if required & set(missing):
        raise RuntimeError(f"required by SPIKINGTORCH_TEST_REQUIRE but not installed: {missing}")
    return pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)} installed")


needs_stack = _needs("spikingtorch_neurons", "spikingtorch_encoders", "spikingtorch_datasets")
needs_neurons = _needs("spikingtorch_neurons")

# Randman, smaller: 100 samples per class (800 train / 200 test), one thread, no progress bar.
SMALL = ["--dataset-param", "samples_per_class=100", "--threads", "1", "--no-progress"]
# A shortened default run (acceptance a). One epoch of a spike-count readout barely moves off
# chance, so the run reads out a leaky membrane with its maximum over time instead.
SHORT_RUN = [
    *SMALL,
    *("--epochs", "1", "--batch-size", "16", "--lr", "0.01"),
    *("--decoder", "max_membrane", "--network-param", "readout=membrane"),
    *("--network-param", "weight_scale=5"),
]
# The runs that are interrupted and resumed (acceptance e): 3 quick epochs.
RESUME_RUN = [*SMALL, "--epochs", "3", "--train-samples", "240", "--test-samples", "80"]


def _train(*args: str, env: dict[str, str] | None = None, **kwargs: Any) -> Any:
    command = [sys.executable, "-m", "spikingtorch", "train", *args]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, env=full_env, **kwargs)


def _weights(run_dir: Path) -> dict[str, Any]:
    return load_checkpoint(run_dir / CHECKPOINT)


def _assert_same_weights(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a["epoch"] == b["epoch"]
    for part in ("model", "decoder"):
        assert a[part].keys() == b[part].keys()
        for name, tensor in a[part].items():
            assert torch.equal(tensor, b[part][name]), f"{part}.{name} differs"
    for index, state in a["optimizer"]["state"].items():
        for key, value in state.items():
            assert torch.equal(value, b["optimizer"]["state"][index][key]), (index, key)
    losses = [(m["train_loss"], m["test_loss"], m["test_accuracy"]) for m in a["metrics"]]
    assert losses == [(m["train_loss"], m["test_loss"], m["test_accuracy"]) for m in b["metrics"]]


@pytest.fixture(scope="module")
def whole_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted run of RESUME_RUN, the reference for the resumed ones."""
    out = tmp_path_factory.mktemp("whole")
    result = _train(*RESUME_RUN, "--out", str(out), "--name", "whole")
    assert result.returncode == 0, result.stderr
    return out / "whole"


@needs_stack
def test_short_default_run_beats_chance(tmp_path: Path) -> None:
    started = time.perf_counter()
    result = _train(*SHORT_RUN, "--out", str(tmp_path))
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    accuracy = float(re.search(r"test accuracy: ([\d.]+)%", result.stdout).group(1))  # type: ignore[union-attr]
    assert accuracy >= 30.0, result.stdout  # chance is 10% (10 classes); seen: 45-55%
    (run_dir,) = tmp_path.iterdir()
    assert f"run folder: {run_dir}" in result.stdout
    assert "dataset: randman (800 train / 200 test samples, 10 classes)" in result.stdout
    assert "encoder: none (temporal dataset)" in result.stdout
    assert {p.name for p in run_dir.iterdir()} >= {"config.toml", METRICS, CHECKPOINT}
    assert seconds < 120


@needs_stack
def test_hard_exit_after_epoch_1_then_resume_gives_the_same_weights(
    tmp_path: Path, whole_run: Path
) -> None:
    crashed = _train(
        *RESUME_RUN, "--out", str(tmp_path), "--name", "part", env={EXIT_AFTER_EPOCH_ENV: "1"}
    )
    assert crashed.returncode == 3, crashed.stderr
    run_dir = tmp_path / "part"
    assert [m["epoch"] for m in json.loads((run_dir / METRICS).read_text())] == [1]
    assert _weights(run_dir)["epoch"] == 1
    resumed = _train("--resume", str(run_dir), "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming {run_dir} after epoch 1 of 3" in resumed.stdout
    _assert_same_weights(_weights(whole_run), _weights(run_dir))
    assert [m["epoch"] for m in json.loads((run_dir / METRICS).read_text())] == [1, 2, 3]


@needs_stack
def test_sigkill_at_any_moment_then_resume_gives_the_same_weights(
    tmp_path: Path, whole_run: Path
) -> None:
    args = [*RESUME_RUN, "--out", str(tmp_path), "--name", "killed"]
    command = [sys.executable, "-m", "spikingtorch", "train", *args]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    metrics = tmp_path / "killed" / METRICS
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if metrics.exists() and json.loads(metrics.read_text() or "[]"):
                break  # epoch 1 is saved: kill it while it trains epoch 2
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL  # killed, not finished
    run_dir = tmp_path / "killed"
    assert 1 <= _weights(run_dir)["epoch"] < 3  # the last complete checkpoint survived
    resumed = _train("--resume", str(run_dir), "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    _assert_same_weights(_weights(whole_run), _weights(run_dir))
    assert [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_without_the_datasets_plugin_train_says_what_to_install(tmp_path: Path) -> None:
    # Installed or not, the datasets plugin is off: only core, neurons and encoders are loaded.
    result = _train(
        "--out", str(tmp_path), env={"SPIKINGTORCH_DISABLE_PLUGINS": "spikingtorch-datasets"}
    )
    assert result.returncode == 2
    assert "needs the datasets plugin 'spikingtorch-datasets' for 'randman'" in result.stderr
    assert "pip install spikingtorch-datasets" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@needs_neurons
def test_unknown_neuron_lists_the_installed_ones(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["train", "--neuron", "lfi", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert re.search(r"Available neurons: .*\balif\b.*\bif\b.*\blif\b", result.stderr)
    assert "Did you mean 'lif'?" in result.stderr
    assert "Traceback" not in result.output


@pytest.fixture
def image_dataset() -> Iterator[None]:
    """The installed plugins plus a small fake image dataset (``toy_images``, (1, 12, 12))."""
    spikingtorch.reset_plugins()
    spikingtorch.register_plugin(FakeStackPlugin(), name="fake-stack")
    yield
    spikingtorch.reset_plugins()


@_needs("spikingtorch_neurons", "spikingtorch_encoders")
@pytest.mark.usefixtures("image_dataset")
def test_seed_tutorial_stack_trains_through_the_cli(tmp_path: Path) -> None:
    args = [
        *("--dataset", "toy_images", "--encoder", "poisson", "--steps", "8"),
        *("--network", "convnet", "--network-param", "channels=[4, 6]", "--neuron", "if"),
        *("--decoder", "sum", "--epochs", "2", "--batch-size", "8", "--threads", "1"),
        *("--out", str(tmp_path), "--name", "seed", "--no-progress"),
    ]
    result = CliRunner().invoke(cli, ["train", *args])
    assert result.exit_code == 0, result.output
    assert "PoissonEncoder(steps=8" in result.stdout
    assert "per-step input (1, 12, 12), T=8" in result.stdout
    saved = load_checkpoint(tmp_path / "seed" / CHECKPOINT)
    assert saved["model"]["net.convs.0.weight"].shape == (4, 1, 4, 4)
    assert saved["model"]["net.out.weight"].shape == (4, 24)  # 6 channels x 2 x 2 after 12x12
