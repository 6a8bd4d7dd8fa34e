"""Redis or PostgreSQL away: shoppers are still served while Redis is down,
writes that need it answer 503 and change nothing, and either outage is a
503 with Retry-After, never a 500. Each test stops a real embedded server of
its own (the rest of the suite keeps the shared ones) and starts it again."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app import create_app, embedded
from app.catalog import products as catalog
from app.catalog.models import ImportJob, Product
from app.effects.models import Outbox
from app.extensions import db
from app.store import service as store_service
from tenants.models import Domain, Store
from tests.conftest import (OWNER_ROLE, PASSWORD, TEST_VAR, Client, as_store, dispose_engines, mark_domain_verified,
                            wait_until)

ACTOR = "outage@example.com"




# -- Redis ------------------------------------------------------------------------------------------------------------

@pytest.fixture
def redis_app(service_env):
    """The app on the shared databases, with a Redis of its own that a test may stop."""
    data = TEST_VAR / "redis-outage"
    app = create_app({**service_env, "REDIS_URL": embedded.redis_url(data), "TESTING": True})
    app.redis_data = data
    yield app
    embedded.redis_url(data)  # running again for the next test
    dispose_engines(app)


def _settings_form(browser: Client, handle: str, message: str):
    page = f"/dashboard/{handle}/settings"
    return browser.post(page, {"name": "Lamp Shop", "currency": "USD", "locale": "en_US", "contact_email": "",
                               "coming_soon_message": message}, csrf_from=page)


def test_shoppers_are_served_and_redis_writes_refused_while_redis_is_down(app, redis_app, make_account,
                                                                           make_store):
    owner = make_account()
    store, neighbour = make_store(owner=owner, name="Lamp Shop"), make_store(name="Next Door")
    host = f"www.{store.handle}.example.com"
    with as_store(app, store):
        catalog.create_product({"title": "Brass lamp", "price": "80", "status": "active"}, actor=ACTOR)
    browser = Client(redis_app.test_client())
    browser.login(owner.email)
    with redis_app.app_context():  # the domain, proven (its verification is tested elsewhere)
        db.session.add(Domain(hostname=host, store_id=store.id))
        db.session.commit()
    mark_domain_verified(redis_app, host)
    shopper = Client(redis_app.test_client())
    assert shopper.get("/", host=f"{store.handle}.localhost").status_code == 200  # warm caches

    embedded.stop_redis(redis_app.redis_data)

    # Shoppers: the store's host (cached), its custom domain, a host never seen, the API.
    assert "Lamp Shop" in shopper.get("/", host=f"{store.handle}.localhost").get_data(as_text=True)
    assert "Lamp Shop" in shopper.get("/", host=host).get_data(as_text=True)
    assert "Next Door" in shopper.get("/", host=f"{neighbour.handle}.localhost").get_data(as_text=True)
    assert shopper.get("/", host="nobody.localhost").status_code == 404
    listed = shopper.get("/api/v1/products", host=f"{store.handle}.localhost")
    assert listed.status_code == 200 and [p["title"] for p in listed.get_json()["products"]] == ["Brass lamp"]
    assert shopper.get("/api/v1/products/brass-lamp", host=host).status_code == 200

    # Merchants: log in, read the dashboard, write what needs no Redis.
    late = Client(redis_app.test_client())
    late.login(owner.email)
    assert late.get(f"/dashboard/{store.handle}/products").status_code == 200
    new = f"/dashboard/{store.handle}/products/new"
    assert late.post(new, {"title": "Desk lamp", "price": "40"}, csrf_from=new).status_code == 302
    with as_store(app, store):  # its search update waits in the outbox, not in a lost job
        pending = db.session.scalar(sa.select(sa.func.count(Outbox.id)).where(Outbox.topic == "product.changed"))
        assert pending == 2 and db.session.scalar(sa.select(sa.func.count(Product.id))) == 2

    opened = late.post("/stores/new", {"name": "Second Shop", "handle": f"b{store.handle}", "currency": "USD"},
                       csrf_from="/stores/new")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/dashboard/b{store.handle}/")

    # Writes that need Redis are refused up front, clearly, and change nothing.
    refused = _settings_form(browser, store.handle, "During the outage")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert "nothing was saved" in refused.get_data(as_text=True)
    domains = f"/dashboard/{store.handle}/domains"
    assert browser.post(domains, {"hostname": "shop.lamps.example.org"}, csrf_from=domains).status_code == 503
    imports = f"/dashboard/{store.handle}/products/imports"
    upload = browser.upload(imports, {}, {"file": (b"Handle,Title\nhat,Hat\n", "products.csv")})
    assert upload.status_code == 503
    with as_store(app, store):
        assert store_service.get_settings()["coming_soon_message"] != "During the outage"
        assert db.session.scalar(sa.select(sa.func.count(ImportJob.id))) == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Domain.id)).where(Domain.store_id == store.id)) == 1

    embedded.redis_url(redis_app.redis_data)  # back: the same write goes through once the breaker lets it
    wait_until(lambda: _settings_form(browser, store.handle, "After the outage").status_code == 302,
          "settings to save again")
    assert "After the outage" in shopper.get("/", host=f"{store.handle}.localhost").get_data(as_text=True)


# -- PostgreSQL -------------------------------------------------------------------------------------------------------

def _start_postgres(data):
    """(Re)start the embedded server at `data`: pgserver keeps one handle per
    data directory, which a stop by pg_ctl leaves pointing at nothing."""
    from pgserver.postgres_server import PostgresServer  # imported already: the session's servers run

    PostgresServer._instances.pop(data.resolve(), None)
    return embedded.postgres_url(data)


@pytest.fixture
def postgres_app(service_env):
    """The app on a PostgreSQL of its own that a test may stop (and a Redis database of its own)."""
    data = TEST_VAR / "pg-outage"
    url = embedded.fresh_database(_start_postgres(data), "vitrine_outage", owner=OWNER_ROLE)
    redis_url = service_env["REDIS_URL"] + ("&" if "?" in service_env["REDIS_URL"] else "?") + "db=5"
    app = create_app({**service_env, "DATABASE_URL": url, "DATABASES": json.dumps({}), "REDIS_URL": redis_url,
                      "TESTING": True})
    with app.app_context():
        from app.cli import db_upgrade

        app.test_cli_runner().invoke(db_upgrade, catch_exceptions=False)
    app.pg_data = data
    yield app
    dispose_engines(app)
    embedded.stop_postgres(data)


def test_postgres_down_is_a_503_with_retry_after_and_service_comes_back(postgres_app):
    from app.platform.accounts import create_account
    from tenants.provisioning import create_store

    with postgres_app.app_context():
        owner = create_account(email="owner@outage.example.com", name="Owner", password=PASSWORD)
        handle = create_store(handle="outage-shop", name="Outage Shop", currency="USD", owner=owner).handle
        create_store(handle="cold-shop", name="Cold Shop", currency="USD")
    browser = Client(postgres_app.test_client())
    browser.login("owner@outage.example.com")
    shopper = Client(postgres_app.test_client())
    store_host = f"{handle}.localhost"
    assert shopper.get("/", host=store_host).status_code == 200

    embedded.stop_postgres(postgres_app.pg_data)

    # What the caches hold is still served (the host and the store's settings)…
    assert "Outage Shop" in shopper.get("/", host=store_host).get_data(as_text=True)
    # …what needs the database is a 503 with Retry-After.
    page = shopper.get("/", host="cold-shop.localhost")
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "try again in a few seconds" in page.get_data(as_text=True)
    api = shopper.get("/api/v1/products", host=store_host)
    assert api.status_code == 503 and api.get_json()["error"]["code"] == "database_unavailable"
    assert browser.get(f"/dashboard/{handle}/").status_code == 503
    login = Client(postgres_app.test_client()).post(
        "/login", {"email": "owner@outage.example.com", "password": PASSWORD}, csrf_from="/login")
    assert login.status_code == 503

    _start_postgres(postgres_app.pg_data)
    wait_until(lambda: shopper.get("/", host=store_host).status_code == 200, "the storefront to answer again")
    assert browser.get(f"/dashboard/{handle}/").status_code == 200
    with postgres_app.app_context():
        assert db.session.scalar(sa.select(Store.name).where(Store.handle == handle)) == "Outage Shop"
