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
    """POST `data` to `path` (its CSRF token read off `page`, default `path`); asserts the status and
    that no pricing row (or timeline entry) changed."""
    before = pricing_rows(app, store)
    response = browser.post(path, data, csrf_from=page or path)
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[:2000]
    assert pricing_rows(app, store) == before
    return body


def add_pricing_rules(actor: str) -> tuple[int, int, int, int]:
    """In the current store: a shipping zone with a weight rate, a tax rate and a discount code; their ids."""
    from werkzeug.datastructures import MultiDict

    from app.checkout import discounts, shipping, taxes

    zone = shipping.create_zone(MultiDict({"name": "Home", "places": "US CA"}), actor=actor)
    rate = shipping.create_rate(zone.id, MultiDict({"name": "Parcel", "kind": "weight", "bracket_min": "0",
                                                    "bracket_max": "1000", "bracket_price": "4.00"}), actor=actor)
    tax = taxes.create_rate(MultiDict({"place": "US-NY", "name": "Sales tax", "rate": "8.88"}), actor=actor)
    code = discounts.create(MultiDict({"code": "WALK10", "kind": "percentage", "value": "10", "active": "on"}),
                            actor=actor)
    return zone.id, rate.id, tax.id, code.id
