"""A live server (gunicorn, real HTTP) and headless Chromium driven by Playwright."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TEST_VAR, gunicorn

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run",
                 # *.localhost is loopback; map it to the IPv4 address the server listens on.
                 "--host-resolver-rules=MAP *.localhost 127.0.0.1, MAP localhost 127.0.0.1"]


@pytest.fixture(scope="session")
def live_server(app, service_env):
    """The app under gunicorn in its own process; yields its port."""
    with gunicorn(service_env, 1, TEST_VAR / "live-server.log") as port:
        yield port


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        executable = str(CHROMIUM) if CHROMIUM.exists() else None
        browser = playwright.chromium.launch(headless=True, executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page; the journey fails if the page broke the Content-Security-Policy (an inline
    script or style somewhere) or hit a script error."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page
    context.close()
    assert problems == [], problems


def watch_page(page) -> list[str]:
    """Collect what breaks the page: a Content-Security-Policy violation or a script error."""
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


@pytest.fixture
def open_page(browser):
    """open_page(storage_state=None, width=1280, height=800): a fresh page in its own context,
    watched like `page` (a CSP violation or a script error fails the test)."""
    opened = []

    def open_(storage_state=None, width: int = 1280, height: int = 800):
        context = browser.new_context(storage_state=storage_state, viewport={"width": width, "height": height})
        page = context.new_page()
        page.set_default_timeout(15_000)
        opened.append((context, watch_page(page)))
        return page

    yield open_
    for context, _ in opened:
        context.close()
    assert [problem for _, problems in opened for problem in problems] == []


@pytest.fixture(scope="session")
def seeded_store(app, live_server, browser, service_env):
    """A merchant's store with something on every dashboard page (a product of many variants, one
    with an image, both kinds of collection, two locations with stock, a finished import with a
    report, a pending domain and invitation), the merchant's browser session, and the links that
    only a mail gives (a password reset, a sign-up confirmation, an invitation).
    Returns a SimpleNamespace: base, handle, state (Playwright storage state), pages (name -> path
    for the logged-in merchant), public_pages (name -> path for a visitor)."""
    from types import SimpleNamespace
    import uuid

    import sqlalchemy as sa

    from app.catalog import collections, imports
    from app.catalog import products as catalog
    from app.catalog.product_images import add_image
    from app.catalog.products import OptionSpec
    from app.extensions import db
    from app.inventory import reservations, service as inventory
    from app.pages.service import add_starter_pages, all_pages
    from app.platform.accounts import create_account
    from tenants.provisioning import create_store, placement_of
    from tests.catalog.helpers import png_bytes
    from tests.conftest import PASSWORD, as_store, flask_cli, unique_handle
    from tests.platform.helpers import PASSPHRASE, last_mail, link_in

    base = f"http://localhost:{live_server}"
    with app.app_context():
        account = create_account(email=f"a11y-{uuid.uuid4().hex[:8]}@example.com", name="Ada Access",
                                 password=PASSWORD)
        email = account.email
        store = placement_of(create_store(handle=unique_handle("a11y"), name="Accessible Goods", currency="USD",
                                          owner=account, tier="pooled", db_key="main"))
        db.session.remove()
    with as_store(app, store):
        depot, shop = inventory.create_location("North depot").id, inventory.create_location("City shop").id
        many = catalog.create_product(
            {"title": "Rainbow Socks", "price": "9.00", "sku": "SOCK", "vendor": "Loom", "product_type": "Socks",
             "tags": "wool, winter", "status": "active"},
            options=[OptionSpec("Size", ["XS", "S", "M", "L", "XL", "XXL"]),
                     OptionSpec("Color", [f"Shade {n}" for n in range(10)])], actor=email)
        pictured = catalog.create_product({"title": "Glacier Parka with a rather long title for small screens",
                                           "price": "249.00", "status": "draft"}, actor=email)
        add_image(pictured, png_bytes(64, 64), alt="Parka front")
        for variant_id in (many.variants[0].id, pictured.variants[0].id):
            inventory.adjust(variant_id, depot, "7", reason="received", actor=email)
            inventory.adjust(variant_id, shop, "3", reason="received", actor=email)
        reservations.hold("cart:a11y0a11y0a11y0", many.variants[0].id, 2)  # the stock section lists a reservation
        manual = collections.create_collection({"title": "Winter picks"}, kind="manual")
        collections.set_products(manual, [many.id, pictured.id])
        automated = collections.create_collection({"title": "Cheap socks"}, kind="automated",
                                                  rules=[{"field": "price", "relation": "less_than", "value": "20"}])
        from app.reviews import service as reviews

        for n, (stars, action) in enumerate([("5", "approve"), ("2", None)], 1):  # (reviews without an account)
            review = reviews.submit_review(many, None, {"rating": stars, "author_name": f"Reviewer {n}",
                                                        "title": "Warm", "body": "Kept my feet warm."},
                                           png_bytes(64, 64) if n == 2 else None)
            if action:
                reviews.moderate(review.id, action, email)
        job = imports.start_import("products.csv", b"Handle,Title\nok-one,Fine\n,No handle here\n", email)
        add_starter_pages()
        from datetime import timedelta

        from app.launches import draw, service as launches
        from tests.reviews.conftest import add_customers

        add_customers()
        opened = launches.utcnow() - timedelta(minutes=5)
        drop = launches.create_launch({"kind": "draw", "product_id": str(many.id), "winners": "1",
                                       "starts_at": opened.strftime("%Y-%m-%dT%H:%M"),
                                       "entry_ends_at": (opened + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")},
                                      actor=email)
        for customer_id in (1, 2, 3):
            draw.enter(launches.live_launch(drop.id), customer_id, launches.utcnow())
        draw.run_draw(drop.id, now=opened + timedelta(hours=1))
        from tests.checkout.helpers import add_pricing_rules

        zone, shipping_rate, tax_rate, discount = add_pricing_rules(email)
        endpoint, dead_letter = _webhook_with_a_log_and_a_failed_job(email, many.variants[0].id)
        ids = SimpleNamespace(many=many.id, pictured=pictured.id, manual=manual.id, automated=automated.id,
                              job=job.token, about=next(p.id for p in all_pages() if p.handle == "about"),
                              drop=drop.id, zone=zone, shipping_rate=shipping_rate, tax_rate=tax_rate,
                              discount=discount, endpoint=endpoint, dead_letter=dead_letter)
    flask_cli({**service_env, "IMPORT_STEP_SECONDS": "0"}, "worker", "--burst", "--queue", "imports")
    from app.orders.models import Order
    from tests.checkout.helpers import Shopper

    from tests.conftest import store_host

    # An order (paid manually: no PSP needed) for the Orders pages.
    with as_store(app, store):
        scarf = catalog.create_product({"title": "Wool Scarf", "price": "19.00", "status": "active"}, actor=email)
        inventory.adjust(scarf.variants[0].id, depot, "5", reason="received", actor=email)
        scarf = scarf.variants[0].id
    shopper_shop = SimpleNamespace(host=store_host(app, store), variants={"scarf": scarf},
                                   rate=str(ids.shipping_rate))
    token = Shopper(app, shopper_shop).order({"scarf": 1}, card=None)["token"]
    with as_store(app, store):
        ids.order = db.session.scalar(sa.select(Order.id).where(Order.token == token))

    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{base}/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"**/dashboard/{store.handle}/")
        dash = f"/dashboard/{store.handle}"
        invitee = f"invitee-{uuid.uuid4().hex[:8]}@example.com"
        page.goto(f"{base}{dash}/staff")
        page.get_by_label("Email").fill(invitee)
        page.get_by_role("button", name="Send invitation").click()
        page.get_by_role("cell", name=invitee).wait_for()
        page.goto(f"{base}{dash}/domains")
        page.get_by_label("Domain").fill(f"shop-{uuid.uuid4().hex[:8]}.example.com")
        page.get_by_role("button", name="Add domain").click()
        page.locator(".domain-proof").first.wait_for()
        state = context.storage_state()
    finally:
        context.close()

    context = browser.new_context()  # a visitor: a sign-up waiting for its confirmation, a reset link
    try:
        page = context.new_page()
        newcomer = f"newcomer-{uuid.uuid4().hex[:8]}@example.com"
        page.goto(f"{base}/signup")
        page.get_by_label("Your name").fill("Nia Newcomer")
        page.get_by_label("Email").fill(newcomer)
        page.get_by_label("Password").fill(PASSPHRASE)
        page.get_by_role("button", name="Create account").click()
        page.get_by_role("heading", name="Check your inbox").wait_for()
        page.goto(f"{base}/password/reset")
        page.get_by_label("Email").fill(email)
        page.get_by_role("button", name="Send the link").click()
        page.get_by_role("heading", name="Check your inbox").wait_for()
    finally:
        context.close()

    pages = {
        "home": f"{dash}/",
        "products": f"{dash}/products",
        "new product": f"{dash}/products/new",
        "product with many variants": f"{dash}/products/{ids.many}",
        "product with an image": f"{dash}/products/{ids.pictured}",
        "collections": f"{dash}/collections",
        "new collection": f"{dash}/collections/new",
        "manual collection": f"{dash}/collections/{ids.manual}",
        "automated collection": f"{dash}/collections/{ids.automated}",
        "reviews": f"{dash}/reviews",
        "launches": f"{dash}/launches",
        "launch": f"{dash}/launches/{ids.drop}",
        "inventory": f"{dash}/inventory",
        "locations": f"{dash}/locations",
        "imports": f"{dash}/products/imports",
        "import job": f"{dash}/products/imports/{ids.job}",
        "staff": f"{dash}/staff",
        "domains": f"{dash}/domains",
        "settings": f"{dash}/settings",
        "shipping": f"{dash}/shipping",
        "shipping zone": f"{dash}/shipping/zones/{ids.zone}",
        "shipping rate": f"{dash}/shipping/rates/{ids.shipping_rate}",
        "taxes": f"{dash}/taxes",
        "tax rate": f"{dash}/taxes/{ids.tax_rate}",
        "discounts": f"{dash}/discounts",
        "discount": f"{dash}/discounts/{ids.discount}",
        "orders": f"{dash}/orders",
        "webhooks": f"{dash}/webhooks",
        "webhook": f"{dash}/webhooks/{ids.endpoint}",
        "failed jobs": f"{dash}/failed-jobs",
        "order": f"{dash}/orders/{ids.order}",
        "online store": f"{dash}/themes",
        "customizer": f"{dash}/themes/atelier/customize",
        "theme templates": f"{dash}/themes/atelier/code",
        "theme template": f"{dash}/themes/atelier/code/snippets/footer.html",
        "theme preview": f"{dash}/themes/atelier/preview/",  # the theme's storefront page: not a dashboard page
        "static pages": f"{dash}/pages",
        "new static page": f"{dash}/pages/new",
        "static page": f"{dash}/pages/{ids.about}",
        "account": "/account",
        "new store": "/stores/new",
    }
    public_pages = {
        "platform home": "/",
        "login": "/login",
        "signup": "/signup",
        "reset request": "/password/reset",
        "reset password": link_in(last_mail(app, email), "/password/reset/"),
        "confirm signup": link_in(last_mail(app, newcomer), "/signup/confirm/"),
        "invitation": link_in(last_mail(app, invitee), "/invitations/"),
        "not found": "/no-such-page",
    }
    return SimpleNamespace(base=base, handle=store.handle, email=email, state=state, pages=pages,
                           public_pages=public_pages)


def _webhook_with_a_log_and_a_failed_job(actor: str, variant_id: int) -> tuple[int, int]:
    """In the current store: a webhook endpoint with a failed delivery in its log, and a dead-letter outbox
    row (the Webhooks and Failed jobs pages then show what they are for)."""
    from datetime import datetime, timezone

    from app.effects.models import Outbox
    from app.extensions import db
    from app.webhooks import service as webhook_service
    from app.webhooks.models import WebhookEndpoint

    endpoint = WebhookEndpoint(url="http://127.0.0.1:9/hooks", topics=["orders/create"], secret="whsec_e2e",
                               created_by=actor)
    db.session.add(endpoint)
    db.session.flush()
    delivery = webhook_service.new_delivery(endpoint.id, "orders/create", {"order": {"id": "e2e"}},
                                            datetime.now(timezone.utc))
    delivery.status, delivery.attempts, delivery.next_attempt_at = "failed", 19, None
    dead = Outbox(topic="stock.low", payload={"variant_id": variant_id, "available": 1}, attempts=25,
                  last_error="SMTPDataError: (554, b'Refused')", last_attempt_at=datetime.now(timezone.utc))
    db.session.add_all([delivery, dead])
    db.session.commit()
    return endpoint.id, dead.id
