"""The training/evaluation loop behind ``spikingtorch train``: seeding, devices, run folders.

:func:`train` builds a stack from a :class:`~spikingtorch.config.StackConfig`, trains it with a
progress bar per epoch, evaluates it on the test set after every epoch and keeps a *run folder*
``<out>/<name or timestamp>/``:

* ``config.toml`` — the resolved config (reusable with ``--config``);
* ``metrics.json`` — one record per epoch (losses, accuracies, seconds);
* ``checkpoint.pt`` — model, decoder, optimizer, epoch, RNG states, config and the spikingtorch
  version, written atomically after every epoch (temp file + ``os.replace``) and read with
  ``torch.load(weights_only=True)``;
* ``curves.png`` — loss and accuracy curves (needs matplotlib: ``spikingtorch-core[plot]``).

``--resume RUN_DIR`` (:func:`train` with ``resume=``) restores everything, RNG states included,
and continues with the next epoch, so that an interrupted run ends with the same weights as an
uninterrupted one (same seed, same device).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from spikingtorch.checkpoint import (
    CheckpointError,
    atomic_write,
    load_checkpoint,
    load_modules,
    rng_state,
    save_checkpoint,
    seed_everything,
    seed_worker,
    set_rng_state,
    write_text,
)
from spikingtorch.config import StackConfig, StackConfigError, dumps_toml, load_toml
from spikingtorch.stack import Stack, build_stack

__all__ = [
    "CHECKPOINT",
    "CONFIG",
    "EXIT_AFTER_EPOCH_ENV",
    "METRICS",
    "PLOT",
    "CheckpointError",
    "RunResult",
    "choose_device",
    "evaluate",
    "load_checkpoint",
    "load_run_config",
    "plot_metrics",
    "save_checkpoint",
    "seed_everything",
    "train",
]

CONFIG = "config.toml"
METRICS = "metrics.json"
CHECKPOINT = "checkpoint.pt"
PLOT = "curves.png"
EXIT_AFTER_EPOCH_ENV = "SPIKINGTORCH_TRAIN_EXIT_AFTER_EPOCH"
"""Testing aid: ``k`` makes :func:`train` exit the process hard (``os._exit(3)``, no cleanup)
right after epoch ``k`` is saved, as a crash or a kill would."""

Echo = Callable[[str], None]


@dataclass
class RunResult:
    """What :func:`train` returns: the run folder, the per-epoch metrics and the final accuracy."""

    run_dir: Path
    metrics: list[dict[str, Any]]

    @property
    def test_accuracy(self) -> float:
        """Test accuracy after the last epoch, in ``[0, 1]`` (NaN before the first)."""
        return float(self.metrics[-1]["test_accuracy"]) if self.metrics else math.nan


def choose_device(name: str) -> torch.device:
    """``"auto"`` (CUDA, else MPS, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.

    Raises:
        StackConfigError: the device is not available here.
    """
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps is not None and mps.is_available())
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise StackConfigError(f"device {name!r}: CUDA is not available; use --device cpu")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise StackConfigError(f"device {name!r}: only {torch.cuda.device_count()} CUDA devices")
    if device.type == "mps" and not has_mps:
        raise StackConfigError(f"device {name!r}: MPS is not available; use --device cpu")
    return device


def plot_metrics(metrics: list[dict[str, Any]], path: str | Path, echo: Echo = print) -> bool:
    """Write a PNG of the loss and accuracy curves; without matplotlib, echo a note instead.

    Returns:
        Whether the plot was written.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        echo(
            "note: matplotlib is not installed, so no loss/accuracy plot was written "
            "(pip install 'spikingtorch-core[plot]')"
        )
        return False
    fig = Figure(figsize=(9, 3.5), layout="constrained")
    loss_ax, acc_ax = fig.subplots(1, 2)
    epochs = [m["epoch"] for m in metrics]
    for split in ("train", "test"):
        loss_ax.plot(epochs, [m[f"{split}_loss"] for m in metrics], marker="o", label=split)
        acc_ax.plot(
            epochs, [100 * m[f"{split}_accuracy"] for m in metrics], marker="o", label=split
        )
    for ax, label in ((loss_ax, "loss"), (acc_ax, "accuracy (%)")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    atomic_write(Path(path), lambda fh: fig.savefig(fh, format="png", dpi=100))
    return True


def _make_run_dir(out: str, name: str | None) -> Path:
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    if name is not None:
        run_dir = root / name
        if run_dir.exists():
            raise StackConfigError(
                f"run folder {str(run_dir)!r} exists; continue it with --resume {run_dir} or "
                "choose another --name"
            )
        run_dir.mkdir()
        return run_dir
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for i in range(1000):
        run_dir = root / (stamp if i == 0 else f"{stamp}-{i}")
        try:
            run_dir.mkdir()
        except FileExistsError:
            continue
        return run_dir
    raise StackConfigError(f"cannot create a new run folder in {str(root)!r}")


def load_run_config(run_dir: str | Path) -> StackConfig:
    """The resolved config of a run folder (its ``config.toml``)."""
    path = Path(run_dir) / CONFIG
    if not path.is_file():
        raise CheckpointError(f"{str(run_dir)!r} is not a run folder: it has no {CONFIG}")
    return load_toml(path)


# -- the loop -------------------------------------------------------------------------------


def _progress(loader: Iterable[Any], desc: str, enabled: bool) -> Any:
    if not enabled:
        return loader
    try:
        from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return loader
    return tqdm(loader, desc=desc, leave=False, dynamic_ncols=True, file=sys.stderr)


def _train_epoch(
    stack: Stack, loader: DataLoader[Any], optimizer: torch.optim.Optimizer, device: torch.device,
    desc: str, progress: bool,
) -> tuple[float, float]:  # fmt: skip
    stack.model.train()
    stack.decoder.train()
    total_loss, correct, seen = 0.0, 0, 0
    bar = _progress(loader, desc, progress)
    for x, y in bar:
        x, y = x.to(device), y.to(device)
        scores = stack.scores(x)
        loss = stack.loss(scores, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        n = y.shape[0]
        total_loss += loss.item() * n
        correct += int((stack.loss.predict(scores.detach()) == y).sum())
        seen += n
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{100 * correct / seen:.1f}%")
    if hasattr(bar, "close"):
        bar.close()
    return total_loss / max(seen, 1), correct / max(seen, 1)


@torch.no_grad()
def evaluate(stack: Stack, loader: DataLoader[Any], device: torch.device) -> tuple[float, float]:
    """Mean loss and accuracy of ``stack`` over ``loader``."""
    stack.model.eval()
    stack.decoder.eval()
    total_loss, correct, seen = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        scores = stack.scores(x)
        total_loss += stack.loss(scores, y).item() * y.shape[0]
        correct += int((stack.loss.predict(scores) == y).sum())
        seen += y.shape[0]
    return total_loss / max(seen, 1), correct / max(seen, 1)


def _optimizer(config: StackConfig, params: list[nn.Parameter]) -> torch.optim.Optimizer:
    kind = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
    return kind[config.optimizer](params, lr=config.lr, weight_decay=config.weight_decay)


def train(
    config: StackConfig,
    *,
    resume: str | Path | None = None,
    progress: bool = True,
    echo: Echo = print,
) -> RunResult:
    """Train the stack of ``config`` and evaluate it after every epoch; see the module docstring.

    Args:
        config: the resolved config. With ``resume``, the run folder's config with at most
            ``epochs`` and ``device`` changed (see :func:`load_run_config`).
        resume: a run folder to continue from its checkpoint.
        progress: show a progress bar per epoch (tqdm, on stderr).
        echo: where the per-epoch summary lines and notes go.

    Raises:
        ComponentNotFoundError: a component that no installed plugin provides.
        StackConfigError: a bad config, an unavailable device, an existing ``--name``.
        CheckpointError: a checkpoint that cannot be resumed.
    """
    device = choose_device(config.device)
    threads = torch.get_num_threads()
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    try:
        return _run(config, device, resume, progress, echo)
    finally:
        torch.set_num_threads(threads)  # leave the process as it was (notebooks, tests)


def _run(
    config: StackConfig, device: torch.device, resume: str | Path | None, progress: bool,
    echo: Echo,
) -> RunResult:  # fmt: skip
    checkpoint = None
    if resume is not None:
        run_dir = Path(resume)
        if (run_dir / CHECKPOINT).exists() or not (run_dir / CONFIG).exists():
            checkpoint = load_checkpoint(run_dir / CHECKPOINT)
        else:
            echo(f"{run_dir} stopped before its first checkpoint: starting it from epoch 1")
    seed_everything(config.seed)
    stack = build_stack(config).to(device)
    modules: dict[str, nn.Module | None] = {
        "model": stack.model, "decoder": stack.decoder, "encoder": stack.encoder,
    }  # fmt: skip
    params = [p for m in modules.values() if m is not None for p in m.parameters()]
    if any(isinstance(p, nn.parameter.UninitializedParameter) for p in params):
        with torch.no_grad():  # materialise lazy modules before the optimizer sees them
            stack.scores(torch.as_tensor(stack.train_set[0][0]).unsqueeze(0).to(device))
        params = [p for m in modules.values() if m is not None for p in m.parameters()]
    optimizer = _optimizer(stack.config, params)
    loader_generator = torch.Generator().manual_seed(config.seed)
    metrics: list[dict[str, Any]] = []
    start = 0
    if checkpoint is not None:
        load_modules(modules, checkpoint, run_dir / CHECKPOINT)
        try:
            optimizer.load_state_dict(checkpoint["optimizer"])
        except (KeyError, ValueError) as exc:
            raise CheckpointError(f"checkpoint optimizer state does not fit: {exc}") from exc
        set_rng_state(checkpoint["rng"], loader_generator)
        start, metrics = int(checkpoint["epoch"]), list(checkpoint["metrics"])
        for name in (CHECKPOINT, CONFIG, METRICS, PLOT):  # temp files of a killed run
            for stale in run_dir.glob(f".{name}.*.tmp"):
                stale.unlink()
        echo(f"resuming {run_dir} after epoch {start} of {config.epochs}")
    elif resume is None:
        run_dir = _make_run_dir(config.out, config.name)
    resolved = replace(stack.config, name=run_dir.name)
    write_text(run_dir / CONFIG, dumps_toml(resolved))
    echo(stack.describe() + f"\ndevice: {device}\nrun folder: {run_dir}")

    train_loader = DataLoader(
        stack.train_set, batch_size=config.batch_size, shuffle=True,
        generator=loader_generator, num_workers=config.num_workers, worker_init_fn=seed_worker,
    )  # fmt: skip
    test_loader = DataLoader(
        stack.test_set, batch_size=config.batch_size, num_workers=config.num_workers
    )
    exit_after = os.environ.get(EXIT_AFTER_EPOCH_ENV)
    for epoch in range(start, config.epochs):
        began = time.perf_counter()
        desc = f"epoch {epoch + 1}/{config.epochs}"
        train_loss, train_acc = _train_epoch(stack, train_loader, optimizer, device, desc, progress)
        test_loss, test_acc = evaluate(stack, test_loader, device)
        record = {
            "epoch": epoch + 1,
            "train_loss": train_loss,
            "train_accuracy": train_acc,
            "test_loss": test_loss,
            "test_accuracy": test_acc,
            "seconds": round(time.perf_counter() - began, 3),
        }
        metrics.append(record)
        save_checkpoint(
            run_dir / CHECKPOINT,
            {
                **{k: m.state_dict() for k, m in modules.items() if m is not None},
                "optimizer": optimizer.state_dict(),
                "epoch": epoch + 1,
                "metrics": metrics,
                "rng": rng_state(loader_generator),
                "config": dumps_toml(resolved),
            },
        )
        write_text(run_dir / METRICS, json.dumps(metrics, indent=2) + "\n")
        echo(
            f"{desc}: train loss {train_loss:.4f}, accuracy {100 * train_acc:.1f}% | "
            f"test loss {test_loss:.4f}, accuracy {100 * test_acc:.1f}% "
            f"({record['seconds']:.1f} s)"
        )
        if exit_after is not None and exit_after.strip() == str(epoch + 1):
            sys.stdout.flush()
            os._exit(3)
    if start >= config.epochs:
        echo(f"nothing to train: the run already has {start} of {config.epochs} epochs")
    if metrics:
        plot_metrics(metrics, run_dir / PLOT, echo)
    return RunResult(run_dir, metrics)
