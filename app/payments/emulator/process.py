"""Starting the emulator as a process of its own, as tests and benchmarks do
(in production it is another server; `flask up` supervises it in development)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(log_path: Path, *extra: str, timeout: float = 30.0) -> tuple[subprocess.Popen, str]:
    """`python -m app.payments.emulator` on a free port, once it says it listens; (process, its URL)."""
    port = free_port()
    with open(log_path, "w") as log:  # the child keeps its own descriptor
        process = subprocess.Popen([sys.executable, "-m", "app.payments.emulator", "--port", str(port), *extra],
                                   cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=log,
                                   stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while "listening on" not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the Stripe emulator did not start; see {log_path}")
        time.sleep(0.05)  # polling its log for readiness
    return process, f"http://127.0.0.1:{port}"
