"""Static pages in the dashboard: a new store starts with its pages; list,
create, edit, delete (asked first); bad input is refused with what was typed
and changes nothing; the storefront shows published pages only."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.pages.models import Page
from app.pages.service import MAX_PAGES, STARTER_PAGES, add_starter_pages
from app.theming import service as theming
from app.theming.registry import get_theme
from tests.conftest import Client, as_store, unique_handle

ACTOR = "pages@example.com"


def rows(app, store) -> list[tuple]:
    with as_store(app, store):
        return [(p.handle, p.title, p.body_html, p.published, p.seo_description)
                for p in db.session.scalars(sa.select(Page).order_by(Page.id))]


def page_id(app, store, handle: str) -> int:
    with as_store(app, store):
        return db.session.scalar(sa.select(Page.id).where(Page.handle == handle))


def shop_client(app, store) -> Client:
    from tenants.extension import state

    with app.app_context():
        host = state().store_host(store.handle)
    with as_store(app, store):
        theming.publish(get_theme("atelier"), actor=ACTOR)
    return Client(app.test_client(), host=host)


def test_a_store_made_with_the_form_starts_with_its_pages(app, make_account):
    account = make_account()
    browser = Client(app.test_client())
    browser.login(account.email)
    handle = unique_handle("pg")
    created = browser.post("/stores/new", {"name": "Paged", "handle": handle, "currency": "USD"},
                           csrf_from="/stores/new")
    assert created.status_code == 302
    listing = browser.get(f"/dashboard/{handle}/pages").get_data(as_text=True)
    for page_handle, title, _ in STARTER_PAGES:
        assert title in listing and f"/pages/{page_handle}" in listing


def test_create_edit_and_delete_a_page_which_the_shop_shows_while_published(app, merchant):
    browser, _, store = merchant
    shop = shop_client(app, store)
    base = f"/dashboard/{store.handle}/pages"
    created = browser.post(f"{base}/new", {"title": "Care guide", "handle": "", "published": "on",
                                           "body_html": "<p>Wash <b>cold</b>.</p><script>alert(1)</script>",
                                           "seo_description": "How to care for linen"}, csrf_from=f"{base}/new")
    assert created.status_code == 302
    assert rows(app, store) == [("care-guide", "Care guide", "<p>Wash <b>cold</b>.</p>", True,
                                 "How to care for linen")]
    shown = shop.get("/pages/care-guide").get_data(as_text=True)
    assert "Wash <b>cold</b>" in shown and "alert(1)" not in shown
    assert "Care guide" in browser.get(base).get_data(as_text=True)

    edit = created.headers["Location"]
    assert edit.endswith(f"{base}/{page_id(app, store, 'care-guide')}")
    saved = browser.post(edit, {"title": "Care guide", "handle": "linen-care", "body_html": "<p>Hang dry.</p>"},
                         csrf_from=edit)
    assert saved.status_code == 302
    assert rows(app, store) == [("linen-care", "Care guide", "<p>Hang dry.</p>", False, "")]
    assert shop.get("/pages/linen-care").status_code == 404  # hidden: not published
    assert shop.get("/pages/care-guide").status_code == 404

    asks = browser.post(edit, {"delete": "yes"}, csrf_from=edit)
    assert asks.status_code == 200 and "Delete the page “Care guide”?" in asks.get_data(as_text=True)
    assert len(rows(app, store)) == 1
    deleted = browser.post(edit, {"delete": "yes", "confirmed": "yes"}, csrf_from=edit)
    assert deleted.status_code == 302 and deleted.headers["Location"].endswith(base)
    assert rows(app, store) == []
    assert browser.get(edit).status_code == 404


@pytest.mark.parametrize("fields, status, message", [
    ({"title": ""}, 422, "Title is required."),
    ({"title": "x" * 256}, 422, "Title can be at most 255 characters."),
    ({"title": "Ok", "handle": "Not A Handle!"}, 422, "A handle is lowercase letters"),
    ({"title": "Ok", "handle": "about"}, 409, "Another page already has the handle “about”."),
    ({"title": "About"}, 409, "Another page already has the handle “about”."),
    ({"title": "Ok", "body_html": "x" * 100_001}, 422, "Content can be at most 100000 characters."),
    ({"title": "Ok", "seo_description": "y" * 321}, 422, "Search engine description can be at most 320"),
])
def test_bad_input_is_refused_with_what_was_typed_and_nothing_changes(app, merchant, fields, status, message):
    browser, _, store = merchant
    with as_store(app, store):
        add_starter_pages()
    before = rows(app, store)
    base = f"/dashboard/{store.handle}/pages"
    for path in (f"{base}/new", f"{base}/{page_id(app, store, 'contact')}"):
        refused = browser.post(path, {"body_html": "<p>Typed text</p>", **fields}, csrf_from=f"{base}/new")
        body = refused.get_data(as_text=True)
        assert refused.status_code == status, (path, body[:400])
        assert message in body.replace("&#34;", '"')
        assert 'aria-invalid="true"' in body and "data-error-summary" in body
        if "body_html" not in fields:
            assert "&lt;p&gt;Typed text&lt;/p&gt;" in body  # what was typed is kept
        assert rows(app, store) == before


def test_a_control_character_is_refused_before_anything_runs(app, merchant):
    browser, _, store = merchant
    base = f"/dashboard/{store.handle}/pages"
    refused = browser.post(f"{base}/new", {"title": "Ok\u0007"}, csrf_from=base)
    assert refused.status_code == 400 and "control character" in refused.get_data(as_text=True)
    assert rows(app, store) == []


def test_a_store_has_at_most_its_page_limit(app, merchant):
    browser, _, store = merchant
    with as_store(app, store):
        db.session.add_all([Page(handle=f"p{n}", title=f"P {n}", body_html="") for n in range(MAX_PAGES)])
        db.session.commit()
    base = f"/dashboard/{store.handle}/pages"
    refused = browser.post(f"{base}/new", {"title": "One too many"}, csrf_from=base)
    assert refused.status_code == 409 and f"at most {MAX_PAGES} pages" in refused.get_data(as_text=True)
    assert len(rows(app, store)) == MAX_PAGES


@pytest.mark.parametrize("path", ["0", "99999999999999999999", "abc", "-1"])
def test_an_unknown_page_is_a_404(merchant, path):
    browser, _, store = merchant
    assert browser.get(f"/dashboard/{store.handle}/pages/{path}").status_code == 404
    refused = browser.post(f"/dashboard/{store.handle}/pages/{path}", {"title": "x"},
                           csrf_from=f"/dashboard/{store.handle}/pages")
    assert refused.status_code == 404


def test_another_stores_page_is_not_reachable(app, merchant, make_store):
    browser, _, store = merchant
    other = make_store()
    with as_store(app, other):
        add_starter_pages()
    foreign = page_id(app, other, "about")
    assert browser.get(f"/dashboard/{store.handle}/pages/{foreign}").status_code == 404
    assert browser.get(f"/dashboard/{other.handle}/pages").status_code == 404
