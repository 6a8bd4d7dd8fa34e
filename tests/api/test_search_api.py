"""GET /api/v1/search: the shopper's search as JSON, through the whole Flask
stack on a store's host (tenant resolution, RLS, the index, the database)."""
import redis
from rq import Queue

from app.catalog import products as catalog
from app.catalog.products import OptionSpec
from app.inventory import service as inventory
from app.search.service import build_marker
from tests.api.test_products_api import PRODUCT_KEYS, get, make_product, shop  # noqa: F401 (shop: a fixture)
from tests.conftest import as_store, run_effects
from tests.search.conftest import two_stores_in_one_schema

ACTOR = "api-shop-search@example.com"


def search(client, store, query=""):
    response = get(client, store, f"/api/v1/search{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _fill(app, store) -> dict[str, int]:
    with as_store(app, store):
        location = inventory.create_location("Main").id
        made = {}
        for n, (title, vendor, price) in enumerate([("Canvas tote", "Loom", "20"), ("Canvas apron", "Weft", "45"),
                                                    ("Linen tote", "Loom", "80"), ("Wool blanket", "Weft", "250")]):
            product = make_product(title, vendor=vendor, product_type="Textiles", price=price,
                                   options=[OptionSpec("Size", ["S", "M"] if n % 2 else ["L"])])
            if n != 2:
                inventory.adjust(product.variants[0].id, location, "3", reason="received", actor=ACTOR)
            made[title] = product.id
        make_product("Canvas draft", status="draft")
        run_effects()
    return made


def test_the_answer_has_results_and_facets(app, client, shop):
    store = shop()
    made = _fill(app, store)
    response = get(client, store, "/api/v1/search?q=tote")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "public, max-age=30"
    body = response.get_json()
    assert set(body) == {"query", "corrected", "sort", "total", "page", "per_page", "results", "facets"}
    assert (body["query"], body["total"], body["page"], body["per_page"], body["sort"]) == ("tote", 2, 1, 24,
                                                                                         "relevance")
    assert [p["id"] for p in body["results"]] == [made["Canvas tote"], made["Linen tote"]]  # in stock first
    assert set(body["results"][0]) == PRODUCT_KEYS and body["results"][0]["variants"][0]["price"]["amount"] == 2000
    facets = {f["key"]: f for f in body["facets"]}
    assert set(facets) == {"vendor", "type", "price", "opt.size", "in_stock"}
    assert facets["vendor"] == {"key": "vendor", "label": "Vendor",
                                "values": [{"value": "Loom", "label": "Loom", "count": 2, "selected": False}]}
    assert facets["price"]["values"] == [
        {"value": "-2500", "label": "Under $25.00", "count": 1, "selected": False},
        {"value": "5000-10000", "label": "$50.00 – $100.00", "count": 1, "selected": False}]
    assert facets["in_stock"]["values"] == [{"value": "1", "label": "In stock", "count": 1, "selected": False}]


def test_filters_typos_sorts_and_pages(app, client, shop):
    store = shop()
    made = _fill(app, store)
    body = search(client, store, "?q=canvsa&vendor=weft&vendor=LOOM")
    assert body["corrected"] and {p["id"] for p in body["results"]} == {made["Canvas tote"], made["Canvas apron"]}
    body = search(client, store, "?vendor=Weft&opt.size=m&in_stock=1")
    assert {p["id"] for p in body["results"]} == {made["Canvas apron"], made["Wool blanket"]}
    vendors = {v["value"]: v for v in next(f for f in body["facets"] if f["key"] == "vendor")["values"]}
    assert list(vendors) == ["Weft"] and vendors["Weft"]["selected"] and vendors["Weft"]["count"] == 2
    body = search(client, store, "?opt.size=L")  # the Loom totes; one sold out
    assert {p["title"] for p in body["results"]} == {"Canvas tote", "Linen tote"}
    body = search(client, store, "?price=2500-30000&sort=price_desc")
    assert [p["id"] for p in body["results"]] == [made["Wool blanket"], made["Linen tote"], made["Canvas apron"]]
    pages = [search(client, store, f"?sort=title&per_page=3&page={page}") for page in (1, 2, 3)]
    assert [[p["title"] for p in page["results"]] for page in pages] == [
        ["Canvas apron", "Canvas tote", "Linen tote"], ["Wool blanket"], []]
    assert all(page["total"] == 4 for page in pages)


def test_junk_filters_are_ignored_but_bad_paging_is_a_400(app, client, shop):
    store = shop()
    _fill(app, store)
    assert search(client, store, "?price=abc&in_stock=maybe&vendor=&opt.=x&zzz=1&q=title:(")["total"] == 0
    assert search(client, store, "?price=abc&in_stock=maybe&vendor=&opt.=x&zzz=1")["total"] == 4
    assert search(client, store, "?q=" + "tote%20" * 100)["query"] == " ".join(["tote"] * 20)
    for query, parameter in (("?page=0", "page"), ("?page=abc", "page"), ("?per_page=0", "per_page"),
                             ("?per_page=101", "per_page"), ("?per_page=1e3", "per_page"), ("?sort=cheapest", "sort"),
                             ("?page=99999999999999999999", "page")):
        response = get(client, store, f"/api/v1/search{query}")
        assert response.status_code == 400, query
        assert response.get_json()["error"]["code"] == "invalid_parameter"
        assert response.get_json()["error"]["parameter"] == parameter
    assert get(client, store, "/api/v1/search?collection=nope").status_code == 404


def test_a_store_being_indexed_answers_503_and_the_platform_404(app, client, shop, service_env):
    store = shop()
    with as_store(app, store):
        catalog.create_product({"title": "Unindexed", "price": "1", "status": "active"}, actor=ACTOR)
    queue = Queue("search", connection=redis.Redis.from_url(service_env["REDIS_URL"]))
    queue.connection.delete(build_marker(store.id))  # (store ids come round again in a new session)
    response = get(client, store, "/api/v1/search?q=unindexed")
    assert response.status_code == 503 and response.headers["Retry-After"] == "10"
    assert response.get_json()["error"]["code"] == "search_unavailable"
    [job] = [job for job in queue.get_jobs() if job.func_name == "app.search.jobs.build_index"
             and job.args == (store.id,)]  # the build was asked for
    job.delete()
    queue.connection.delete(build_marker(store.id))
    assert get(client, None, "/api/v1/search?q=x").status_code == 404
    with as_store(app, store):
        run_effects()
    assert search(client, store, "?q=unindexed")["total"] == 1


def test_a_store_never_sees_another_stores_products(app, client, shop):
    first, second = two_stores_in_one_schema(shop)
    made = _fill(app, first)
    with as_store(app, second):
        make_product("Canvas tote of the second store", vendor="Other")
        run_effects()
    body = search(client, second, "?q=canvas")
    assert [p["title"] for p in body["results"]] == ["Canvas tote of the second store"]
    assert [v["value"] for f in body["facets"] if f["key"] == "vendor" for v in f["values"]] == ["Other"]
    assert made["Canvas tote"] in [p["id"] for p in search(client, first, "?q=canvas")["results"]]
