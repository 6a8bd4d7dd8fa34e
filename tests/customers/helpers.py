"""A shop with a published theme and products, shoppers' browsers on its
host, registering and logging in there, and the mails the store sends."""
from __future__ import annotations

from types import SimpleNamespace

from app.catalog import products as catalog
from app.theming import service as theming
from app.theming.registry import get_theme
from tests.conftest import Client, as_store, run_effects, store_host
from tests.platform.helpers import last_mail, mails_to

ACTOR = "owner@example.com"
SECRET = "plum-kettle-orbit-42"  # scores 3+ with zxcvbn
OTHER_SECRET = "violet-anchor-drizzle-97"


def make_shop(app, make_store, *, theme: str | None = "atelier", products=("Linen Tee", "Stoneware Mug")):
    """A store with active products (handles by title) and, unless `theme` is None, a published theme."""
    store = make_store()
    with as_store(app, store):
        made = [catalog.create_product({"title": title, "price": "20.00", "status": "active"}, actor=ACTOR)
                for title in products]
        handles = {p.title: p.handle for p in made}
        ids = {p.handle: p.id for p in made}
        if theme:
            theming.publish(get_theme(theme), actor=ACTOR)
    return SimpleNamespace(store=store, host=store_host(app, store), handles=handles, ids=ids)


def browser(app, shop) -> Client:
    return Client(app.test_client(), host=shop.host)


def register(browser: Client, email: str, *, name: str = "Ada Shopper", password: str = SECRET, **extra):
    return browser.post("/account/register", {"email": email, "name": name, "password": password, **extra},
                        csrf_from="/account/register")


def log_in(browser: Client, email: str, password: str = SECRET, **extra):
    return browser.post("/account/login", {"email": email, "password": password, **extra}, csrf_from="/account/login")


def shopper(app, shop, email: str, **kwargs) -> Client:
    """A browser on the shop with a new account, logged in."""
    client = browser(app, shop)
    response = register(client, email, **kwargs)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return client


def store_mail(app, shop, recipient: str):
    """The newest mail to `recipient`, after the store's outbox has run (as a worker would)."""
    with as_store(app, shop.store):
        run_effects("notifications")
    return last_mail(app, recipient)


def store_mails(app, shop, recipient: str) -> list:
    with as_store(app, shop.store):
        run_effects("notifications")
    return mails_to(app, recipient)


def rows(app, shop, sql: str, **params) -> list:
    """Rows of the shop's tenant schema, read as the app role (row-level security on)."""
    import sqlalchemy as sa

    from app.extensions import db
    from tenants.session import tenant_engine

    with as_store(app, shop.store):
        return db.session.execute(sa.text(sql), params, bind_arguments={"bind": tenant_engine(db)}).all()
