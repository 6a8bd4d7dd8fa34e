"""Store settings (a memoized getter in Redis) and the activity timeline.

Runs inside a store context (tenants.context); every row goes through RLS.
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from app.extensions import db, get_redis
from app.store.models import ActivityEvent, StoreSetting
from tenants.context import require_store

DEFAULT_SETTINGS = {
    "coming_soon_message": "We are putting the finishing touches on our shop. Check back soon!",
    "contact_email": "",
}
MAX_SETTING_LENGTH = 2000


def _settings_key(store_id: int) -> str:
    return f"vitrine:store:{store_id}:settings"


def get_settings() -> dict:
    store = require_store()
    cached = get_redis().get(_settings_key(store.id))
    if cached is not None:
        return json.loads(cached)
    rows = db.session.execute(sa.select(StoreSetting.key, StoreSetting.value)).all()
    settings = {**DEFAULT_SETTINGS, **{key: value for key, value in rows if key in DEFAULT_SETTINGS}}
    get_redis().set(_settings_key(store.id), json.dumps(settings), ex=3600)
    return settings


def update_settings(values: dict, actor: str) -> dict:
    """Upsert known settings; the caller validated them. Commits."""
    store = require_store()
    unknown = set(values) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
    for key, value in values.items():
        statement = insert(StoreSetting).values(store_id=store.id, key=key, value=value)
        db.session.execute(statement.on_conflict_do_update(
            index_elements=["store_id", "key"], set_={"value": value, "updated_at": sa.func.now()},
        ))
    record(actor, "settings.updated", "Updated " + ", ".join(k.replace("_", " ") for k in sorted(values)))
    db.session.commit()
    get_redis().delete(_settings_key(store.id))
    return get_settings()


def record(actor: str, verb: str, summary: str) -> None:
    """Add a timeline entry in the current transaction."""
    db.session.add(ActivityEvent(actor=actor, verb=verb, summary=summary))


def recent_activity(limit: int = 20) -> list[ActivityEvent]:
    return list(db.session.scalars(
        sa.select(ActivityEvent).order_by(ActivityEvent.created_at.desc(), ActivityEvent.id.desc()).limit(limit)
    ))
