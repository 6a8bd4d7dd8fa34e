"""Shopper-facing routes on a store's host. A store that has not published a
theme shows its "coming soon" page (its merchant previews the theme from
the customizer). Pages go through the store's page cache (app.storefront.cache)."""
from __future__ import annotations

from flask import abort, g, make_response, render_template, request

from app.store.service import get_settings
from app.storefront import bp, cache, catalog, pages, seo, viewed
from app.storefront.listing import Listing
from app.storefront.site import Routes, Site
from app.theming import service as theming


def live_site() -> Site | None:
    live = cache.remember("live_theme", theming.live)
    return Site(live, Routes()) if live is not None else None


def _shop(render_page):
    """The page from the cache, or rendered by `render_page(site)`; before a
    theme is published the home page is "coming soon" (kept in the cache like
    any page, so it is served while PostgreSQL is away) and the rest 404."""
    return cache.page(lambda: _render_live(render_page))


def _render_live(render_page) -> str:
    site = live_site()
    if site is None:
        if request.path != "/":
            abort(404)
        return render_template("storefront/coming_soon.html", store=g.store, settings=get_settings())
    return render_page(site)


def home():
    return _shop(pages.home)


@bp.get("/products/<handle>")
def product(handle: str):
    variant = _variant_arg()
    chosen = tuple(request.args.get(f"option{n}", "")[:255] for n in (1, 2, 3) if f"option{n}" in request.args)
    return _shop(lambda site: pages.product(site, handle, variant, chosen))


@bp.get("/products/<handle>/recommendations")
def recommendations(handle: str):
    return _shop(lambda site: pages.recommendations(site, handle))


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


@bp.get("/recently-viewed")
def recently_viewed():
    """The shopper's recently viewed products (a cookie of product ids, this
    device only), loaded by product pages through htmx so that the pages
    themselves stay cacheable; the current product joins the list."""
    site = live_site()
    if site is None:
        abort(404)
    seen = viewed.from_cookie(request.cookies.get(viewed.COOKIE, ""))
    current = catalog.product_by_handle(request.args.get("current", ""))
    body = pages.recently_viewed(site, [product_id for product_id in seen if current is None or product_id != current.id])
    response = make_response(body)
    response.headers["Cache-Control"] = "private, no-store"
    if current is not None:
        response.set_cookie(viewed.COOKIE, viewed.to_cookie([current.id, *seen]), max_age=viewed.MAX_AGE,
                            httponly=True, samesite="Lax", secure=request.is_secure)
    return response


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
