"""Pricing rules belong to one store: another store in the same pooled schema neither sees nor uses them,
and they move with their store to a dedicated schema and price the same there."""
from __future__ import annotations

import sqlalchemy as sa

from app.checkout import discounts, quote
from app.checkout.errors import DiscountError
from app.checkout.models import Address, Line
from app.extensions import db
from tenants.models import Store
from tenants.moves import move_store
from tenants.provisioning import placement_of
from tests.checkout.helpers import ACTOR, add_pricing_rules
from tests.conftest import as_store

LINES = [Line(1, "Mug", 2, 1_250, 400)]


def _quote(app, store, code="walk10"):
    with as_store(app, store):
        discount = discounts.check(code, 2_500, "customer:1")
        settings = quote.load_settings()
        return quote.price(LINES, Address("US", "NY"), str(settings.zones[0].rates[0].id), discount, settings)


def test_another_store_sees_none_of_the_rules(app, make_store):
    mine, theirs = make_store(), make_store()
    with as_store(app, mine):
        add_pricing_rules(ACTOR)
    with as_store(app, theirs):
        settings = quote.load_settings()
        assert settings.zones == () and settings.tax_rules == ()
        try:
            discounts.check("WALK10", 2_500, "customer:1")
        except DiscountError as refused:
            assert refused.code.value == "unknown"
        else:
            raise AssertionError("another store's code was accepted")


def test_the_rules_move_with_their_store_and_price_the_same(app, make_store):
    store = make_store()
    with as_store(app, store):
        add_pricing_rules(ACTOR)
    before = _quote(app, store)
    assert (before.subtotal, before.discount, before.shipping, before.tax) == (2_500, 250, 400, 200)
    with app.app_context():
        move_store(store.handle, to_tier="dedicated")
        moved = placement_of(db.session.scalar(sa.select(Store).where(Store.handle == store.handle)))
        db.session.remove()
    assert moved.tier == "dedicated"
    assert _quote(app, moved) == before
