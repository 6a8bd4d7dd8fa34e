"""Store settings (a memoized getter in Redis) and the activity timeline.

Runs inside a store context (tenants.context); every row goes through RLS.
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from app.effects import after_commit, emit
from app.extensions import db, get_redis, redis_breaker
from app.store.models import ActivityEvent, StoreSetting
from tenants.context import require_store

DEFAULT_SETTINGS = {
    "coming_soon_message": "We are putting the finishing touches on our shop. Check back soon!",
    "contact_email": "",
    "reservation_minutes": 15,  # how long a cart holds its items' stock (1..1440; app.inventory.reservations)
    "prices_include_tax": False,  # prices as entered include tax (app.checkout.taxes)
    "tax_shipping": False,  # shipping is taxed at the address's rates (app.checkout.taxes)
    # app.orders.risk: scores (0..100) from which a checkout is held for review / refused, the shipping countries
    # that add to the score, and how many orders one buyer (customer, email, IP, card) may place in an hour
    "fraud_review_score": 50,
    "fraud_decline_score": 80,
    "fraud_high_risk_countries": [],
    "fraud_max_orders_per_hour": 5,
    "capture": "on_fulfilment",  # when card payments are captured: on_fulfilment | immediately (app.orders.lifecycle)
}
MAX_SETTING_LENGTH = 2000
SETTINGS_CHANGED = "store.settings_changed"  # listeners only (caches of what shows the settings)
CACHE_TTL = 300  # the cache is dropped on every write; the TTL bounds a drop lost to a Redis blip


def _settings_key(store_id: int) -> str:
    return f"vitrine:store:{store_id}:settings"


def get_settings() -> dict:
    """From the Redis cache, else the database (also while Redis is away)."""
    store = require_store()
    breaker = redis_breaker()
    cached = breaker.call(get_redis().get, _settings_key(store.id))
    if cached is not None:  # a setting added since it was cached gets its default
        return {**DEFAULT_SETTINGS, **json.loads(cached)}
    rows = db.session.execute(sa.select(StoreSetting.key, StoreSetting.value)).all()
    settings = {**DEFAULT_SETTINGS, **{key: value for key, value in rows if key in DEFAULT_SETTINGS}}
    breaker.call(get_redis().set, _settings_key(store.id), json.dumps(settings), ex=CACHE_TTL)
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
    after_commit(_drop_cached_settings, store.id)
    emit(SETTINGS_CHANGED)
    db.session.commit()
    return get_settings()


def _drop_cached_settings(store_id: int) -> None:
    redis_breaker().call(get_redis().delete, _settings_key(store_id))


def record(actor: str, verb: str, summary: str) -> None:
    """Add a timeline entry in the current transaction."""
    db.session.add(ActivityEvent(actor=actor, verb=verb, summary=summary))


def recent_activity(limit: int = 20) -> list[ActivityEvent]:
    return list(db.session.scalars(
        sa.select(ActivityEvent).order_by(ActivityEvent.created_at.desc(), ActivityEvent.id.desc()).limit(limit)
    ))
