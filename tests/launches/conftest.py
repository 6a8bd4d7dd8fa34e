"""A shop with a published theme, a product with counted stock, and helpers
to set up launches at chosen times (time is passed as `now=`, never slept)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from app.catalog import products as catalog
from app.inventory import service as inventory
from app.launches import service
from app.theming import service as theming
from app.theming.registry import get_theme
from tests.conftest import as_store, store_host
from tests.reviews.conftest import add_customers

ACTOR = "owner@example.com"
T0 = datetime(2026, 12, 1, 19, 0, tzinfo=timezone.utc)  # the launches' start in the tests that pass `now`


def moment(value: datetime) -> str:
    """As the dashboard's datetime-local field posts it."""
    return value.strftime("%Y-%m-%dT%H:%M")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def set_stock(product_id: int, quantity: int) -> None:
    from app.catalog.models import Product
    from app.extensions import db
    from tenants.context import require_store

    product = db.session.get(Product, (require_store().id, product_id))
    location = inventory.default_location() or inventory.ensure_default_location()
    inventory.set_on_hand(product.variants[0].id, location.id, quantity, reason="", actor=ACTOR)


@pytest.fixture
def shop(app, make_store):
    """A store with the Atelier theme live, customers, and two active products: "Sneaker" (5 in stock)
    and "Poster" (3 in stock)."""
    store = make_store()
    with as_store(app, store):
        sneaker = catalog.create_product({"title": "Moon Sneaker", "price": "180.00", "status": "active"}, actor=ACTOR)
        poster = catalog.create_product({"title": "Gig Poster", "price": "20.00", "status": "active"}, actor=ACTOR)
        set_stock(sneaker.id, 5)
        set_stock(poster.id, 3)
        theming.publish(get_theme("atelier"), actor=ACTOR)
        add_customers()
        ids = SimpleNamespace(sneaker=sneaker.id, poster=poster.id, sneaker_handle=sneaker.handle,
                              poster_handle=poster.handle)
    return SimpleNamespace(store=store, ids=ids, host=store_host(app, store))


def queue_form(product_id: int, starts: datetime = T0, rate: int = 6, **extra) -> dict:
    return {"kind": "queue", "product_id": str(product_id), "starts_at": moment(starts), "rate_per_minute": str(rate),
            "pass_minutes": "10", **extra}


def draw_form(product_id: int, starts: datetime = T0, closes: datetime | None = None, winners: int = 2,
              **extra) -> dict:
    return {"kind": "draw", "product_id": str(product_id), "starts_at": moment(starts),
            "entry_ends_at": moment(closes or starts + timedelta(hours=1)), "winners": str(winners),
            "pass_minutes": "30", **extra}


def new_launch(form: dict, now: datetime = T0 - timedelta(days=1)) -> service.LaunchInfo:
    """A launch set up at `now` (a day before T0 by default), as the storefront's cache sees it."""
    launch = service.create_launch(form, actor=ACTOR, now=now)
    return service.live_launch(launch.id)
