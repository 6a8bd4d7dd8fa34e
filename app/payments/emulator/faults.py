"""Fault injection for tests (not part of Stripe's API): latency, random 500s,
the next n requests failing, and the next n charges "lost" on the way back
(the charge happens, then the connection drops or hangs past the client's
timeout)."""
from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field

from app.payments.emulator.errors import invalid


@dataclass
class Settings:
    latency_ms: int = 0
    error_rate: float = 0.0
    fail_next: int = 0
    timeout_after_charge: int = 0
    timeout_mode: str = "drop"  # "drop": close the connection; "hang": answer only after hang_seconds
    hang_seconds: float = 30.0
    paths: list[str] = field(default_factory=list)  # path prefixes the faults apply to; empty: all of /v1


LIMITS = {"latency_ms": (0, 600_000), "error_rate": (0, 1), "fail_next": (0, 1_000_000),
          "timeout_after_charge": (0, 1_000_000), "hang_seconds": (0, 3600)}


def parse(body) -> Settings:
    """Settings from the JSON a test posts; unknown keys and out-of-range values refused."""
    if not isinstance(body, dict):
        raise invalid("The body must be a JSON object.")
    known = set(Settings.__dataclass_fields__)
    unknown = sorted(set(body) - known)
    if unknown:
        raise invalid(f"Unknown fault settings: {', '.join(unknown)}")
    settings = Settings()
    for name, (low, high) in LIMITS.items():
        if name in body:
            value = body[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise invalid(f"{name} must be a number from {low} to {high}.", param=name)
            setattr(settings, name, type(getattr(settings, name))(value))
    if body.get("timeout_mode", "drop") not in ("drop", "hang"):
        raise invalid("timeout_mode must be drop or hang.", param="timeout_mode")
    settings.timeout_mode = body.get("timeout_mode", "drop")
    paths = body.get("paths", [])
    paths = [paths] if isinstance(paths, str) else paths
    if not isinstance(paths, list) or not all(isinstance(path, str) and len(path) < 500 for path in paths):
        raise invalid("paths must be a path prefix or a list of them.", param="paths")
    settings.paths = paths[:100]
    return settings


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self.settings = Settings()

    def set(self, settings: Settings) -> None:
        with self._lock:
            self.settings = settings

    def shown(self) -> dict:
        with self._lock:
            return asdict(self.settings)

    def _applies(self, path: str) -> bool:
        prefixes = self.settings.paths
        return path.startswith("/v1/") and (not prefixes or any(path.startswith(prefix) for prefix in prefixes))

    def fail_now(self, path: str) -> bool:
        """Whether this request answers 500 before doing anything."""
        with self._lock:
            if not self._applies(path):
                return False
            if self.settings.fail_next > 0:
                self.settings.fail_next -= 1
                return True
            return self.settings.error_rate > 0 and random.random() < self.settings.error_rate

    def latency(self, path: str) -> float:
        with self._lock:
            return self.settings.latency_ms / 1000 if self._applies(path) else 0.0

    def lose_answer(self, path: str) -> str | None:
        """After a charge: "drop" or "hang" if this answer is to be lost, else None."""
        with self._lock:
            if not self._applies(path) or self.settings.timeout_after_charge <= 0:
                return None
            self.settings.timeout_after_charge -= 1
            return self.settings.timeout_mode
