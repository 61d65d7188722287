"""Worker process of ``bench_train.py``: hosts one framework for one configuration.

The coordinator starts one worker per framework, so each has its own peak RSS and its own
allocator and thread pools. It speaks a line protocol: one JSON request per line on stdin,
one JSON reply per line on a private copy of the original stdout. Anything the libraries
print goes to stderr (the coordinator logs it), so it cannot corrupt the protocol.

Requests (``{"cmd": ...}``) and replies:

* ``setup`` with ``framework``, ``workload`` (the :class:`Workload` fields), ``threads`` and
  ``options``: imports torch and the library and builds the model.
  Reply ``{"ok": true, "version", "rss_mb"}``, or ``{"ok": false, "error"}``.
* ``probe``: forward-equivalence data (:class:`~_frameworks.Probe`) on the reference weights.
* ``train`` / ``infer``: one timed training step / no-grad forward; reply ``{"ok", "ms"}``.
* ``rss``: ``{"ok", "rss_mb"}``, the process's peak resident set size so far.
* ``quit``: exit.

Every failure is a reply ``{"ok": false, "error": "Type: message", "traceback": ...}``.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import traceback
from dataclasses import asdict
from typing import IO, Any


def _peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (``ru_maxrss`` is in KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def _no_sync() -> None:
    """CPU steps end when they return."""


class Worker:
    """State of one worker: the runner once ``setup`` succeeded."""

    def __init__(self) -> None:
        self.runner: Any = None
        self._sync = _no_sync

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer one request; raises on failure (the caller turns that into a reply)."""
        cmd = request.get("cmd")
        if cmd == "setup":
            return self._setup(request)
        if cmd == "rss":
            return {"ok": True, "rss_mb": _peak_rss_mb()}
        if self.runner is None:
            raise RuntimeError(f"{cmd!r} before a successful setup")
        if cmd == "probe":
            return {"ok": True, **asdict(self.runner.probe())}
        if cmd in ("train", "infer"):
            step = self.runner.train_step if cmd == "train" else self.runner.infer
            self._sync()
            start = time.perf_counter()
            step()
            self._sync()  # a GPU step is timed to its end, not to its last launch
            return {"ok": True, "ms": (time.perf_counter() - start) * 1e3}
        raise ValueError(f"unknown command {cmd!r}")

    def _setup(self, request: dict[str, Any]) -> dict[str, Any]:
        import torch

        from _frameworks import build
        from _workload import Workload

        threads = int(request["threads"])
        torch.set_num_threads(threads)
        work = Workload(**request["workload"])
        torch.manual_seed(work.seed)
        self.runner = build(request["framework"], work, request.get("options", {}))
        if torch.device(work.device).type == "cuda":
            self._sync = torch.cuda.synchronize
        return {
            "ok": True,
            "version": self.runner.version,
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "rss_mb": _peak_rss_mb(),
        }


def _error_reply(exc: BaseException) -> dict[str, Any]:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return {
        "ok": False,
        "error": f"{type(exc).__name__}: {message}"[:300],
        "traceback": traceback.format_exc(limit=8),
    }


def main(protocol: IO[str]) -> None:
    """Serve requests from stdin until ``quit`` or end of input."""
    worker = Worker()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if request.get("cmd") == "quit":
                break
            reply = worker.handle(request)
        except Exception as exc:  # reported to the coordinator, never fatal here
            traceback.print_exc(file=sys.stderr)
            reply = _error_reply(exc)
        protocol.write(json.dumps(reply) + "\n")
        protocol.flush()


if __name__ == "__main__":
    # Keep the real stdout for the protocol; send fd 1 (library prints, warnings) to stderr.
    _protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main(_protocol)
