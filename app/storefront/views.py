"""Shopper-facing routes on a store's host. A store that has not published a
theme shows its "coming soon" page (its merchant previews the theme from
the customizer). Pages go through the store's page cache (app.storefront.cache)."""
from __future__ import annotations

from flask import abort, g, render_template, request

from app.store.service import get_settings
from app.storefront import bp, cache, pages
from app.storefront.listing import Listing
from app.storefront.site import Routes, Site
from app.theming import service as theming


def live_site() -> Site | None:
    live = theming.live()
    return Site(live, Routes()) if live is not None else None


def _coming_soon():
    response = render_template("storefront/coming_soon.html", store=g.store, settings=get_settings())
    return response, 200, {"Cache-Control": "public, max-age=60"}


def _shop(render_page):
    """The page from the cache, or rendered by `render_page(site)`; "coming soon" before a theme is published."""
    site = live_site()
    if site is None:
        return _coming_soon() if request.path == "/" else abort(404)
    return cache.page(lambda: render_page(site))


def home():
    return _shop(pages.home)


@bp.get("/products/<handle>")
def product(handle: str):
    variant = _variant_arg()
    chosen = tuple(request.args.get(f"option{n}", "")[:255] for n in (1, 2, 3) if f"option{n}" in request.args)
    return _shop(lambda site: pages.product(site, handle, variant, chosen))


@bp.get("/collections")
def collections():
    return _shop(pages.collections)


@bp.get("/collections/<handle>")
def collection(handle: str):
    listing = Listing.from_args(request.args)
    return _shop(lambda site: pages.collection(site, handle, listing))


@bp.get("/search")
def search():
    listing = Listing.from_args(request.args)
    return _shop(lambda site: pages.search(site, listing))


@bp.get("/search/suggest")
def suggest():
    text = " ".join(request.args.get("q", "")[:200].split())
    return _shop(lambda site: pages.suggestions(site, text))


@bp.get("/pages/<handle>")
def page(handle: str):
    return _shop(lambda site: pages.page(site, handle))


def _variant_arg() -> int | None:
    raw = request.args.get("variant", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


def themed_not_found():
    """The live theme's 404 page, or None (no theme published: the plain one)."""
    site = live_site()
    if site is None:
        return None
    return pages.not_found(site), 404, {"Cache-Control": "no-cache"}
