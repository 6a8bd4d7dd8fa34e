"""Shared by the checkout tests: the pricing tables' rows, to prove a refusal changed nothing."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from tenants.session import tenant_engine
from tests.conftest import as_store

ACTOR = "owner@example.com"
TABLES = ("shipping_zones", "shipping_zone_places", "shipping_rates", "tax_rates", "discounts", "discount_redemptions",
          "store_settings", "activity_events")


def pricing_rows(app, store) -> dict[str, list[str]]:
    with as_store(app, store):
        return {table: db.session.execute(sa.text(f"SELECT t::text FROM {table} t ORDER BY t.id"),
                                          bind_arguments={"bind": tenant_engine(db)}).scalars().all()
                for table in TABLES}


def refused_unchanged(app, store, browser, path: str, data: dict, status: int = 422, page: str | None = None) -> str:
    """POST `data` to `path` (its CSRF token read off `page`, default `path`); asserts the status and that no pricing row (or timeline entry) changed."""
    before = pricing_rows(app, store)
    response = browser.post(path, data, csrf_from=page or path)
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[:2000]
    assert pricing_rows(app, store) == before
    return body
