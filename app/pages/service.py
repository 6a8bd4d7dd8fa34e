"""A store's static pages (about, contact, policies): what the dashboard edits
and the storefront shows at /pages/<handle>. Inside a store context."""
from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from app.catalog.products import HANDLE_RE, slugify
from app.catalog.sanitize import clean_html
from app.effects import emit
from app.extensions import db
from app.pages.models import Page
from app.parse import bad, checkbox, text
from app.store.service import record
from tenants.context import require_store

PAGE_CHANGED = "page.changed"  # listeners only: caches of the pages that link or show it
MAX_PAGES = 100
MAX_BODY = 100_000
# What a new store starts with (its pages exist but say what to write).
STARTER_PAGES = (
    ("about", "About us", "<p>Tell shoppers who you are and what you make.</p>"),
    ("contact", "Contact", "<p>How shoppers can reach you: email, phone, opening hours.</p>"),
    ("shipping-policy", "Shipping policy", "<p>Where you ship, how long it takes and what it costs.</p>"),
    ("refund-policy", "Refund policy", "<p>How returns and refunds work.</p>"),
    ("privacy-policy", "Privacy policy", "<p>What you collect about shoppers and why.</p>"),
)


def published_page(handle: str) -> Page | None:
    if not isinstance(handle, str) or len(handle) > 255:
        return None
    return db.session.scalar(sa.select(Page).where(Page.handle == handle, Page.published))


def published_pages() -> list[Page]:
    return list(db.session.scalars(sa.select(Page).where(Page.published).order_by(Page.id)))


def all_pages() -> list[Page]:
    return list(db.session.scalars(sa.select(Page).order_by(Page.id)))


def get_page(page_id: int) -> Page:
    page = db.session.get(Page, (require_store().id, page_id))
    if page is None:
        raise bad("No such page in this store.", "page", status=404)
    return page


def _fields(form: Mapping, exclude_id: int | None = None) -> dict:
    title = text(form.get("title"), field="title", label="Title", max_length=255, required=True)
    handle = text(form.get("handle"), field="handle", label="Handle", max_length=255) or slugify(title)
    if not HANDLE_RE.match(handle):
        raise bad("A handle is lowercase letters, digits and single hyphens, like shipping-policy.", "handle")
    taken = sa.select(Page.id).where(Page.handle == handle)
    if exclude_id is not None:
        taken = taken.where(Page.id != exclude_id)
    if db.session.scalar(taken) is not None:
        raise bad(f"Another page already has the handle “{handle}”.", "handle", status=409)
    body = text(form.get("body_html"), field="body_html", label="Content", max_length=MAX_BODY, multiline=True)
    return {"title": title, "handle": handle, "body_html": clean_html(body), "published": checkbox(form, "published"),
            "seo_description": text(form.get("seo_description"), field="seo_description",
                                    label="Search engine description", max_length=320)}


def create_page(form: Mapping, *, actor: str) -> Page:
    fields = _fields(form)
    if db.session.scalar(sa.select(sa.func.count(Page.id))) >= MAX_PAGES:
        raise bad(f"A store can have at most {MAX_PAGES} pages.", "title", status=409)
    page = Page(**fields)
    db.session.add(page)
    record(actor, "page.created", f"Added the page “{page.title}”")
    emit(PAGE_CHANGED)
    db.session.commit()
    return page


def update_page(page: Page, form: Mapping, *, actor: str) -> Page:
    for key, value in _fields(form, exclude_id=page.id).items():
        setattr(page, key, value)
    record(actor, "page.updated", f"Edited the page “{page.title}”")
    emit(PAGE_CHANGED)
    db.session.commit()
    return page


def delete_page(page: Page, *, actor: str) -> None:
    record(actor, "page.deleted", f"Deleted the page “{page.title}”")
    db.session.delete(page)
    emit(PAGE_CHANGED)
    db.session.commit()


def add_starter_pages(*, commit: bool = True) -> None:
    """The pages every shop needs, as drafts to fill in (idempotent)."""
    have = set(db.session.scalars(sa.select(Page.handle)))
    for handle, title, body in STARTER_PAGES:
        if handle not in have:
            db.session.add(Page(handle=handle, title=title, body_html=body, published=True))
    if commit:
        db.session.commit()
