"""Coordinator side of ``bench_train.py``: worker processes and the interleaved rounds.

:class:`WorkerProcess` starts one ``_worker.py`` and speaks its line protocol (one JSON request
and one JSON reply per line). :class:`ConfigRun` benchmarks one configuration: it sets up every
worker in parallel, then probes and warms them up one at a time, then runs interleaved rounds.
In each round every worker does exactly one step, one at a time, in a fresh seeded order (or
one rotated every round), with a short gap after each step. Training rounds come first, then
no-grad rounds.
Standard library only: the workers import torch, the coordinator does not.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import select
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from _names import REFERENCE_ORDER
from _report import compute_stats

__all__ = ["Config", "ConfigRun", "WorkerError", "WorkerProcess", "progress"]

WORKER = Path(__file__).resolve().parent / "_worker.py"
#: Seconds to wait for a worker's setup (imports, on a loaded machine) and for one request.
SETUP_TIMEOUT_S = 600.0
STEP_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Config:
    """One configuration: the fields of ``_workload.Workload`` (kept free of torch here)."""

    net: str
    steps: int
    neuron: str
    batch: int = 128
    seed: int = 0
    device: str = "cpu"

    @property
    def key(self) -> str:
        """File-name friendly id, e.g. ``A_T8_lif``."""
        return f"{self.net}_T{self.steps}_{self.neuron}"

    @property
    def title(self) -> str:
        """Column label in the summary tables, e.g. ``A T8 lif``."""
        return f"{self.net} T{self.steps} {self.neuron}"


class WorkerError(RuntimeError):
    """A worker replied with an error, timed out or died."""


@dataclass
class WorkerProcess:
    """One framework's worker process and its line protocol."""

    framework: str
    python: str
    log_path: Path
    threads: int
    proc: subprocess.Popen[str] | None = None
    _log: IO[str] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Launch the worker; its stderr (library output, tracebacks) goes to ``log_path``."""
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(self.threads)
        env["PYTHONUNBUFFERED"] = "1"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [self.python, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
            env=env,
        )

    def send(self, request: dict[str, Any]) -> None:
        """Write one request line."""
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerError(f"worker exited ({self._tail()})") from exc

    def receive(self, timeout: float) -> dict[str, Any]:
        """Read one reply line; raise :class:`WorkerError` on an error reply, timeout or exit."""
        assert self.proc is not None and self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.kill()
            raise WorkerError(f"no reply within {timeout:.0f} s")
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            raise WorkerError(f"worker exited with code {self.proc.returncode} ({self._tail()})")
        try:
            reply: dict[str, Any] = json.loads(line)
        except ValueError as exc:
            raise WorkerError(f"unreadable reply {line[:80]!r}") from exc
        if not reply.get("ok"):
            raise WorkerError(reply.get("error", "unknown error"))
        return reply

    def request(self, request: dict[str, Any], timeout: float = STEP_TIMEOUT_S) -> dict[str, Any]:
        """Send a request and wait for its reply."""
        self.send(request)
        return self.receive(timeout)

    def _tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return lines[-1][:200] if lines else "no output"

    def ask_to_quit(self) -> None:
        """Tell the worker to exit (without waiting), so that several can shut down at once."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(WorkerError):
                self.send({"cmd": "quit"})

    def kill(self, grace_s: float = 10.0) -> None:
        """Stop the worker: ask it to quit, wait up to ``grace_s``, then kill it; close the log."""
        if self.proc is not None and self.proc.poll() is None:
            self.ask_to_quit()
            try:
                self.proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


def _new_entry() -> dict[str, Any]:
    return {
        "status": "ok",
        "reason": "",
        "version": "",
        "rss_setup_mb": None,
        "rss_peak_mb": None,
        "rss_train_mb": None,
        "first_train_ms": None,
        "first_infer_ms": None,
        "train_ms": [],
        "infer_ms": [],
        "probe": None,
    }


def _choose_reference(entries: dict[str, dict[str, Any]]) -> str | None:
    for name in REFERENCE_ORDER:
        if entries.get(name, {}).get("status") == "ok" and entries[name]["probe"]:
            return name
    return None


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class ConfigRun:
    """The benchmark of one configuration: its workers and what they measured.

    Attributes:
        entries: per framework, the JSON-able record described in ``_report``.
        phases: wall time of each phase (setup, probe and warm-up, train and no-grad rounds).
    """

    def __init__(
        self, config: Config, frameworks: list[str], args: argparse.Namespace, log_dir: Path
    ) -> None:
        self.config = config
        self.frameworks = frameworks
        self.args = args
        self.log_dir = log_dir
        self.entries = {name: _new_entry() for name in frameworks}
        self.workers: dict[str, WorkerProcess] = {}
        self.phases: dict[str, float] = {}
        self._started = time.perf_counter()

    def run(self) -> dict[str, Any]:
        """Set up, probe, warm up, run the interleaved rounds; return the JSON-able result."""
        started_at = datetime.now().astimezone().isoformat(timespec="seconds")
        try:
            self.setup()
            self._phase("setup_s")
            self.probe_and_warm_up()
            self._phase("probe_warmup_s")
            for kind in ("train", "infer"):
                self.rounds(kind)
                self._phase(f"{kind}_rounds_s")
                progress(f"  {kind} rounds done ({self._elapsed():.0f} s)")
            for name in list(self.workers):
                reply = self._request(name, {"cmd": "rss"})
                if reply is not None:
                    self.entries[name]["rss_peak_mb"] = reply["rss_mb"]
        finally:
            for worker in self.workers.values():
                worker.ask_to_quit()
            for worker in self.workers.values():
                worker.kill()
        if self.args.train_memory:
            self.train_memory()
            self._phase("train_memory_s")
        args = self.args
        result: dict[str, Any] = {
            "key": self.config.key,
            "title": self.config.title,
            "workload": asdict(self.config),
            "rounds": args.rounds,
            "warmup": args.warmup,
            "threads": args.threads,
            "gap_ms": args.gap_ms,
            "order": args.order,
            "python": args.python,
            "st_seq_kwargs": {
                name: kwargs
                for name, kwargs in args.st_seq_variants.items()
                if name in self.frameworks
            },
            "started": started_at,
            "elapsed_s": self._elapsed(),
            "phases_s": self.phases,
            "frameworks": self.entries,
            "reference": _choose_reference(self.entries),
        }
        result["stats"] = compute_stats(result)
        return result

    def setup(self) -> None:
        """Start every worker and build its model, in parallel (imports dominate; untimed)."""
        for name in self.frameworks:
            log = self.log_dir / f"{self.config.key}_{name}.log"
            worker = WorkerProcess(name, self.args.python, log, self.args.threads)
            worker.start()
            self.workers[name] = worker
            worker.send(
                {
                    "cmd": "setup",
                    "framework": name,
                    "workload": asdict(self.config),
                    "threads": self.args.threads,
                    "options": {"st_seq_kwargs": self.args.st_seq_variants.get(name, {})},
                }
            )
        for name in self.frameworks:
            try:
                reply = self.workers[name].receive(SETUP_TIMEOUT_S)
            except WorkerError as exc:
                self._fail(name, "not run", exc)
                continue
            self.entries[name].update(version=reply["version"], rss_setup_mb=reply["rss_mb"])

    def train_memory(self) -> None:
        """Peak RSS of training alone: per framework, a fresh worker that only sets up and
        trains (``warmup + 3`` steps), one at a time. The main workers' peak also covers the
        probe and the no-grad rounds, which may allocate differently."""
        steps = self.args.warmup + 3
        for name in self.frameworks:
            if self.entries[name].get("status") != "ok":
                continue
            log = self.log_dir / f"{self.config.key}_{name}_memory.log"
            worker = WorkerProcess(name, self.args.python, log, self.args.threads)
            worker.start()
            try:
                worker.send(
                    {
                        "cmd": "setup",
                        "framework": name,
                        "workload": asdict(self.config),
                        "threads": self.args.threads,
                        "options": {"st_seq_kwargs": self.args.st_seq_variants.get(name, {})},
                    }
                )
                worker.receive(SETUP_TIMEOUT_S)
                for _ in range(steps):
                    worker.request({"cmd": "train"})
                self.entries[name]["rss_train_mb"] = worker.request({"cmd": "rss"})["rss_mb"]
            except WorkerError as exc:
                progress(f"  {name}: train-only memory not measured: {exc}")
            finally:
                worker.ask_to_quit()
                worker.kill()

    def probe_and_warm_up(self) -> None:
        """Forward-equivalence probe on the reference weights, then warm-up; one worker at a
        time. The first training step and the first no-grad forward are recorded."""
        for name, worker in list(self.workers.items()):
            try:
                probe = worker.request({"cmd": "probe"})
                self.entries[name]["probe"] = {k: v for k, v in probe.items() if k != "ok"}
                for kind in ("train", "infer"):
                    for i in range(self.args.warmup):
                        ms = worker.request({"cmd": kind})["ms"]
                        if i == 0:
                            self.entries[name][f"first_{kind}_ms"] = ms
            except WorkerError as exc:
                self._fail(name, "failed", exc)

    def rounds(self, kind: str) -> None:
        """Interleaved rounds of ``kind`` (``"train"`` or ``"infer"``): each live worker does one
        step per round, one at a time. ``--order shuffle`` (default) draws a new order every
        round (seeded: reproducible), so no worker always follows the same one; ``rotate``
        starts one worker later every round, which keeps every worker's neighbours fixed."""
        key = f"{kind}_ms"
        rng = random.Random(f"{self.args.seed}-{self.config.key}-{kind}")
        for r in range(self.args.rounds):
            order = [name for name in self.frameworks if name in self.workers]
            if self.args.order == "shuffle":
                rng.shuffle(order)
            else:
                shift = r % max(len(order), 1)
                order = order[shift:] + order[:shift]
            for name in order:
                reply = self._request(name, {"cmd": kind})
                if reply is not None:
                    self.entries[name][key].append(reply["ms"])
                time.sleep(self.args.gap_ms / 1e3)
            for entry in self.entries.values():  # failed workers: None, keeps rounds aligned
                entry[key].extend([None] * (r + 1 - len(entry[key])))

    def _request(self, name: str, request: dict[str, Any]) -> dict[str, Any] | None:
        """``request`` to ``name``'s worker; on failure mark it failed and return ``None``."""
        try:
            return self.workers[name].request(request)
        except WorkerError as exc:
            self._fail(name, "failed", exc)
            return None

    def _fail(self, name: str, status: str, exc: BaseException) -> None:
        self.entries[name].update(status=status, reason=str(exc))
        progress(f"  {name}: {status}: {exc}")
        worker = self.workers.pop(name, None)
        if worker is not None:
            worker.kill()

    def _elapsed(self) -> float:
        return time.perf_counter() - self._started

    def _phase(self, name: str) -> None:
        self.phases[name] = self._elapsed() - sum(self.phases.values())
