"""Shopper-facing routes on a store's host. A store that has not published a
theme shows its "coming soon" page (its merchant previews the theme from
the customizer). Pages go through the store's page cache (app.storefront.cache)."""
from __future__ import annotations

from flask import abort, g, render_template, request

from app.store.service import get_settings
from app.storefront import bp, cache, pages, seo
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


# -- for search engines: robots.txt and the sitemap (app.storefront.seo) ---------------------------------------------

def _base_url() -> str:
    return request.host_url.rstrip("/")


@bp.get("/robots.txt")
def robots():
    """Open to crawlers once a theme is published; "coming soon" shops are closed to them."""
    open_for_business = theming.live() is not None
    return cache.page(lambda: seo.robots(_base_url(), open_for_business=open_for_business), mimetype="text/plain")


@bp.get("/sitemap.xml")
def sitemap():
    return _sitemap(lambda site: seo.sitemap(_base_url(), site.routes))


@bp.get("/sitemap-shop.xml")
def shop_sitemap():
    return _sitemap(lambda site: seo.shop_sitemap(_base_url(), site.routes))


@bp.get("/sitemap-products-<int:number>.xml")
def product_sitemap(number: int):
    return _sitemap(lambda site: seo.product_sitemap(_base_url(), site.routes, number) or abort(404))


def _sitemap(build):
    site = live_site()
    if site is None:  # coming soon: nothing to index yet
        abort(404)
    return cache.page(lambda: build(site), mimetype="application/xml")
