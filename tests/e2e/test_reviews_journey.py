"""Reviews in the browser: a customer writes one (stars, text, a photo), the merchant approves it in
the dashboard, another customer finds it helpful (htmx swaps the count), a visitor sees the average."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.catalog import products as catalog
from app.theming import service as theming
from app.theming.registry import get_theme
from tests.catalog.helpers import png_bytes
from tests.conftest import PASSWORD, as_store
from tests.e2e.a11y import axe_problems
from tests.reviews.conftest import add_customers

pytestmark = pytest.mark.e2e


def _as_customer(app, context, host: str, store_id: int, customer_id: int) -> None:
    """Log the browser context in as a customer of the store: the session cookie customer accounts
    will write at log-in, signed with the app's key."""
    with app.test_request_context():
        value = app.session_interface.get_signing_serializer(app).dumps(
            {"customer": {"store": store_id, "id": customer_id, "v": 1}})
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": value, "domain": host, "path": "/"}])


def test_write_approve_and_vote_on_a_review(app, live_server, browser, make_account, make_store, tmp_path):
    owner = make_account("Rhea Reviews")
    store = make_store(owner=owner, name="Review Goods")
    with as_store(app, store):
        product = catalog.create_product({"title": "Walnut Board", "price": "45.00", "status": "active"},
                                         actor=owner.email)
        handle = product.handle
        theming.publish(get_theme("atelier"), actor=owner.email)
        add_customers()
    host = f"{store.handle}.localhost"
    shop = f"http://{host}:{live_server}/products/{handle}"
    photo = tmp_path / "board.png"
    photo.write_bytes(png_bytes(400, 300))
    problems = []

    def watched(customer_id: int | None = None):
        context = browser.new_context()
        if customer_id is not None:
            _as_customer(app, context, host, store.id, customer_id)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda m: problems.append(m.text)
                if m.type == "error" and "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        return page

    writer = watched(customer_id=1)
    writer.goto(shop)
    assert axe_problems(writer) == []
    writer.get_by_role("button", name="Submit review").click()  # the browser asks for the required fields first
    assert writer.url == shop
    writer.locator("label[for=review-rating-4]").click()
    writer.get_by_label("Your name").fill("Sam")
    writer.get_by_label("Title (optional)").fill("Solid <b>wood</b>")
    writer.get_by_label("Your review", exact=True).fill("Heavy, flat, and oiled.")
    writer.get_by_label("Photo").set_input_files(str(photo))
    writer.get_by_role("button", name="Submit review").click()
    expect(writer.get_by_text("Thanks! Your review will appear once approved.")).to_be_visible()
    expect(writer.get_by_text("You have reviewed this product.")).to_be_visible()

    merchant = watched()
    base = f"http://localhost:{live_server}"
    merchant.goto(f"{base}/login")
    merchant.get_by_label("Email").fill(owner.email)
    merchant.get_by_label("Password").fill(PASSWORD)
    merchant.get_by_role("button", name="Log in").click()
    merchant.wait_for_url(f"**/dashboard/{store.handle}/")
    merchant.get_by_role("link", name="Reviews").click()
    expect(merchant.get_by_text("Heavy, flat, and oiled.")).to_be_visible()
    expect(merchant.get_by_role("img", name="Photo with the review by Sam")).to_be_visible()
    merchant.get_by_role("button", name="Approve the review by Sam").click()
    expect(merchant.get_by_text("Approved the review by Sam")).to_be_visible()

    voter = watched(customer_id=2)
    voter.goto(shop)
    expect(voter.get_by_role("heading", name="Solid <b>wood</b>")).to_be_visible()
    expect(voter.get_by_text("4.0 out of 5, from 1 review")).to_be_visible()
    expect(voter.get_by_role("img", name="Photo from Sam’s review")).to_be_visible()
    voter.get_by_role("button", name="Helpful (0)").click()
    expect(voter.get_by_text(re.compile(r"Helpful \(1\) · You found this helpful"))).to_be_visible()
    assert voter.url == shop  # htmx swapped the count in place
    assert axe_problems(voter) == []

    visitor = watched()
    visitor.goto(shop)
    expect(visitor.get_by_role("link", name="Log in to write a review")).to_be_visible()
    expect(visitor.get_by_text("Helpful (1)")).to_be_visible()
    assert problems == []
