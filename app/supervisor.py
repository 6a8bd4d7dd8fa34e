"""Keeps `flask --app wsgi up`'s processes running: the web, a worker, the scheduler.

A child that exits on its own is started again after a delay that doubles
with each exit in a row (1 s, 2 s, 4 s … at most a minute) and goes back to
the start once the child has run for a minute, so a crash loop neither spins
nor keeps the others down. The other children are never touched meanwhile:
the web keeps serving while a worker comes back. Each child runs in a process
group of its own, killed once the child has exited, so nothing it started
outlives it. Stopping (Ctrl-C, SIGTERM, or the stop event in tests) sends
SIGTERM to every child, waits for them, and kills what is left.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    base: float = 1.0  # seconds before the first restart
    cap: float = 60.0  # the longest wait
    stable: float = 60.0  # a child that ran this long starts again from `base`

    def delay(self, failures: int) -> float:
        return min(self.cap, self.base * 2 ** failures)


@dataclass(frozen=True)
class Restart:
    """One unexpected exit, as the supervisor saw it."""
    name: str
    pid: int
    returncode: int
    exited_at: float  # time.monotonic()
    delay: float  # seconds it then waited before starting the child again


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    starts: list[float] = field(default_factory=list)  # time.monotonic() of each start
    failures: int = 0  # exits in a row, each before the child had run `stable` seconds
    restart_at: float | None = None  # set while the child waits out its delay


class Supervisor:
    def __init__(self, commands: dict[str, list[str]], *, env: dict | None = None, cwd=None,
                 backoff: Backoff = Backoff(), stop_timeout: float = 20.0, poll_interval: float = 0.2):
        self.children = {name: Child(name, argv) for name, argv in commands.items()}
        self.restarts: list[Restart] = []
        self.env, self.cwd = env, cwd
        self.backoff, self.stop_timeout, self.poll_interval = backoff, stop_timeout, poll_interval

    def pid(self, name: str) -> int | None:
        """The child's pid while it runs (None while it waits to be started again)."""
        child = self.children[name]
        if child.process is None or child.restart_at is not None:
            return None
        return child.process.pid

    def run(self, stop: threading.Event) -> None:
        """Start every child and keep them running until `stop` is set; then stop them all."""
        try:
            for child in self.children.values():
                if not stop.is_set():
                    self._start(child)
            while not stop.wait(self.poll_interval):
                for child in self.children.values():
                    self._tend(child, time.monotonic())
        finally:
            self._stop_all()

    def _tend(self, child: Child, now: float) -> None:
        if child.restart_at is not None:
            if now >= child.restart_at:
                self._start(child)
            return
        returncode = child.process.poll()
        if returncode is None:
            return
        _kill_group(child.process.pid)
        if now - child.starts[-1] >= self.backoff.stable:
            child.failures = 0
        delay = self.backoff.delay(child.failures)
        child.failures += 1
        child.restart_at = now + delay
        self.restarts.append(Restart(child.name, child.process.pid, returncode, now, delay))
        log.warning("%s (pid %d) exited with %s; starting it again in %.1f s",
                    child.name, child.process.pid, _describe(returncode), delay)

    def _start(self, child: Child) -> None:
        # A process group of its own: a Ctrl-C in the terminal reaches only the
        # supervisor, which then stops the children itself (and none is
        # mistaken for a crash and restarted on the way down).
        child.process = subprocess.Popen(child.argv, env=self.env, cwd=self.cwd, process_group=0)
        child.starts.append(time.monotonic())
        child.restart_at = None
        log.info("started %s (pid %d)", child.name, child.process.pid)

    def _stop_all(self) -> None:
        # Not those waiting to start again: their groups went when they died.
        processes = [child.process for child in self.children.values()
                     if child.process is not None and child.restart_at is None]
        for process in processes:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + self.stop_timeout
        for process in processes:  # those that had just died too: what they left behind goes
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _kill_group(process.pid)
            process.wait()
        log.info("stopped %s", ", ".join(self.children))


def _kill_group(pgid: int) -> None:
    """Kill what is left of a child's process group. A child that died leaves
    helpers behind (a gunicorn master its workers; an RQ worker its scheduler
    process, which holds the dead worker's Redis connection: a job handed to
    that connection's pending BLMOVE would be lost to its successor). RQ's work
    horses have groups of their own: a job in progress is left to finish."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # nothing left


def _describe(returncode: int) -> str:
    return f"signal {-returncode}" if returncode < 0 else f"status {returncode}"
