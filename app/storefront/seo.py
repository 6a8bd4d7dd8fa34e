"""What search engines and link previews read of a storefront: JSON-LD
(schema.org Product, Organization and WebSite), Open Graph images and
descriptions, the sitemap and robots.txt.

Everything here is built in Python from the same views the templates get,
so a merchant's template override cannot break the structured data, and
JSON-LD is escaped here once for all themes.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import sqlalchemy as sa
from markupsafe import Markup

from app.catalog.images import url as media_url
from app.catalog.models import Collection, Product
from app.extensions import db
from app.money import format_amount
from app.pages.models import Page
from app.storefront.shapes import Image, ProductCard, ProductView
from app.storefront.site import Routes

URLS_PER_SITEMAP = 10_000  # beyond this many URLs, /sitemap.xml is an index of smaller sitemaps
MAX_OFFERS = 100  # more variants than this: one AggregateOffer (lowest and highest price) instead
IN_STOCK, OUT_OF_STOCK = "https://schema.org/InStock", "https://schema.org/OutOfStock"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
# Paths robots should leave alone: a shopper's own pages, and search results (endless, thin pages).
PRIVATE_PATHS = ("/account", "/cart", "/checkout", "/search?*")
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                              "\u2028": "\\u2028", "\u2029": "\\u2029"})

Absolute = Callable[[str], str]  # a path on the requesting host -> its absolute URL


# -- JSON-LD ----------------------------------------------------------------------------------------------------------

def json_ld(data: dict) -> Markup:
    """`data` as JSON that is safe inside <script type="application/ld+json">:
    no `<`, `>` or `&` survive, so no text (a product title with "</script>")
    can close the script element."""
    return Markup(json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_SAFE))


def product_json_ld(view: ProductView, *, currency: str, absolute: Absolute) -> Markup:
    """A schema.org Product for a product page, prices from minor units."""
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": view.title,
        "url": absolute(view.url),
        "offers": _offers(view, currency, absolute),
    }
    description = description_text(view)
    if description:
        data["description"] = description
    if view.images:
        data["image"] = [absolute(image.src) for image in view.images]
    sku = (view.selected.sku if view.selected is not None else "") or next((v.sku for v in view.variants if v.sku), "")
    if sku:
        data["sku"] = sku
    if view.vendor:
        data["brand"] = {"@type": "Brand", "name": view.vendor}
    if view.rating is not None and view.rating.count > 0:
        data["aggregateRating"] = {"@type": "AggregateRating", "ratingValue": view.rating.average,
                                   "reviewCount": view.rating.count, "bestRating": 5, "worstRating": 1}
    return json_ld(data)


def _offers(view: ProductView, currency: str, absolute: Absolute) -> dict | list[dict]:
    variants = view.variants
    if not variants or len(variants) > MAX_OFFERS:
        return {"@type": "AggregateOffer", "priceCurrency": currency,
                "lowPrice": format_amount(view.price_min, currency),
                "highPrice": format_amount(view.price_max, currency),
                "offerCount": len(variants), "availability": IN_STOCK if view.available else OUT_OF_STOCK,
                "url": absolute(view.url)}
    offers = []
    for variant in variants:
        offer = {"@type": "Offer", "price": format_amount(variant.price, currency), "priceCurrency": currency,
                 "availability": IN_STOCK if variant.available else OUT_OF_STOCK,
                 "url": absolute(_variant_url(view, variant.id))}
        if variant.sku:
            offer["sku"] = variant.sku
        if len(variants) > 1:
            offer["name"] = variant.title
        offers.append(offer)
    return offers[0] if len(offers) == 1 else offers


def _variant_url(view: ProductView, variant_id: int) -> str:
    """The address that preselects a variant (a product of one variant: the product's own)."""
    if len(view.variants) < 2:
        return view.url
    return view.url + ("&" if "?" in view.url else "?") + f"variant={variant_id}"


def description_text(view: ProductView, limit: int = 5000) -> str:
    """The product's words without markup: its SEO description, else its description's text."""
    text = view.seo_description or Markup(view.description_html).striptags()
    return " ".join(text.split())[:limit]


def site_json_ld(store_name: str, *, routes: Routes, absolute: Absolute, logo: str = "") -> Markup:
    """The home page's Organization and WebSite, with a SearchAction shoppers'
    search engines can offer as a search box."""
    home = absolute(routes.home())
    organization = {"@type": "Organization", "@id": home + "#organization", "name": store_name, "url": home}
    if logo:
        organization["logo"] = absolute(media_url(logo))
    website = {"@type": "WebSite", "@id": home + "#website", "name": store_name, "url": home,
               "publisher": {"@id": home + "#organization"},
               "potentialAction": {"@type": "SearchAction",
                                   "target": {"@type": "EntryPoint",
                                              "urlTemplate": absolute(routes.search()) + "?q={search_term_string}"},
                                   "query-input": "required name=search_term_string"}}
    return json_ld({"@context": "https://schema.org", "@graph": [organization, website]})


# -- Open Graph -------------------------------------------------------------------------------------------------------

def og_image(images: Iterable[Image | None], absolute: Absolute) -> str:
    """The first image there is, as an absolute URL (link previews need one), or ''."""
    for image in images:
        if image is not None and image.key:
            return absolute(image.src)
    return ""


def card_images(cards: Iterable[ProductCard]) -> list[Image | None]:
    return [card.image for card in cards]


def home_preview(sections: list[dict], settings: dict, absolute: Absolute) -> tuple[str, str]:
    """The home page's description and image: the first hero's text and image
    (else any section image, else the logo)."""
    description, image = "", ""
    for section in sections:
        values = section.get("settings") or {}
        text = values.get("subheading") or values.get("text") or ""
        description = description or " ".join(str(text).split())[:300]
        if values.get("image") and not image:
            image = absolute(media_url(values["image"]))
    if not image and settings.get("logo"):
        image = absolute(media_url(settings["logo"]))
    return description, image


# -- sitemap ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    path: str
    lastmod: datetime | None = None


def sitemap(base_url: str, routes: Routes) -> str:
    """/sitemap.xml: every URL of the shop, or, beyond URLS_PER_SITEMAP, an
    index of /sitemap-shop.xml and /sitemap-products-<n>.xml."""
    fixed = shop_entries(routes)
    products = _product_count()
    if len(fixed) + products <= URLS_PER_SITEMAP:
        return _urlset(base_url, [*fixed, *_product_entries(routes, 0, products)])
    parts = ["/sitemap-shop.xml"] + [f"/sitemap-products-{n}.xml" for n in range(1, product_sitemaps(products) + 1)]
    return _index(base_url, parts)


def shop_sitemap(base_url: str, routes: Routes) -> str:
    """/sitemap-shop.xml: the home page, collections and pages."""
    return _urlset(base_url, shop_entries(routes))


def product_sitemap(base_url: str, routes: Routes, number: int) -> str | None:
    """/sitemap-products-<number>.xml (from 1), or None past the last one."""
    if not 1 <= number <= product_sitemaps(_product_count()):
        return None
    return _urlset(base_url, _product_entries(routes, (number - 1) * URLS_PER_SITEMAP, URLS_PER_SITEMAP))


def product_sitemaps(products: int) -> int:
    return max(1, math.ceil(products / URLS_PER_SITEMAP))


def shop_entries(routes: Routes) -> list[Entry]:
    collections = db.session.execute(sa.select(Collection.handle, Collection.updated_at)
                                     .order_by(Collection.id).limit(URLS_PER_SITEMAP // 2)).all()
    pages = db.session.execute(sa.select(Page.handle, Page.updated_at).where(Page.published)
                               .order_by(Page.id).limit(URLS_PER_SITEMAP // 2)).all()
    return [Entry(routes.home()), Entry(routes.collections()),
            *(Entry(routes.collection(handle), updated) for handle, updated in collections),
            *(Entry(routes.page(handle), updated) for handle, updated in pages)]


def _product_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Product).where(Product.status == "active"))


def _product_entries(routes: Routes, offset: int, limit: int) -> list[Entry]:
    rows = db.session.execute(sa.select(Product.handle, Product.updated_at).where(Product.status == "active")
                              .order_by(Product.id).offset(offset).limit(limit)).all()
    return [Entry(routes.product(handle), updated) for handle, updated in rows]


def _urlset(base_url: str, entries: list[Entry]) -> str:
    lines = [f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">']
    for entry in entries:
        lastmod = f"<lastmod>{_w3c(entry.lastmod)}</lastmod>" if entry.lastmod else ""
        lines.append(f"<url><loc>{escape(base_url + entry.path)}</loc>{lastmod}</url>")
    lines.append("</urlset>\n")
    return "\n".join(lines)


def _index(base_url: str, paths: list[str]) -> str:
    lines = [f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{SITEMAP_NS}">']
    lines += [f"<sitemap><loc>{escape(base_url + path)}</loc></sitemap>" for path in paths]
    lines.append("</sitemapindex>\n")
    return "\n".join(lines)


def _w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


# -- robots.txt -------------------------------------------------------------------------------------------------------

def robots(base_url: str, *, open_for_business: bool) -> str:
    """Crawl everything public; before a theme is published ("coming soon") nothing at all."""
    if not open_for_business:
        return "User-agent: *\nDisallow: /\n"
    rules = "".join(f"Disallow: {path}\n" for path in PRIVATE_PATHS)
    return f"User-agent: *\n{rules}Allow: /\n\nSitemap: {base_url}/sitemap.xml\n"
