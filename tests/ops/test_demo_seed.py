"""`flask --app wsgi seed demo` on a database of its own: the demo stores have
a default location and a setup checklist partly done, and seeding again changes nothing."""
import re

import sqlalchemy as sa

from app import create_app
from app.seed import DEMO_PASSWORD
from tests.conftest import Client, dispose_engines, flask_cli


def _steps(html: str) -> dict[str, str]:
    return dict((step, state) for state, step in re.findall(r'<li class="(\w+)" data-step="([^"]+)">', html))


def _locations(app, handle: str) -> list[str]:
    from app.extensions import db
    from app.inventory.models import Location
    from tenants.context import store_context
    from tenants.models import Store
    from tenants.provisioning import placement_of

    with app.app_context():
        store = db.session.scalar(sa.select(Store).where(Store.handle == handle))
        with store_context(placement_of(store)):
            names = list(db.session.scalars(sa.select(Location.name).order_by(Location.created_at, Location.id)))
        db.session.remove()
    return names


def test_the_demo_shows_its_default_location_and_a_checklist_partly_done(stack_env):
    env = {**stack_env, "VITRINE_ENV": "development"}
    flask_cli(env, "db", "upgrade")
    first = flask_cli(env, "seed", "demo")
    assert "seeded demo's catalog" in first.stdout and "queued demo's demo import" in first.stdout
    again = flask_cli(env, "seed", "demo")
    assert "created" not in again.stdout and "seeded" not in again.stdout  # nothing new the second time
    assert "queued" not in again.stdout
    flask_cli(env, "worker", "--burst", "--queue", "imports")  # what `make run`'s worker does with it

    app = create_app({**env, "TESTING": True})
    try:
        assert _locations(app, "demo") == ["Main warehouse", "Downtown shop"]  # the first is the default
        browser = Client(app.test_client())
        browser.login("demo@vitrine.test", DEMO_PASSWORD)
        for handle, hosting in [("demo", "Hosting: shared."), ("northwind", "Hosting: dedicated.")]:
            page = browser.get(f"/dashboard/{handle}/").get_data(as_text=True)
            assert _steps(page) == {"Add a product": "done", "Set stock": "done", "Choose a theme": "done",
                                    "Connect a domain": "done", "Set up shipping": "done"}
            assert "5 of 5 done" in page and hosting in page
            assert "<dt>Default location</dt>" in page and ">Main warehouse</a>" in page
        _assert_demo_import(browser)
        shopper = Client(app.test_client(), host="demo.localhost")
        home = shopper.get("/").get_data(as_text=True)
        assert "Trail-tested gear for every season" in home and "theme-atelier" in home
        jacket = shopper.get("/products/alpine-trail-jacket").get_data(as_text=True)
        assert "Dry after six hours of rain" in jacket and "Hood too tight" not in jacket  # approved only
        assert "theme-broadsheet" in Client(app.test_client(), host="northwind.localhost").get("/").get_data(
            as_text=True)
        # the selling side: the shopper's cart waits for them, launches and a flash sale are set up
        assert "items in shopper@vitrine.test's cart" in first.stdout and "demo carts" in first.stdout
        assert "a waiting room for" in first.stdout and "flash sale" in first.stdout
        assert "cart" not in again.stdout and "waiting room" not in again.stdout
        from app.seed_storefront import DEMO_SHOPPER_PASSWORD

        shopper.post("/account/login", {"email": "shopper@vitrine.test", "password": DEMO_SHOPPER_PASSWORD},
                     csrf_from="/account/login")
        cart = shopper.get("/cart").get_data(as_text=True)
        assert cart.count('class="cart-line"') == 2 and "Held for you" in cart
        launches = browser.get("/dashboard/demo/launches").get_data(as_text=True)
        assert "Waiting room" in launches or "waiting room" in launches
        # the checkout side: shipping, taxes, codes, a webhook's log and a failed job to retry
        assert "shipping zones" in first.stdout and "shipping zones" not in again.stdout
        assert "LAUNCH50" in browser.get("/dashboard/demo/discounts").get_data(as_text=True)
        assert "demo-hooks" in browser.get("/dashboard/demo/webhooks").get_data(as_text=True)
        assert "Message refused by the demo mail server" in browser.get("/dashboard/demo/failed-jobs").get_data(
            as_text=True)
        # orders placed through the checkout, in every state
        assert "8 orders placed through the checkout" in first.stdout and "orders placed" not in again.stdout
        orders = browser.get("/dashboard/demo/orders").get_data(as_text=True)
        assert "#1001" in orders and "#1008" in orders
    finally:
        dispose_engines(app)


def _assert_demo_import(browser) -> None:
    """The supplier's file in Shopify's current layout: three products in, one
    refused, a shared SKU warned about, images kept though their host is away,
    and the column Vitrine does not keep listed."""
    imports = browser.get("/dashboard/demo/products/imports").get_data(as_text=True)
    token = re.search(r"/products/imports/([0-9a-f]{32})", imports).group(1)
    page = browser.get(f"/dashboard/demo/products/imports/{token}").get_data(as_text=True)
    summary = dict(re.findall(r"<dt>([^<]+)</dt><dd>(.*?)</dd>", page))
    assert (summary["Created"], summary["Refused"], summary["Images not fetched"]) == ("3", "1", "2 of 2")
    assert "Google Shopping / Gender (1 value)" in page and "PATCH-KIT" in page
    assert "Refused — not imported" in page and "Imported with warnings" in page
