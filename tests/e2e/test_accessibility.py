"""Accessibility in the browser: axe-core over every dashboard and platform
page (and the pages a refused form gives back), the skip link, and focus on
the error summary of a refused form."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import DASHBOARD_PAGES, PUBLIC_PAGES, axe_problems

pytestmark = pytest.mark.e2e
# Pages that are no page: file downloads (a review's photo), redirects, the health check.
NOT_PAGES = {"admin.export_products", "admin.orders_export", "admin.index", "admin.review_photo", "root.healthz"}


def test_the_pages_checked_are_every_page_of_the_url_map(app, seeded_store):
    """Every GET route of the dashboard and the platform is among the pages these tests visit,
    so a new page is checked (or explicitly left out above)."""
    from urllib.parse import urlsplit

    adapter = app.url_map.bind("localhost")
    visited = {adapter.match(urlsplit(path).path)[0]
               for path in [*seeded_store.pages.values(), *seeded_store.public_pages.values()] if path != "/no-such-page"}
    routes = {rule.endpoint for rule in app.url_map.iter_rules()
              if "GET" in rule.methods and rule.endpoint.split(".")[0] in ("admin", "platform", "root")}
    assert routes - NOT_PAGES - visited == set()


def _check(page, url: str) -> None:
    page.goto(url)
    problems = axe_problems(page)
    assert not problems, f"axe on {url}:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", DASHBOARD_PAGES)
def test_axe_finds_nothing_serious_on_a_dashboard_page(seeded_store, open_page, name):
    page = open_page(seeded_store.state)
    _check(page, seeded_store.base + seeded_store.pages[name])


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_axe_finds_nothing_serious_on_a_public_page(seeded_store, open_page, name):
    page = open_page()
    _check(page, seeded_store.base + seeded_store.public_pages[name])


def hints_tied_to_fields(page) -> list[str]:
    """Hints and errors of fields that are inside a label or that no control points at."""
    return page.evaluate("""() => [...document.querySelectorAll('.field .hint, .field .error, label .hint, label .error')]
        .filter((note) => note.closest('label') || !note.id
                          || !document.querySelector(`[aria-describedby~="${note.id}"]`))
        .map((note) => note.outerHTML.slice(0, 160))""")


@pytest.mark.parametrize("name", DASHBOARD_PAGES + PUBLIC_PAGES)
def test_the_skip_link_comes_first_and_leads_to_the_content(seeded_store, open_page, name):
    logged_in = name in seeded_store.pages
    page = open_page(seeded_store.state if logged_in else None)
    page.goto(seeded_store.base + (seeded_store.pages if logged_in else seeded_store.public_pages)[name])
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).not_to_be_in_viewport()  # out of sight until focused
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is inside the content, past the navigation
    assert page.evaluate("document.activeElement.closest('main') !== null"), page.evaluate(
        "document.activeElement.outerHTML.slice(0, 160)")
    assert hints_tied_to_fields(page) == []


def _refused(page, message: str):
    """The error summary: focused, saying `message`; axe finds nothing serious on the page."""
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("alert")).to_contain_text(message)
    problems = axe_problems(page)
    assert not problems, "\n".join(problems)
    assert hints_tied_to_fields(page) == []
    return summary


def test_a_refused_login_focuses_the_error_summary(seeded_store, open_page):
    page = open_page()
    page.goto(seeded_store.base + "/login")
    page.get_by_label("Email").fill(seeded_store.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    _refused(page, "That email and password do not match an account.")


def test_a_refused_signup_links_the_summary_to_the_field_which_says_what_is_wrong(seeded_store, open_page):
    page = open_page()
    page.goto(seeded_store.base + "/signup")
    page.get_by_label("Your name").fill("Sam Short")
    page.get_by_label("Email").fill("sam-short@example.com")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    summary = _refused(page, "Check this field")
    password = page.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description("At least 10 characters and hard to guess. A passphrase of a "
                                                    "few unusual words works well. Use at least 10 characters.")
    summary.get_by_role("link", name="Password").click()
    expect(password).to_be_focused()


def test_a_refused_product_focuses_the_summary_after_the_boosted_swap(seeded_store, open_page):
    page = open_page(seeded_store.state)
    page.goto(seeded_store.base + seeded_store.pages["products"])
    page.get_by_role("link", name="Add product").click()  # htmx-boosted: the form posts through htmx too
    page.get_by_label("Price (USD)").fill("5.00")
    page.get_by_role("button", name="Save product").click()
    summary = _refused(page, "Give the product a title.")
    title = page.get_by_label("Title", exact=True)
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(title).to_have_accessible_description("Give the product a title.")
    expect(page.get_by_label("Description", exact=True)).to_have_accessible_description(
        "HTML is allowed; scripts and event handlers are removed.")  # a hint outside the label, tied to the field
    summary.get_by_role("link", name="Give the product a title.").click()
    expect(title).to_be_focused()


def test_a_refused_setting_focuses_the_summary_in_the_dashboard(seeded_store, open_page):
    page = open_page(seeded_store.state)
    page.goto(seeded_store.base + seeded_store.pages["settings"])
    page.get_by_label("Contact email").fill("not an address")
    page.get_by_role("button", name="Save").click()
    _refused(page, "Check this field")
    expect(page.get_by_label("Contact email")).to_have_attribute("aria-invalid", "true")


def test_a_refused_variant_focuses_the_summary_of_its_section(seeded_store, open_page):
    page = open_page(seeded_store.state)
    page.goto(seeded_store.base + seeded_store.pages["product with many variants"])
    row = page.locator("#variants").get_by_role("row").filter(has_text="M / Shade 7")
    row.get_by_label("M / Shade 7 price", exact=True).fill("twelve")
    row.get_by_role("button", name="Save").click()
    summary = _refused(page, "“twelve” is not an amount")
    assert summary.evaluate("(node) => node.closest('#variants') !== null")
    price = page.get_by_label("M / Shade 7 price", exact=True)
    expect(price).to_have_attribute("aria-invalid", "true")
    summary.get_by_role("link").click()
    expect(price).to_be_focused()
