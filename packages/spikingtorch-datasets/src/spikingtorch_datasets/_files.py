"""Errors for missing or damaged dataset files, and the small file checks that raise them.

Every error names the file (or folder) and the problem, so that a user can fix it without reading
the loader's source. This module imports neither torch nor numpy.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = [
    "CorruptFileError",
    "DatasetNotFoundError",
    "check_idx_file",
    "expand_root",
    "require_root",
]

PathLike = str | os.PathLike[str]


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are not where they were looked for.

    The message lists the missing paths and says how to get the files (``download=True`` where
    the dataset supports it, otherwise where to download them by hand).

    Attributes:
        dataset: The dataset's name (``"MNIST"``, ``"SHD"``, ...).
        missing: The paths that were looked for and not found.
        hint: How to get the files.
    """

    def __init__(self, dataset: str, missing: Sequence[PathLike], hint: str) -> None:
        self.dataset = dataset
        self.missing = [Path(p) for p in missing]
        self.hint = hint
        shown = "\n".join(f"  {p}" for p in self.missing[:8])
        if len(self.missing) > 8:
            shown += f"\n  ... and {len(self.missing) - 8} more"
        super().__init__(f"{dataset} dataset not found; looked for:\n{shown}\n{hint}")

    def __str__(self) -> str:
        return str(self.args[0])


class CorruptFileError(ValueError):
    """A dataset file exists but cannot be what it claims to be (truncated, wrong format, ...).

    Attributes:
        path: The offending file.
        problem: What is wrong with it, in words.
    """

    def __init__(self, path: PathLike, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"corrupt dataset file {str(self.path)!r}: {problem}")


def expand_root(root: PathLike | None, dataset: str) -> Path:
    """``root`` as a :class:`~pathlib.Path` with ``~`` expanded (a ``TypeError`` for None)."""
    if root is None:
        raise TypeError(f"{dataset} needs a root folder (root=...), got None")
    if not isinstance(root, str | os.PathLike):
        raise TypeError(f"{dataset}: root must be a path, got {type(root).__name__}")
    return Path(root).expanduser()


def require_root(root: Path, dataset: str, hint: str) -> None:
    """Raise :class:`DatasetNotFoundError` if ``root`` exists but is not a folder."""
    if root.exists() and not root.is_dir():
        raise DatasetNotFoundError(dataset, [root], f"{root} is a file, not a folder. {hint}")


def missing_files(paths: Iterable[Path]) -> list[Path]:
    """The paths among ``paths`` that are not regular files."""
    return [p for p in paths if not p.is_file()]


# IDX element types (byte 2 of the magic number) and their sizes in bytes.
_IDX_TYPES = {0x08: ("uint8", 1), 0x09: ("int8", 1), 0x0B: ("int16", 2), 0x0C: ("int32", 4)}
_IDX_TYPES.update({0x0D: ("float32", 4), 0x0E: ("float64", 8)})


def check_idx_file(path: Path, *, ndim: int, dims: Sequence[int | None] = ()) -> tuple[int, ...]:
    """Check an uncompressed IDX ("ubyte") file's header and length; return its shape.

    The IDX format: 4 magic bytes ``00 00 <type> <ndim>``, one big-endian uint32 per dimension,
    then the elements in C order. Only the header is read.

    Args:
        path: The file.
        ndim: The expected number of dimensions (3 for images, 1 for labels).
        dims: Expected sizes of the dimensions (None: any); shorter than ``ndim`` is fine.

    Raises:
        CorruptFileError: Wrong magic number, element type other than uint8, unexpected
            dimensions, or a file length that differs from what the header says.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        header = f.read(4 + 4 * ndim)
    if len(header) < 4:
        raise CorruptFileError(path, f"{size} bytes is too short for an IDX header")
    if header[0] != 0 or header[1] != 0 or header[2] not in _IDX_TYPES:
        raise CorruptFileError(
            path,
            f"wrong IDX magic number 0x{header[:4].hex()} (expected 0x0000080{ndim}); "
            "not an uncompressed IDX file (a .gz must be decompressed into raw/)",
        )
    if header[3] != ndim:
        raise CorruptFileError(
            path,
            f"IDX header says {header[3]} dimensions, expected {ndim} (magic 0x{header[:4].hex()})",
        )
    type_name, itemsize = _IDX_TYPES[header[2]]
    if type_name != "uint8":
        raise CorruptFileError(path, f"IDX element type is {type_name}, expected uint8")
    if len(header) < 4 + 4 * ndim:
        raise CorruptFileError(path, f"{size} bytes is too short for a {ndim}-d IDX header")
    shape = tuple(int.from_bytes(header[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    for axis, (got, want) in enumerate(zip(shape, dims, strict=False)):
        if want is not None and got != want:
            raise CorruptFileError(
                path, f"IDX dimension {axis} is {got}, expected {want} (shape {shape})"
            )
    expected = 4 + 4 * ndim + itemsize * _prod(shape)
    if size != expected:
        problem = "shorter" if size < expected else "longer"
        raise CorruptFileError(
            path,
            f"file is {problem} than its header says: {size} bytes, but shape {shape} "
            f"needs {expected} (truncated or damaged download?)",
        )
    return shape


def _prod(values: Iterable[int]) -> int:
    out = 1
    for v in values:
        out *= v
    return out
