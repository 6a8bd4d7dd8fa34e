"""Amounts in the dashboard and the API follow the store's locale; the
locale is a store setting. Real HTTP forms, real PostgreSQL and Redis."""
import html
import re

import pytest
import sqlalchemy as sa

from app.catalog.models import Collection, Product, Variant
from app.extensions import db
from tenants.models import Store
from tests.conftest import as_store

NBSP = "\xa0"


def _prices(app, store) -> list[tuple[int, int | None]]:
    with as_store(app, store):
        return [tuple(row) for row in db.session.execute(
            sa.select(Variant.price, Variant.compare_at_price).order_by(Variant.id))]


def _count(app, store, model) -> int:
    with as_store(app, store):
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _locale(app, handle) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(Store.locale).where(Store.handle == handle))


def _form_locale(page: str) -> str:
    """The locale a dashboard form says its amounts are typed in."""
    return re.search(r'name="amount_locale" value="([^"]+)"', page).group(1)


def _input_values(page: str, name: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(rf'<input name="{name}"[^>]*value="([^"]*)"', page)]


def _set_locale(browser, store, locale: str, currency: str = "EUR"):
    settings = f"/dashboard/{store.handle}/settings"
    return browser.post(settings, {"name": "Test Store", "currency": currency, "locale": locale,
                                   "contact_email": "", "coming_soon_message": "Soon!"}, csrf_from=settings)


def _new_product(browser, store, **fields):
    path = f"/dashboard/{store.handle}/products/new"
    page = browser.get(path).get_data(as_text=True)
    data = {"title": "Teapot", "status": "active", "amount_locale": _form_locale(page), **fields}
    return browser.post(path, data, csrf_from=path)


def _save_variant(browser, store, product_id: int, **fields):
    path = f"/dashboard/{store.handle}/products/{product_id}"
    page = browser.get(path).get_data(as_text=True)
    with_locale = {"amount_locale": _form_locale(page), **fields}
    variant_id = re.search(r"/variants/(\d+)", page).group(1)
    return browser.post(f"{path}/variants/{variant_id}", with_locale, csrf_from=path)


@pytest.fixture
def euro_store(app, make_account, make_store):
    """A logged-in owner of an EUR store: (browser, store)."""
    from tests.conftest import Client

    account = make_account()
    store = make_store(owner=account, currency="EUR")
    browser = Client(app.test_client())
    browser.login(account.email)
    return browser, store


def test_a_german_store_takes_and_shows_amounts_the_german_way(app, euro_store):
    browser, store = euro_store
    assert _locale(app, store.handle) == "en_US"  # EUR is shared by many countries: no guess
    assert _set_locale(browser, store, "de_DE").status_code == 302
    assert _locale(app, store.handle) == "de_DE"
    assert "German (Germany)" in browser.get(f"/dashboard/{store.handle}/settings").get_data(as_text=True)

    created = _new_product(browser, store, price="19,99", compare_at_price="1.999,00")
    assert created.status_code == 302, created.get_data(as_text=True)
    product_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert _prices(app, store) == [(1999, 199900)]

    saved = _save_variant(browser, store, product_id, price="1.999,00", compare_at_price="2.500")
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert _prices(app, store) == [(199900, 250000)]
    page = browser.get(f"/dashboard/{store.handle}/products/{product_id}").get_data(as_text=True)
    assert _input_values(page, "price") == ["1.999,00"] and _input_values(page, "compare_at_price") == ["2.500,00"]
    assert f"1.999,00{NBSP}€" in page and f"2.500,00{NBSP}€" in page

    api = browser.get("/api/v1/products/teapot", host=f"{store.handle}.localhost").get_json()
    assert api["product"]["variants"][0]["price"] == {"amount": 199900, "currency": "EUR",
                                                      "formatted": f"1.999,00{NBSP}€"}


@pytest.mark.parametrize("price, message", [
    ("19,99", "use a dot for decimals, like 19.99 or 1,234.50"),
    ("١٩", "not one of the digits 0–9"),
    ("99999999999999999999", "more than the largest amount"),
    ("-5", "prices cannot be negative"),
])
def test_an_american_store_refuses_other_forms_and_changes_nothing(app, merchant, price, message):
    browser, _, store = merchant
    refused = _new_product(browser, store, price=price)
    assert refused.status_code == 422 and message in html.unescape(refused.get_data(as_text=True))
    assert _count(app, store, Product) == 0

    product_id = int(_new_product(browser, store, price="10.00").headers["Location"].rsplit("/", 1)[1])
    refused = _save_variant(browser, store, product_id, price=price, sku="NEW-SKU")
    assert refused.status_code == 422 and message in html.unescape(refused.get_data(as_text=True))
    assert _prices(app, store) == [(1000, None)]
    with as_store(app, store):
        assert db.session.scalar(sa.select(Variant.sku)) is None


def test_a_form_is_read_in_the_locale_it_was_shown_in(app, euro_store):
    """A page opened before a locale change still means what it showed."""
    browser, store = euro_store
    _set_locale(browser, store, "de_DE")
    product_id = int(_new_product(browser, store, price="5").headers["Location"].rsplit("/", 1)[1])
    path = f"/dashboard/{store.handle}/products/{product_id}"
    page = browser.get(path).get_data(as_text=True)
    assert _set_locale(browser, store, "en_US").status_code == 302
    variant_id = re.search(r"/variants/(\d+)", page).group(1)
    saved = browser.post(f"{path}/variants/{variant_id}", {"amount_locale": _form_locale(page), "price": "1.500"},
                         csrf_from=path)
    assert saved.status_code == 302 and _prices(app, store) == [(150000, None)]


@pytest.mark.parametrize("locale, message", [("xx_YY", "Choose an amount format"), ("", "Choose an amount format")])
def test_a_bad_locale_is_refused_and_changes_nothing(app, euro_store, locale, message):
    browser, store = euro_store
    refused = _set_locale(browser, store, locale)
    assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    assert _locale(app, store.handle) == "en_US"


def test_a_locale_change_reaches_the_storefront_host_at_once(app, euro_store):
    browser, store = euro_store
    _new_product(browser, store, price="1234.50")
    host = f"{store.handle}.localhost"
    assert browser.get("/api/v1/products", host=host).get_json()["products"][0]["variants"][0]["price"][
        "formatted"] == "€1,234.50"
    _set_locale(browser, store, "fr_FR")
    assert browser.get("/api/v1/products", host=host).get_json()["products"][0]["variants"][0]["price"][
        "formatted"] == f"1\u202f234,50{NBSP}€"


# -- collections ------------------------------------------------------------

def _new_collection(browser, store, **fields):
    path = f"/dashboard/{store.handle}/collections/new"
    page = browser.get(path).get_data(as_text=True)
    data = {"title": "Rule", "kind": "automated", "match": "all", "amount_locale": _form_locale(page), **fields}
    return browser.post(path, data, csrf_from=path)


@pytest.mark.parametrize("value, message", [
    ("99999999999999999999", "more than the largest amount"),
    ("12²", "not one of the digits 0–9"),
    ("1,5", "use a dot for decimals"),
])
def test_collection_price_rules_are_checked_at_save(app, merchant, value, message):
    browser, _, store = merchant
    refused = _new_collection(browser, store, rule_field="price", rule_relation="greater_than", rule_value=value)
    assert refused.status_code == 422 and message in html.unescape(refused.get_data(as_text=True))
    assert _count(app, store, Collection) == 0


def test_collection_price_rules_use_the_store_locale(app, euro_store):
    browser, store = euro_store
    _set_locale(browser, store, "de_DE")
    _new_product(browser, store, title="Cheap", price="999,99")
    _new_product(browser, store, title="Dear", price="1.000,51")
    created = _new_collection(browser, store, rule_field="price", rule_relation="greater_than",
                              rule_value="1.000,50")
    assert created.status_code == 302, created.get_data(as_text=True)
    with as_store(app, store):
        assert db.session.scalar(sa.select(Collection.rules)) == [
            {"field": "price", "relation": "greater_than", "value": 100050}]
    page = browser.get(created.headers["Location"]).get_data(as_text=True)
    assert "Dear" in page and "Cheap" not in page
    assert "1.000,50" in _input_values(page, "rule_value")
    listing = browser.get(f"/dashboard/{store.handle}/collections").get_data(as_text=True)
    assert f"Price greater than 1.000,50{NBSP}€" in listing


@pytest.mark.parametrize("relation, value, matches", [
    ("greater_than", 99999999999999999999, []),
    ("less_than", 99999999999999999999, ["cheap", "dear"]),
    ("greater_than", -99999999999999999999, ["cheap", "dear"]),
    ("less_than", -99999999999999999999, []),
    ("greater_than", "lots", []),
])
def test_a_saved_rule_past_any_price_never_breaks_pages(app, merchant, relation, value, matches):
    """Saved before rules were checked: the pages and the API answer, comparing as the number would."""
    browser, _, store = merchant
    _new_product(browser, store, title="Cheap", price="1")
    _new_product(browser, store, title="Dear", price="9999999")
    with as_store(app, store):
        collection = Collection(title="Old rule", handle="old-rule", kind="automated", match_all=True,
                                rules=[{"field": "price", "relation": relation, "value": value}])
        db.session.add(collection)
        db.session.commit()
        collection_id = collection.id
    assert browser.get(f"/dashboard/{store.handle}/collections").status_code == 200
    page = browser.get(f"/dashboard/{store.handle}/collections/{collection_id}")
    assert page.status_code == 200
    api = browser.get("/api/v1/products?collection=old-rule", host=f"{store.handle}.localhost")
    assert api.status_code == 200, api.get_data(as_text=True)
    assert sorted(p["handle"] for p in api.get_json()["products"]) == matches


def test_collection_descriptions_are_sanitised_through_the_dashboard(app, merchant):
    browser, _, store = merchant
    hostile = ('<p>Summer <b>picks</b></p><script>steal()</script><img src="x.png" onerror="steal()">'
               '<a href="javascript:steal()">click</a>')
    created = _new_collection(browser, store, kind="manual", title="Picks", description_html=hostile)
    assert created.status_code == 302
    path = created.headers["Location"]
    with as_store(app, store):
        saved = db.session.scalar(sa.select(Collection.description_html))
    assert "<p>Summer <b>picks</b></p>" in saved
    assert "script" not in saved and "onerror" not in saved and "javascript:" not in saved
    updated = browser.post(path, {"title": "Picks", "description_html": hostile.replace("Summer", "Winter")},
                           csrf_from=path)
    assert updated.status_code == 302
    with as_store(app, store):
        saved = db.session.scalar(sa.select(Collection.description_html))
    assert "Winter" in saved and "script" not in saved and "onerror" not in saved and "javascript:" not in saved
    page = browser.get(path).get_data(as_text=True)
    assert "<script>steal()" not in page and "onerror=" not in page
