"""A launch in the browser: a shopper joins a waiting room that is admitting, sees their place in line while the
page polls (htmx), is admitted, and finds the product page showing their pass instead of the line."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.catalog import products as catalog
from app.launches import service as launches
from app.theming import service as theming
from app.theming.registry import get_theme
from tests.conftest import as_store
from tests.e2e.a11y import axe_problems
from tests.launches.conftest import set_stock

pytestmark = pytest.mark.e2e


def test_a_shopper_waits_in_line_and_is_admitted(app, live_server, browser, make_account, make_store):
    owner = make_account("Lena Launch")
    store = make_store(owner=owner, name="Drop Shop")
    with as_store(app, store):
        product = catalog.create_product({"title": "Aurora Sneaker", "price": "190.00", "status": "active"},
                                         actor=owner.email)
        set_stock(product.id, 20)
        theming.publish(get_theme("atelier"), actor=owner.email)
        started = launches.utcnow() - timedelta(minutes=1)
        launch = launches.create_launch({"kind": "queue", "product_id": str(product.id), "rate_per_minute": "6",
                                         "pass_minutes": "10", "starts_at": started.strftime("%Y-%m-%dT%H:%M")},
                                        actor=owner.email)
        handle, launch_id = product.handle, launch.id
    shop = f"http://{store.handle}.localhost:{live_server}"
    problems = []

    def shopper():
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda m: problems.append(m.text)
                if m.type == "error" and "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        return page

    early = shopper()  # someone was quicker: they take the first admission
    early.goto(f"{shop}/launches/{launch_id}")
    early.get_by_role("button", name="Join the line").click()
    expect(early.get_by_role("heading", name="It is your turn")).to_be_visible()

    page = shopper()
    page.goto(f"{shop}/products/{handle}")
    page.get_by_role("link", name="Join the line").click()
    assert axe_problems(page) == []
    page.get_by_role("button", name="Join the line").click()
    expect(page.get_by_role("heading", name="You are in line")).to_be_visible()
    expect(page.get_by_text("You are next.")).to_be_visible()
    assert axe_problems(page) == []
    # One admission every 10 s: the page polls itself and turns when the shopper's time comes.
    expect(page.get_by_role("heading", name="It is your turn")).to_be_visible(timeout=30_000)
    page.get_by_role("link", name="Go to Aurora Sneaker").click()
    expect(page.get_by_text("Your pass lets you buy this until")).to_be_visible()
    expect(page.get_by_role("link", name="Join the line")).to_have_count(0)
    assert problems == []
