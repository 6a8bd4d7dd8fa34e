"""Everything the emulator knows, in memory behind one lock.

Objects are kept as the JSON dicts Stripe would return (expansion happens on
the way out). An optional state file keeps them across restarts: written by
a background thread at most once a second when something changed, and on
shutdown; read at start-up.
"""
from __future__ import annotations

import json
import os
import secrets
import sys
import threading
import time
from collections import Counter
from pathlib import Path

KINDS = ("payment_methods", "payment_intents", "charges", "refunds", "events", "webhook_endpoints")
SAVED_KINDS = tuple(kind for kind in KINDS if kind != "events")  # events are many and only matter while fresh
MAX_EVENTS = 100_000  # the oldest go first past this, so a long load test cannot exhaust memory


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "_" + secrets.token_hex(length // 2)


def now() -> int:
    return int(time.time())


class State:
    def __init__(self, state_file: Path | None = None):
        self.lock = threading.RLock()
        self.state_file = state_file
        self.objects: dict[str, dict[str, dict]] = {kind: {} for kind in KINDS}
        self.stats: Counter = Counter()
        self.three_ds: dict[str, dict] = {}  # PaymentIntent id -> its 3DS page's token and return_url
        self.card_kinds: dict[str, str] = {}  # PaymentMethod id -> how its test card behaves (never shown)
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        if state_file and state_file.exists():
            try:
                self._load(state_file)
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                # Kept aside, not lost; the emulator starts empty rather than not at all.
                aside = state_file.with_name(state_file.name + ".unreadable")
                os.replace(state_file, aside)
                print(f"state file {state_file} could not be read ({error}); moved to {aside}", file=sys.stderr)
                self.reset()

    def table(self, kind: str) -> dict[str, dict]:
        return self.objects[kind]

    def add(self, kind: str, obj: dict) -> dict:
        table = self.objects[kind]
        table[obj["id"]] = obj
        if kind == "events":
            if len(table) > MAX_EVENTS:
                del table[next(iter(table))]
        else:
            self.changed()
        return obj

    def changed(self) -> None:
        self._dirty.set()

    def reset(self) -> None:
        with self.lock:
            for table in self.objects.values():
                table.clear()
            self.stats.clear()
            self.three_ds.clear()
            self.card_kinds.clear()
            self.changed()

    # -- the state file ------------------------------------------------------------------------------------------------

    def _load(self, path: Path) -> None:
        saved = json.loads(path.read_text())
        for kind in KINDS:
            self.objects[kind] = {obj["id"]: obj for obj in saved.get(kind, [])}
        self.three_ds = saved.get("three_ds", {})
        self.card_kinds = saved.get("card_kinds", {})
        self.stats.update(saved.get("stats", {}))

    def save(self) -> None:
        if not self.state_file:
            return
        with self.lock:
            snapshot = json.dumps({**{kind: list(self.objects[kind].values()) for kind in SAVED_KINDS},
                                   "three_ds": self.three_ds,
                                   "card_kinds": self.card_kinds, "stats": dict(self.stats)})
            self._dirty.clear()
        partial = self.state_file.with_name(self.state_file.name + ".tmp")
        partial.write_text(snapshot)
        os.replace(partial, self.state_file)  # a crash mid-write leaves the previous snapshot whole

    def start_saving(self) -> None:
        if self.state_file:
            threading.Thread(target=self._save_loop, name="emulator-state", daemon=True).start()

    def _save_loop(self) -> None:
        while not self._stopping.is_set():
            if self._dirty.wait(timeout=1.0):
                self.save()
                self._stopping.wait(1.0)  # at most one write a second under load

    def stop(self) -> None:
        self._stopping.set()
        if self.state_file and self._dirty.is_set():
            self.save()
