"""Reproducibility and checkpoints of training runs: seeding, RNG states, atomic files.

A checkpoint is a ``dict`` of tensors and plain values (no pickled objects), saved with
:func:`save_checkpoint` through a temp file in the same folder and ``os.replace`` (a crash never
leaves a partial file), and read back with ``torch.load(weights_only=True)`` by
:func:`load_checkpoint`, which refuses checkpoints of an incompatible spikingtorch version.
The RNG states of Python, numpy, torch (CPU and CUDA) and the data loader's generator travel in
the checkpoint, so that a resumed run draws the same numbers as an uninterrupted one.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from spikingtorch import __version__

__all__ = [
    "CHECKPOINT_FORMAT",
    "CheckpointError",
    "atomic_write",
    "load_checkpoint",
    "load_modules",
    "rng_state",
    "save_checkpoint",
    "seed_everything",
    "seed_worker",
    "set_rng_state",
]

CHECKPOINT_FORMAT = 1


class CheckpointError(RuntimeError):
    """A checkpoint or run folder cannot be used: missing, corrupt, other version or shapes."""


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, torch (CPU and CUDA) and numpy when it is installed."""
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy
    except ImportError:
        return
    numpy.random.seed(seed % 2**32)  # noqa: NPY002 (the global RNG is what we seed)


def seed_worker(worker_id: int) -> None:
    """``DataLoader`` ``worker_init_fn``: seed ``random`` and numpy from the worker's torch seed."""
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    try:
        import numpy
    except ImportError:
        return
    numpy.random.seed(seed)  # noqa: NPY002


# -- RNG states -----------------------------------------------------------------------------


def rng_state(loader_generator: torch.Generator) -> dict[str, Any]:
    """The RNG states of Python, numpy, torch (CPU, CUDA) and ``loader_generator``."""
    version, keys, gauss = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "loader": loader_generator.get_state(),
        "python": [version, list(keys), gauss],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    try:
        import numpy
    except ImportError:
        return state
    np_state: Any = numpy.random.get_state()  # noqa: NPY002
    name, np_keys, pos, has_gauss, cached = np_state
    state["numpy"] = [name, torch.from_numpy(np_keys.astype("int64")), pos, has_gauss, cached]
    return state


def set_rng_state(state: dict[str, Any], loader_generator: torch.Generator) -> None:
    """Restore the states saved by :func:`rng_state`."""
    torch.set_rng_state(state["torch"])
    loader_generator.set_state(state["loader"])
    version, keys, gauss = state["python"]
    random.setstate((version, tuple(keys), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if "numpy" in state:
        try:
            import numpy
        except ImportError:
            return
        name, keys_t, pos, has_gauss, cached = state["numpy"]
        keys = keys_t.numpy().astype("uint32")
        numpy.random.set_state((name, keys, pos, has_gauss, cached))  # noqa: NPY002


# -- files ----------------------------------------------------------------------------------


def atomic_write(path: Path, write: Callable[[Any], None], mode: str = "wb") -> None:
    """Write ``path`` through a temp file in the same folder and ``os.replace``: readers see
    the old file or the new one, never a partial one; on failure the temp file is removed."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    atomic_write(path, lambda fh: fh.write(text), mode="w")


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Save ``payload`` (plus the format and spikingtorch version) atomically at ``path``."""
    data = {"format": CHECKPOINT_FORMAT, "spikingtorch_version": __version__, **payload}
    atomic_write(Path(path), lambda fh: torch.save(data, fh))


def _major(version: str) -> tuple[str, ...]:
    """The compatibility key of a version: the major number (and the minor one for 0.x)."""
    parts = str(version).split(".")
    return tuple(parts[:2]) if parts[0] == "0" else tuple(parts[:1])


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint saved by :func:`save_checkpoint` (``weights_only=True``, on the CPU).

    Raises:
        CheckpointError: the file is missing or unreadable, not a spikingtorch checkpoint, or
            from an incompatible spikingtorch version (another major version; for 0.x, another
            minor version).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {str(path)!r}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"cannot read checkpoint {str(path)!r}: {exc}") from exc
    if not isinstance(data, dict) or "spikingtorch_version" not in data:
        raise CheckpointError(f"{str(path)!r} is not a spikingtorch training checkpoint")
    saved = str(data["spikingtorch_version"])
    if _major(saved) != _major(__version__) or data.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"checkpoint {str(path)!r} was written by spikingtorch {saved} (format "
            f"{data.get('format')}); this is spikingtorch {__version__} (format "
            f"{CHECKPOINT_FORMAT}), which cannot resume it. Install spikingtorch-core=={saved} "
            "to resume it, or start a new run"
        )
    return data


def load_modules(modules: dict[str, nn.Module | None], data: dict[str, Any], path: Path) -> None:
    """Load ``data[key]`` into each module; a mismatch is a :class:`CheckpointError`."""
    for key, module in modules.items():
        if module is None:
            continue
        try:
            module.load_state_dict(data[key])
        except (KeyError, RuntimeError) as exc:
            detail = str(exc).strip().splitlines()
            raise CheckpointError(
                f"checkpoint {str(path)!r} does not fit the {key} built from the run's config "
                f"({detail[-1].strip() if detail else 'missing'}); was the config changed?"
            ) from exc
