"""What search engines and link previews read of a published store: JSON-LD
that matches the database and cannot break out of its script element,
canonical and Open Graph tags, a sitemap of this store's public pages only,
robots.txt, and a "coming soon" store closed to crawlers."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from app.catalog import collections
from app.catalog import products as catalog
from app.catalog.product_images import add_image
from app.catalog.products import OptionSpec
from app.inventory import service as inventory
from app.money import format_amount
from app.pages.service import add_starter_pages, create_page
from app.storefront import seo
from app.storefront.shapes import Rating, product_view
from app.storefront.site import Routes
from app.theming import service as theming
from app.theming.registry import get_theme
from tests.catalog.helpers import png_bytes
from tests.conftest import Client, as_store, store_host

ACTOR = "owner@example.com"
NS = {"s": seo.SITEMAP_NS}
HOSTILE_TITLE = 'Mug </script><script>alert("x")</script> & <!-- more'


class HeadReader(HTMLParser):
    """The tags of a page's head that crawlers read."""

    def __init__(self):
        super().__init__()
        self.meta: dict[str, str] = {}
        self.canonical: str | None = None
        self.json_ld: list[str] = []
        self.scripts = 0
        self._in_ld = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and (attrs.get("property") or attrs.get("name")):
            self.meta[attrs.get("property") or attrs.get("name")] = attrs.get("content", "")
        elif tag == "link" and attrs.get("rel") == "canonical":
            self.canonical = attrs.get("href")
        elif tag == "script":
            self.scripts += 1
            self._in_ld = attrs.get("type") == "application/ld+json"
            if self._in_ld:
                self.json_ld.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_ld = False

    def handle_data(self, data):
        if self._in_ld:
            self.json_ld[-1] += data


def read_head(body: str) -> HeadReader:
    reader = HeadReader()
    reader.feed(body)
    return reader


def publish(app, store, name: str = "atelier") -> None:
    with as_store(app, store):
        theming.publish(get_theme(name), actor=ACTOR)


@pytest.fixture
def shop(app, make_store):
    """A published store: a tee of three sizes (S in stock, M out, L untracked so always available),
    a draft, an archived product, a collection and pages (one unpublished)."""
    store = make_store(name="Seo Shop")
    with as_store(app, store):
        location = inventory.default_location() or inventory.create_location("Main location")
        tee = catalog.create_product(
            {"title": "Linen Tee", "vendor": "Loom", "status": "active",
             "description_html": "<p>Soft <b>linen</b>, cut wide.</p>"},
            options=[OptionSpec("Size", ["S", "M", "L"])],
            variants=[{"option1": "S", "price": "25.00", "sku": "TEE-S"},
                      {"option1": "M", "price": "27.50", "sku": "TEE-M"},
                      {"option1": "L", "price": "30.00", "track_inventory": "false"}], actor=ACTOR)
        inventory.adjust(tee.variants[0].id, location.id, "3", reason="received", actor=ACTOR)
        add_image(tee, png_bytes(64, 48), alt="The tee, folded")
        mug = catalog.create_product({"title": "Stoneware Mug", "price": "18.00", "status": "active"}, actor=ACTOR)
        draft = catalog.create_product({"title": "Secret Draft", "price": "9.00", "status": "draft"}, actor=ACTOR)
        archived = catalog.create_product({"title": "Old Thing", "price": "9.00", "status": "archived"}, actor=ACTOR)
        summer = collections.create_collection({"title": "Summer", "description_html": "<p>Light <i>things</i>.</p>"},
                                               kind="manual")
        collections.set_products(summer, [tee.id, mug.id])
        add_starter_pages()
        create_page({"title": "Hidden", "handle": "hidden", "body_html": "x", "published": ""}, actor=ACTOR)
        handles = {"tee": tee.handle, "mug": mug.handle, "draft": draft.handle, "archived": archived.handle,
                   "collection": summer.handle, "tee_id": tee.id}
    publish(app, store)
    return store, handles


def browser_for(app, store) -> Client:
    return Client(app.test_client(), host=store_host(app, store))


def variants_in_db(app, store, product_id):
    from app.catalog.models import Product
    from app.extensions import db
    from app.storefront.catalog import stock_of

    with as_store(app, store):
        product = db.session.get(Product, (store.id, product_id))
        stock = stock_of([product])
        return [(v.id, v.price, v.sku, not v.track_inventory or stock.get(v.id, 0) > 0) for v in product.variants]


# -- JSON-LD ----------------------------------------------------------------------------------------------------------

def test_product_json_ld_has_an_offer_per_variant_matching_the_database(app, shop):
    store, handles = shop
    browser = browser_for(app, store)
    response = browser.get(f"/products/{handles['tee']}")
    assert response.status_code == 200
    head = read_head(response.get_data(as_text=True))
    assert len(head.json_ld) == 1
    data = json.loads(head.json_ld[0])
    host = f"http://{browser.host}"
    assert data["@context"] == "https://schema.org" and data["@type"] == "Product"
    assert data["name"] == "Linen Tee"
    assert data["description"] == "Soft linen, cut wide."
    assert data["brand"] == {"@type": "Brand", "name": "Loom"}
    assert data["url"] == f"{host}/products/{handles['tee']}"
    assert len(data["image"]) == 1 and data["image"][0].startswith(f"{host}/media/")
    assert data["sku"]
    expected = variants_in_db(app, store, handles["tee_id"])
    assert [o["price"] for o in data["offers"]] == [format_amount(price, "USD") for _, price, _, _ in expected]
    assert all(re.fullmatch(r"\d+\.\d\d", o["price"]) for o in data["offers"])
    assert [o["availability"] for o in data["offers"]] == [
        seo.IN_STOCK if available else seo.OUT_OF_STOCK for *_, available in expected]
    assert {o["priceCurrency"] for o in data["offers"]} == {"USD"}
    assert [o["url"] for o in data["offers"]] == [f"{host}/products/{handles['tee']}?variant={variant_id}"
                                                  for variant_id, *_ in expected]
    assert [o.get("sku") for o in data["offers"]] == [sku or None for _, _, sku, _ in expected]
    assert "aggregateRating" not in data


def test_a_product_of_one_variant_has_one_offer_in_a_currency_without_decimals(app, make_store):
    store = make_store(currency="JPY")
    with as_store(app, store):
        tea = catalog.create_product({"title": "Sencha", "price": "1500", "status": "active",
                                      "track_inventory": "false"}, actor=ACTOR)
        handle = tea.handle
    publish(app, store, "broadsheet")
    data = json.loads(read_head(browser_for(app, store).get(f"/products/{handle}").get_data(as_text=True)).json_ld[0])
    assert data["offers"]["@type"] == "Offer"
    assert data["offers"]["price"] == "1500" and data["offers"]["priceCurrency"] == "JPY"
    assert data["offers"]["availability"] == seo.IN_STOCK  # not tracked: always available
    assert "brand" not in data and "image" not in data


def test_a_title_with_a_closing_script_tag_stays_inside_the_json_ld(app, make_store):
    store = make_store()
    with as_store(app, store):
        product = catalog.create_product({"title": HOSTILE_TITLE, "price": "5.00", "status": "active",
                                          "vendor": "</SCRIPT>Vendor"}, actor=ACTOR)
        handle = product.handle
    publish(app, store)
    body = browser_for(app, store).get(f"/products/{handle}").get_data(as_text=True)
    script = body.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in script and ">" not in script and "&" not in script
    assert "\\u003c/script\\u003e" in script
    data = json.loads(script)
    assert data["name"] == HOSTILE_TITLE and data["brand"]["name"] == "</SCRIPT>Vendor"
    assert 'alert("x")</script>' not in body.split("<body", 1)[0]  # no script element was opened by the title
    assert read_head(body).scripts == 3  # JSON-LD, htmx, the theme's storefront.js: nothing more


def test_many_variants_make_one_aggregate_offer_and_a_rating_is_included(app, shop, monkeypatch):
    store, handles = shop
    from app.catalog.models import Product
    from app.extensions import db
    from app.storefront.catalog import stock_of

    monkeypatch.setattr(seo, "MAX_OFFERS", 2)
    with as_store(app, store):
        product = db.session.get(Product, (store.id, handles["tee_id"]))
        view = product_view(product, stock_of([product]), Routes().product(product.handle),
                            rating=Rating(4.5, 12))
        data = json.loads(seo.product_json_ld(view, currency="USD",
                                              absolute=lambda path: "https://shop.example" + path))
    prices = sorted(v.price for v in view.variants)
    assert data["offers"]["@type"] == "AggregateOffer" and data["offers"]["offerCount"] == 3
    assert data["offers"]["lowPrice"] == format_amount(prices[0], "USD")
    assert data["offers"]["highPrice"] == format_amount(prices[-1], "USD")
    assert data["aggregateRating"] == {"@type": "AggregateRating", "ratingValue": 4.5, "reviewCount": 12,
                                       "bestRating": 5, "worstRating": 1}


def test_the_home_page_describes_the_organization_and_a_site_search(app, shop):
    store, _ = shop
    browser = browser_for(app, store)
    head = read_head(browser.get("/").get_data(as_text=True))
    graph = {node["@type"]: node for node in json.loads(head.json_ld[0])["@graph"]}
    host = f"http://{browser.host}"
    assert graph["Organization"]["name"] == "Seo Shop" and graph["Organization"]["url"] == host + "/"
    action = graph["WebSite"]["potentialAction"]
    assert action["@type"] == "SearchAction"
    assert action["target"]["urlTemplate"] == f"{host}/search?q={{search_term_string}}"
    assert action["query-input"] == "required name=search_term_string"


# -- canonical and Open Graph -----------------------------------------------------------------------------------------

def test_product_collection_and_home_have_canonical_and_open_graph_tags(app, shop):
    store, handles = shop
    browser = browser_for(app, store)
    host = f"http://{browser.host}"
    product = read_head(browser.get(f"/products/{handles['tee']}?variant=1&utm_source=x").get_data(as_text=True))
    assert product.canonical == f"{host}/products/{handles['tee']}"
    assert product.meta["og:url"] == product.canonical and product.meta["og:type"] == "product"
    assert product.meta["og:title"] == "Linen Tee"
    assert product.meta["og:description"] == "Soft linen, cut wide."
    assert product.meta["og:image"].startswith(f"{host}/media/")
    assert product.meta["twitter:card"] == "summary_large_image"
    assert product.meta["product:price:currency"] == "USD"

    collection = read_head(browser.get(f"/collections/{handles['collection']}?sort=title").get_data(as_text=True))
    assert collection.canonical == f"{host}/collections/{handles['collection']}" == collection.meta["og:url"]
    assert collection.meta["og:title"] == "Summer" and collection.meta["og:type"] == "website"
    assert collection.meta["og:description"] == "Light things." == collection.meta["description"]
    assert collection.meta["og:image"].startswith(f"{host}/media/")  # the first product's picture

    home = read_head(browser.get("/").get_data(as_text=True))
    assert home.canonical == f"{host}/" == home.meta["og:url"]
    assert home.meta["og:title"] == "Seo Shop" and home.meta["og:site_name"] == "Seo Shop"
    assert home.meta["og:description"]  # the hero's text
    assert home.meta["twitter:card"] == "summary"  # no image on the default home page


# -- sitemap ----------------------------------------------------------------------------------------------------------

def sitemap_locs(response) -> list[str]:
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.get_data())
    return [loc.text for loc in root.iter(f"{{{seo.SITEMAP_NS}}}loc")]


def test_the_sitemap_lists_exactly_this_stores_public_pages(app, shop, make_store):
    store, handles = shop
    neighbour = make_store(name="Next Door")  # same pooled schema
    with as_store(app, neighbour):
        other = catalog.create_product({"title": "Neighbour Lamp", "price": "40.00", "status": "active"},
                                       actor=ACTOR).handle
        collections.create_collection({"title": "Lamps"}, kind="manual")
    publish(app, neighbour)
    assert neighbour.schema == store.schema
    browser = browser_for(app, store)
    host = f"http://{browser.host}"
    response = browser.get("/sitemap.xml")
    locs = sitemap_locs(response)
    expected = {f"{host}/", f"{host}/collections", f"{host}/collections/{handles['collection']}",
                f"{host}/products/{handles['tee']}", f"{host}/products/{handles['mug']}"}
    expected |= {f"{host}/pages/{handle}" for handle in published_page_handles(app, store)}
    assert set(locs) == expected and len(locs) == len(expected)
    assert f"{host}/pages/hidden" not in locs and not any(handles["draft"] in loc or handles["archived"] in loc
                                                          for loc in locs)
    assert not any(other in loc or "lamps" in loc for loc in locs)
    root = ET.fromstring(response.get_data())
    product_entry = next(url for url in root.findall("s:url", NS) if handles["tee"] in url.find("s:loc", NS).text)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", product_entry.find("s:lastmod", NS).text)


def published_page_handles(app, store) -> list[str]:
    from app.pages.service import published_pages

    with as_store(app, store):
        return [page.handle for page in published_pages()]


def test_the_sitemap_is_cached_and_redone_when_the_catalog_changes(app, shop):
    store, handles = shop
    browser = browser_for(app, store)
    first = browser.get("/sitemap.xml")
    etag = first.headers["ETag"]
    again = browser.get("/sitemap.xml", headers={"If-None-Match": etag})
    assert again.status_code == 304
    with as_store(app, store):
        new = catalog.create_product({"title": "Fresh Bowl", "price": "12.00", "status": "active"},
                                     actor=ACTOR).handle
    locs = sitemap_locs(browser.get("/sitemap.xml"))
    assert any(loc.endswith(f"/products/{new}") for loc in locs)


def test_past_the_limit_the_sitemap_is_an_index_of_smaller_ones(app, shop, monkeypatch):
    store, handles = shop
    monkeypatch.setattr(seo, "URLS_PER_SITEMAP", 1)
    browser = browser_for(app, store)
    host = f"http://{browser.host}"
    index = browser.get("/sitemap.xml")
    assert index.status_code == 200 and index.mimetype == "application/xml"
    root = ET.fromstring(index.get_data())
    assert root.tag == f"{{{seo.SITEMAP_NS}}}sitemapindex"
    parts = [loc.text for loc in root.iter(f"{{{seo.SITEMAP_NS}}}loc")]
    assert parts == [f"{host}/sitemap-shop.xml", f"{host}/sitemap-products-1.xml", f"{host}/sitemap-products-2.xml"]
    products = [loc for n in (1, 2) for loc in sitemap_locs(browser.get(f"/sitemap-products-{n}.xml"))]
    assert sorted(products) == sorted(f"{host}/products/{handles[k]}" for k in ("tee", "mug"))
    assert f"{host}/" in sitemap_locs(browser.get("/sitemap-shop.xml"))
    for missing in ("/sitemap-products-3.xml", "/sitemap-products-0.xml", "/sitemap-products-99999999999999999999.xml",
                    "/sitemap-products-x.xml"):
        assert browser.get(missing).status_code == 404, missing


# -- robots.txt and "coming soon" -------------------------------------------------------------------------------------

def test_robots_txt_keeps_crawlers_out_of_private_pages_and_names_the_sitemap(app, shop):
    store, _ = shop
    browser = browser_for(app, store)
    response = browser.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *"
    for path in ("/account", "/cart", "/search?*"):
        assert f"Disallow: {path}" in lines
    assert "Disallow: /" not in lines
    assert f"Sitemap: http://{browser.host}/sitemap.xml" in lines


def test_a_coming_soon_store_is_closed_to_crawlers_until_published(app, make_store):
    store = make_store()
    browser = browser_for(app, store)
    robots = browser.get("/robots.txt")
    assert robots.status_code == 200 and robots.get_data(as_text=True) == "User-agent: *\nDisallow: /\n"
    assert browser.get("/sitemap.xml").status_code == 404
    assert browser.get("/sitemap-products-1.xml").status_code == 404
    publish(app, store)  # the theme.changed listener bumps the cache generation: both answers change at once
    assert "Sitemap:" in browser.get("/robots.txt").get_data(as_text=True)
    host = f"http://{browser.host}"
    assert sitemap_locs(browser.get("/sitemap.xml")) == [f"{host}/", f"{host}/collections"]


def test_the_platform_host_has_no_store_sitemap(app, client):
    assert client.get("/sitemap.xml").status_code == 404
