"""The training loop: run folders, checkpoints (atomic, versioned), resume, plots, devices.

Uses fake components registered in-process (``_train_fakes``), so it runs with the core alone.
The kill-and-resume test with real plugins is in ``tests/integration/test_train.py``.
"""

from __future__ import annotations

import dataclasses
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner, Result

from spikingtorch import checkpoint as checkpoint_module
from spikingtorch.cli import cli
from spikingtorch.config import StackConfigError, load_toml, resolve_config
from spikingtorch.train import (
    CHECKPOINT,
    CONFIG,
    METRICS,
    PLOT,
    CheckpointError,
    choose_device,
    load_checkpoint,
    load_run_config,
    plot_metrics,
    save_checkpoint,
    seed_everything,
    train,
)

from ._train_fakes import TOY_STACK, register_fakes

HAS_MATPLOTLIB = __import__("importlib.util").util.find_spec("matplotlib") is not None


@pytest.fixture
def fakes(plugin_sandbox: Callable[..., None]) -> None:
    register_fakes()


def _config(tmp_path: Path, **overrides: Any) -> Any:
    return resolve_config(None, {**TOY_STACK, "out": str(tmp_path / "runs"), **overrides})


def _quiet(lines: list[str] | None = None) -> Callable[[str], None]:
    return (lambda s: None) if lines is None else lines.append


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, ["train", "--no-progress", *args])


def _toy_args(tmp_path: Path) -> list[str]:
    return [
        *("--dataset", "toy_temporal", "--neuron", "toy", "--decoder", "toy_count"),
        *("--network-param", "hidden=[8]", "--batch-size", "8", "--threads", "1"),
        *("--out", str(tmp_path / "runs")),
    ]


# -- the run folder -------------------------------------------------------------------------


@pytest.mark.usefixtures("fakes")
def test_cli_run_writes_the_run_folder(tmp_path: Path) -> None:
    result = _cli(*_toy_args(tmp_path), "--epochs", "2", "--name", "first")
    assert result.exit_code == 0, result.output
    run_dir = tmp_path / "runs" / "first"
    assert f"run folder: {run_dir}" in result.stdout
    assert "test accuracy: " in result.stdout and "after 2 epochs" in result.stdout
    metrics = json.loads((run_dir / METRICS).read_text())
    assert [m["epoch"] for m in metrics] == [1, 2]
    assert set(metrics[0]) == {
        "epoch",
        "train_loss",
        "train_accuracy",
        "test_loss",
        "test_accuracy",
        "seconds",
    }
    config = load_toml(run_dir / CONFIG)  # the resolved config, reusable with --config
    assert config.encoder == "none" and config.name == "first" and config.epochs == 2
    checkpoint = load_checkpoint(run_dir / CHECKPOINT)
    assert checkpoint["epoch"] == 2 and checkpoint["metrics"] == metrics
    assert set(checkpoint) >= {"model", "decoder", "optimizer", "rng", "config", "format"}
    assert [p.name for p in run_dir.iterdir() if p.name.startswith(".")] == []  # no temp files
    assert (run_dir / PLOT).exists() == HAS_MATPLOTLIB
    # the same name again is refused; a timestamped name is new each time
    again = _cli(*_toy_args(tmp_path), "--epochs", "1", "--name", "first")
    assert again.exit_code == 2 and "--resume" in again.stderr
    stamped = [train(_config(tmp_path, epochs=1), progress=False, echo=_quiet()) for _ in "ab"]
    assert stamped[0].run_dir != stamped[1].run_dir


@pytest.mark.usefixtures("fakes")
def test_training_is_deterministic_and_resume_continues_exactly(tmp_path: Path) -> None:
    whole = train(_config(tmp_path, epochs=3, name="whole"), progress=False, echo=_quiet())
    part = train(_config(tmp_path, epochs=1, name="part"), progress=False, echo=_quiet())
    random.random()  # disturb every generator between the two processes' worth of work
    torch.rand(3)
    lines: list[str] = []
    config = dataclasses.replace(load_run_config(part.run_dir), epochs=3)
    resumed = train(config, resume=part.run_dir, progress=False, echo=_quiet(lines))
    assert any("resuming" in line and "after epoch 1 of 3" in line for line in lines)
    a = load_checkpoint(whole.run_dir / CHECKPOINT)
    b = load_checkpoint(resumed.run_dir / CHECKPOINT)
    for key in ("model", "decoder"):
        assert a[key].keys() == b[key].keys()
        for name in a[key]:
            assert torch.equal(a[key][name], b[key][name]), name
    assert [m["test_loss"] for m in whole.metrics] == [m["test_loss"] for m in resumed.metrics]
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"])


@pytest.mark.usefixtures("fakes")
def test_resume_through_the_cli(tmp_path: Path) -> None:
    assert _cli(*_toy_args(tmp_path), "--epochs", "1", "--name", "r").exit_code == 0
    run_dir = str(tmp_path / "runs" / "r")
    result = _cli("--resume", run_dir, "--epochs", "2", "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert "resuming" in result.stdout and "after 2 epochs" in result.stdout
    assert load_toml(Path(run_dir) / CONFIG).epochs == 2
    done = _cli("--resume", run_dir)
    assert done.exit_code == 0 and "nothing to train" in done.stdout
    refused = _cli("--resume", run_dir, "--lr", "0.5", "--neuron", "toy")
    assert refused.exit_code == 2
    assert "only --epochs and --device" in refused.stderr and "--lr, --neuron" in refused.stderr
    missing = _cli("--resume", str(tmp_path / "nowhere"))
    assert missing.exit_code == 1 and "is not a run folder" in missing.stderr
    # killed before the first checkpoint: the run starts again in its folder
    Path(run_dir, CHECKPOINT).unlink()
    again = _cli("--resume", run_dir)
    assert again.exit_code == 0, again.output
    assert "stopped before its first checkpoint" in again.stdout
    assert load_checkpoint(Path(run_dir) / CHECKPOINT)["epoch"] == 2


@pytest.mark.usefixtures("fakes")
def test_resume_with_a_changed_shape_is_a_clear_error(tmp_path: Path) -> None:
    assert _cli(*_toy_args(tmp_path), "--epochs", "1", "--name", "s").exit_code == 0
    config_file = tmp_path / "runs" / "s" / CONFIG
    config_file.write_text(config_file.read_text().replace("hidden = [8]", "hidden = [9]"))
    result = _cli("--resume", str(tmp_path / "runs" / "s"), "--epochs", "2")
    assert result.exit_code == 1
    assert "does not fit the model" in result.stderr and "size mismatch" in result.stderr
    assert "Traceback" not in result.output


# -- checkpoints ----------------------------------------------------------------------------


def test_checkpoint_round_trip_with_weights_only(tmp_path: Path) -> None:
    path = tmp_path / "c.pt"
    state = {"model": {"w": torch.arange(3.0)}, "epoch": 4, "rng": {"python": [3, [1, 2], None]}}
    save_checkpoint(path, state)
    loaded = load_checkpoint(path)
    assert loaded["epoch"] == 4 and torch.equal(loaded["model"]["w"], torch.arange(3.0))
    assert loaded["spikingtorch_version"] == checkpoint_module.__version__


def test_checkpoint_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"epoch": 1})
    before = path.read_bytes()

    def failing_save(obj: Any, fh: Any) -> None:
        fh.write(b"partial bytes")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"epoch": 2})
    assert path.read_bytes() == before  # the old checkpoint is intact
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # and no temp file is left
    monkeypatch.undo()
    assert load_checkpoint(path)["epoch"] == 1


@pytest.mark.parametrize("version", ["1.0.0", "0.2.0", "2.3"])
def test_checkpoint_from_another_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    path = tmp_path / "c.pt"
    monkeypatch.setattr(checkpoint_module, "__version__", version)
    save_checkpoint(path, {"epoch": 1})
    monkeypatch.setattr(checkpoint_module, "__version__", "0.1.0")
    with pytest.raises(CheckpointError, match=f"written by spikingtorch {version}.*0.1.0"):
        load_checkpoint(path)


def test_compatible_versions_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.pt"
    monkeypatch.setattr(checkpoint_module, "__version__", "0.1.7")
    save_checkpoint(path, {"epoch": 1})
    monkeypatch.setattr(checkpoint_module, "__version__", "0.1.0")
    assert load_checkpoint(path)["epoch"] == 1


def test_unreadable_checkpoints(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        load_checkpoint(corrupt)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(CheckpointError, match="not a spikingtorch training checkpoint"):
        load_checkpoint(foreign)
    unsafe = tmp_path / "unsafe.pt"
    torch.save({"spikingtorch_version": "0.1.0", "format": 1, "obj": Path("x")}, unsafe)
    with pytest.raises(CheckpointError, match="cannot read"):  # weights_only refuses objects
        load_checkpoint(unsafe)


# -- plots, seeding, devices ----------------------------------------------------------------

METRICS_2 = [
    {"epoch": e, "train_loss": 1.0 / e, "train_accuracy": 0.5, "test_loss": 1.2 / e,
     "test_accuracy": 0.4}
    for e in (1, 2)
]  # fmt: skip


def test_plot_is_skipped_with_a_note_without_matplotlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    lines: list[str] = []
    assert plot_metrics(METRICS_2, tmp_path / PLOT, lines.append) is False
    assert not (tmp_path / PLOT).exists()
    assert len(lines) == 1
    assert "matplotlib is not installed" in lines[0] and "spikingtorch-core[plot]" in lines[0]


@pytest.mark.usefixtures("fakes")
def test_training_without_matplotlib_prints_the_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    result = _cli(*_toy_args(tmp_path), "--epochs", "1", "--name", "noplot")
    assert result.exit_code == 0, result.output
    assert "note: matplotlib is not installed" in result.stdout
    assert not (tmp_path / "runs" / "noplot" / PLOT).exists()


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="needs matplotlib (the plot extra)")
def test_plot_is_a_png(tmp_path: Path) -> None:
    assert plot_metrics(METRICS_2, tmp_path / PLOT, print) is True
    assert (tmp_path / PLOT).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_seed_everything() -> None:
    import numpy as np

    seed_everything(3)
    first = (random.random(), torch.rand(2), np.random.rand())  # noqa: NPY002
    seed_everything(3)
    second = (random.random(), torch.rand(2), np.random.rand())  # noqa: NPY002
    assert first[0] == second[0] and torch.equal(first[1], second[1]) and first[2] == second[2]


def test_choose_device(monkeypatch: pytest.MonkeyPatch) -> None:
    assert choose_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert choose_device("auto").type in ("cpu", "mps")
    with pytest.raises(StackConfigError, match="CUDA is not available"):
        choose_device("cuda")
    with pytest.raises(StackConfigError, match="CUDA is not available"):
        choose_device("cuda:1")
