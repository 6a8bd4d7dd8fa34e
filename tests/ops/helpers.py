"""Waiting on real processes: poll a condition with a deadline, never a fixed sleep."""
from __future__ import annotations

import socket
import time

import psutil
import requests


def wait_until(condition, timeout: float = 60, interval: float = 0.1, message: str = ""):
    """Poll condition() until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        assert time.monotonic() < deadline, message or f"timed out waiting for {condition}"
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(port: int) -> bool:
    """The web app at port answers its health check."""
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", headers={"Host": "localhost"}, timeout=5).ok
    except requests.RequestException:
        return False


def alive(pid: int) -> bool:
    """The process runs (a zombie has died: an orphan may wait long for init to reap it)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
