"""What launches tell the rest of the platform, through app.effects."""
from __future__ import annotations

from app.effects import emit

LAUNCH_CHANGED = "launch.changed"  # listeners only: the store's live-launch cache and its page cache
PASS_WON = "launch.pass_won"  # payload: entry_id; a draw entrant won a purchase pass (a mail)


def launch_changed() -> None:
    emit(LAUNCH_CHANGED)


def pass_won(entry_id: int) -> None:
    emit(PASS_WON, entry_id=entry_id)
