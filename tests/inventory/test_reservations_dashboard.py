"""The dashboard's side of holds: the cart-hold setting, the order of
locations, and a product's reservations in its stock section."""
import pytest
import sqlalchemy as sa

from app.catalog import products as catalog
from app.extensions import db
from app.inventory import reservations, service as inventory
from app.inventory.models import Location
from app.store import service as store_service
from tests.conftest import as_store


def _settings_form(**fields):
    return {"name": "Test Store", "currency": "USD", "contact_email": "", "coming_soon_message": "Soon!", **fields}


def test_the_cart_hold_is_a_store_setting(app, merchant):
    browser, _, store = merchant
    path = f"/dashboard/{store.handle}/settings"
    assert 'value="15"' in browser.get(path).get_data(as_text=True)
    saved = browser.post(path, _settings_form(reservation_minutes="45"), csrf_from=path)
    assert saved.status_code == 302
    with as_store(app, store):
        assert reservations.reservation_minutes() == 45
    assert 'value="45"' in browser.get(path).get_data(as_text=True)


@pytest.mark.parametrize("minutes", ["0", "1441", "-5", "ten", "1.5", "²", "99999999999999999999"])
def test_a_bad_cart_hold_is_refused_and_changes_nothing(app, merchant, minutes):
    browser, _, store = merchant
    path = f"/dashboard/{store.handle}/settings"
    response = browser.post(path, _settings_form(name="Changed?", reservation_minutes=minutes), csrf_from=path)
    assert response.status_code == 422
    assert "a whole number from 1 to 1,440" in response.get_data(as_text=True)
    with as_store(app, store):
        assert store_service.get_settings() == store_service.DEFAULT_SETTINGS
        assert reservations.reservation_minutes() == 15


def _location_names(app, store) -> list[str]:
    with as_store(app, store):
        return [location.name for location in inventory.locations()]


def test_locations_move_up_and_down(app, merchant):
    browser, _, store = merchant
    path = f"/dashboard/{store.handle}/locations"
    for name in ("Warehouse", "Shop", "Van"):
        assert browser.post(path, {"name": name}, csrf_from=path).status_code == 302
    with as_store(app, store):
        ids = {location.name: location.id for location in inventory.locations()}
    page = browser.get(path).get_data(as_text=True)
    assert page.index('value="Warehouse"') < page.index('value="Shop"') < page.index('value="Van"')
    assert "Move up<span class=\"sr-only\"> Van</span>" in page
    moved = browser.post(f"{path}/{ids['Van']}/move", {"direction": "up"}, csrf_from=path)
    assert moved.status_code == 302
    assert _location_names(app, store) == ["Warehouse", "Van", "Shop"]
    browser.post(f"{path}/{ids['Warehouse']}/move", {"direction": "down"}, csrf_from=path)
    assert _location_names(app, store) == ["Van", "Warehouse", "Shop"]
    browser.post(f"{path}/{ids['Van']}/move", {"direction": "up"}, csrf_from=path)  # already first: stays
    assert _location_names(app, store) == ["Van", "Warehouse", "Shop"]
    page = browser.get(path).get_data(as_text=True)
    assert page.index('value="Van"') < page.index('value="Warehouse"') < page.index('value="Shop"')
    with as_store(app, store):
        assert db.session.scalars(sa.select(Location.priority).order_by(Location.priority)).all() == [1, 2, 3]


@pytest.mark.parametrize("direction, location, status", [("sideways", None, 422), ("", None, 422),
                                                          ("up", 10**12, 404)])
def test_a_bad_move_is_refused_and_changes_nothing(app, merchant, direction, location, status):
    browser, _, store = merchant
    path = f"/dashboard/{store.handle}/locations"
    for name in ("Warehouse", "Shop"):
        browser.post(path, {"name": name}, csrf_from=path)
    with as_store(app, store):
        shop = inventory.locations()[1].id
    response = browser.post(f"{path}/{location or shop}/move", {"direction": direction}, csrf_from=path)
    assert response.status_code == status
    assert _location_names(app, store) == ["Warehouse", "Shop"]


def test_new_locations_go_last(app, make_store):
    store = make_store()
    with as_store(app, store):
        for name in ("A", "B"):
            inventory.create_location(name)
    with as_store(app, store):
        inventory.move_location(inventory.locations()[1].id, "up")
    with as_store(app, store):
        inventory.create_location("C")
    assert _location_names(app, store) == ["B", "A", "C"]


def test_a_products_stock_shows_reserved_available_and_its_reservations(app, merchant):
    browser, _, store = merchant
    with as_store(app, store):
        product = catalog.create_product({"title": "Linen shirt", "price": "40", "status": "active"},
                                         actor="owner@example.com")
        variant_id, product_id = product.variants[0].id, product.id
    with as_store(app, store):
        location = inventory.ensure_default_location() or inventory.locations()[0]
        location_id, location_name = location.id, location.name
    with as_store(app, store):
        inventory.set_on_hand(variant_id, location_id, 9, reason="received", actor="owner@example.com")
    with as_store(app, store):
        reservations.hold("cart:3f9a1c77e2b4d5", variant_id, 4, minutes=20)
    page = browser.get(f"/dashboard/{store.handle}/products/{product_id}").get_data(as_text=True)
    assert "on hand · reserved · available" in page
    assert '<span class="on-hand">9</span> · <span class="muted reserved">4</span> · <span class="available">5</span>' \
        in page
    assert "cart:3f9a1c…" in page and "3f9a1c77e2b4d5" not in page  # the cart's key is not shown whole
    row = page[page.index("cart:3f9a1c…"):]
    assert location_name in row[:400] and "<td>4</td>" in row[:400] and "19 min" in row[:400]
