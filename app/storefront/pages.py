"""The storefront's pages, rendered through a theme for a `Site` (the live
shop or the customizer's preview). Each returns the page's HTML; an unknown
handle raises NotFound, which the shop answers with the theme's 404 page."""
from __future__ import annotations

from flask import g
from werkzeug.exceptions import NotFound

from app.pages.service import published_page
from app.storefront import catalog, reviews, seo
from app.storefront.launch_view import product_launch
from app.storefront.shapes import collection_view, product_view
from app.storefront.site import Site, absolute_url
from app.theming.render import render

SECTION_PRODUCT_LIMIT = 12


def _render(site: Site, template: str, **page) -> str:
    live = site.live
    return render(live.theme, template, site.context(template=template, **page), overrides=live.overrides)


def home(site: Site) -> str:
    sections = _sections(site, site.live.sections)
    description, image = seo.home_preview(sections, site.live.settings, absolute_url)
    json_ld = seo.site_json_ld(g.store.name, routes=site.routes, absolute=absolute_url,
                               logo=site.live.settings.get("logo") or "")
    return _render(site, "index.html", sections=sections, page_title=None, canonical=site.routes.home(),
                   meta_description=description, og_image=image, json_ld=json_ld)


def _sections(site: Site, sections: list[dict]) -> list[dict]:
    """The homepage's sections with the products or collection each shows; the
    products of every section are read together (app.storefront.catalog.cards_by_ids)."""
    chosen, shown = [], []
    for section in sections:
        extra, ids = _section(site, section)
        chosen.append((section, extra))
        shown += ids or []
    cards = {card.id: card for card in catalog.cards_by_ids(shown, site.routes)}
    return [{**section, **extra, **({"products": [cards[i] for i in extra["products"] if i in cards]}
                                    if "products" in extra else {})}
            for section, extra in chosen]


def _section(site: Site, section: dict) -> tuple[dict, list[int] | None]:
    """What a section adds (its products as ids, for now), and those ids."""
    settings = section["settings"]
    extra: dict = {}
    limit = min(int(settings.get("limit") or 8), SECTION_PRODUCT_LIMIT)
    if section["type"] == "featured_collection":
        collection = catalog.collection_by_handle(settings.get("collection") or "")
        if collection is not None:
            extra["collection"] = collection_view(collection, site.routes.collection(collection.handle))
            extra["products"] = catalog.collection_product_ids(collection, limit)
        else:
            extra["collection"], extra["products"] = None, catalog.newest_ids(limit)
    elif section["type"] == "product_grid":
        extra["products"] = catalog.newest_ids(limit)
    return extra, extra.get("products")


def product(site: Site, handle: str, variant_id: int | None = None, chosen: tuple[str, ...] = (),
            review_form=None) -> str:
    """`review_form`: a refused review as typed (app.storefront.reviews), shown with its errors."""
    loaded = catalog.product_page(handle)
    if loaded is None:
        raise NotFound()
    found, rating = loaded
    if variant_id is None and chosen:
        variant_id = _variant_with(found, chosen)
    view = product_view(found, catalog.stock_of([found]), site.routes.product(found.handle), variant_id,
                        rating=rating)
    return _render(site, "product.html", product=view, page_title=view.seo_title or view.title,
                   meta_description=seo.description_text(view, 300), canonical=site.routes.product(found.handle),
                   og_image=seo.og_image(view.images, absolute_url),
                   json_ld=seo.product_json_ld(view, currency=g.store.currency, absolute=absolute_url),
                   reviews=reviews.reviews_block(site, view, review_form),
                   launch=None if site.preview else product_launch(found.id, site.routes.prefix))


def _variant_with(product, chosen: tuple[str, ...]) -> int | None:
    """The variant with the chosen option values (None: no such combination)."""
    for variant in product.variants:
        if variant.option_values == chosen[:len(variant.option_values)]:
            return variant.id
    return None


def collections(site: Site) -> str:
    views = [collection_view(c, site.routes.collection(c.handle)) for c in catalog.all_collections()]
    return _render(site, "collections.html", collections=views, page_title="Collections",
                   canonical=site.routes.collections())


def page(site: Site, handle: str) -> str:
    found = published_page(handle)
    if found is None:
        raise NotFound()
    from markupsafe import Markup

    view = {"title": found.title, "handle": found.handle, "body_html": Markup(found.body_html)}
    return _render(site, "page.html", page=view, page_title=found.title,
                   meta_description=found.seo_description, canonical=site.routes.page(found.handle))


def recommendations(site: Site, handle: str) -> str:
    """The product page's recommendations, loaded after it (htmx) and cached on their own: the
    product page does not wait for their queries."""
    found = catalog.product_by_handle(handle)
    if found is None:
        raise NotFound()
    return _render(site, "snippets/recommendations.html",
                   recommendations=reviews.recommendations_block(site, found.id))


def recently_viewed(site: Site, product_ids: list[int]) -> str:
    products = catalog.cards_by_ids(product_ids[:8], site.routes)
    return _render(site, "snippets/recently_viewed.html", products=products)


def not_found(site: Site) -> str:
    return _render(site, "404.html", page_title="Page not found", canonical=None)


def collection(site: Site, handle: str, listing) -> str:
    """A collection's products, sorted, filtered and paged by `listing` (app.storefront.listing)."""
    found = catalog.collection_by_handle(handle)
    if found is None:
        raise NotFound()
    view = collection_view(found, site.routes.collection(found.handle))
    result = listing.run(site, url=lambda args: site.routes.collection(found.handle, **_grouped(args)),
                         per_page=_per_page(site), default_sort="featured",
                         order=catalog.collection_product_ids(found))
    return _render(site, "collection.html", collection=view, listing=result, products=result.products,
                   pagination=result.pagination, page_title=found.title,
                   meta_description=" ".join(view.description_html.striptags().split())[:300],
                   canonical=site.routes.collection(found.handle),
                   og_image=seo.og_image([view.image, *seo.card_images(result.products)], absolute_url))


def search(site: Site, listing) -> str:
    result = listing.run(site, url=lambda args: site.routes.search(**_grouped(args)), per_page=_per_page(site),
                         default_sort="relevance") if listing.text or listing.filters.active else None
    return _render(site, "search.html", listing=result, products=result.products if result else [],
                   pagination=result.pagination if result else None, search_query=listing.text,
                   page_title=f"Search: {listing.text}" if listing.text else "Search", canonical=None)


def suggestions(site: Site, text: str) -> str:
    from app.search.service import SearchUnavailable, suggest

    try:
        found = suggest(text) if text.strip() else []
    except SearchUnavailable:
        found = []
    items = [{"title": s.title, "url": site.routes.product(s.handle), "price": s.price_min} for s in found]
    return _render(site, "snippets/suggestions.html", suggestions=items, search_query=text)


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def _per_page(site: Site) -> int:
    return int(site.live.settings.get("products_per_page") or 24)
