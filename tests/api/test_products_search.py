"""API search: the index filters and pages, the database re-checks the page, an
index of an earlier release is rebuilt and never read."""
import redis
import sqlalchemy as sa
from rq import Queue
from whoosh import index as whoosh_index
from whoosh.fields import ID, TEXT, Schema

from app.catalog import collections
from app.catalog import products as catalog
from app.catalog.models import Product
from app.effects.models import Outbox
from app.extensions import db
from app.inventory import service as inventory
from app.search import service
from app.search.index import index_dir, open_index
from tests.api.test_products_api import get, handles, listing, make_product, shop  # noqa: F401 (shop: a fixture)
from tests.conftest import as_store, flask_cli, run_effects
from tests.search.conftest import run_search_worker  # noqa: F401 (a fixture)

ACTOR = "api-search@example.com"


def _all_pages(client, store, query: str, limit: int) -> tuple[list[str], list[dict]]:
    """Follow `next` from page 1: the handles in order, and each page's pagination."""
    seen, paginations = [], []
    body = listing(client, store, f"{query}&limit={limit}")
    while True:
        seen += [p["handle"] for p in body["products"]]
        paginations.append(body["pagination"])
        if not body["pagination"]["next"]:
            return seen, paginations
        body = get(client, store, body["pagination"]["next"].split("localhost", 1)[1]).get_json()


def test_filters_are_applied_in_the_index_so_pages_and_totals_are_the_filtered_ones(app, client, shop):
    store = shop()
    with as_store(app, store):
        location = inventory.create_location("Main").id
        for n in range(12):
            product = make_product(f"Canvas tote {n}", vendor="Loom" if n % 3 else "Weft", product_type="Bags",
                                   tags="canvas, summer" if n % 2 else "canvas")
            if n % 4 == 0:
                inventory.adjust(product.variants[0].id, location, "2", reason="received", actor=ACTOR)
        make_product("Canvas tote draft", vendor="Loom", status="draft")
        run_effects()

    expectations = {  # filter -> how many of the 12 match it
        "": 12, "&vendor=loom": 8, "&vendor=WEFT": 4, "&product_type=bags": 12, "&tag=Summer": 6,
        "&available=true": 3, "&available=false": 9, "&vendor=loom&tag=summer&available=false": 4,
        "&vendor=nobody": 0, "&tag=winter": 0,
    }
    for filters, count in expectations.items():
        seen, paginations = _all_pages(client, store, f"?q=tote{filters}", limit=5)
        assert len(seen) == len(set(seen)) == count, filters
        assert all(p["total"] == count and p["pages"] == -(-count // 5) for p in paginations), filters
        assert "canvas-tote-draft" not in seen
        assert set(seen) == set(handles(client, store, f"?limit=100{filters}")), filters  # the database agrees


def test_search_pages_follow_relevance_and_a_page_past_the_end_is_empty(app, client, shop):
    store = shop()
    with as_store(app, store):
        make_product("Walnut desk")  # "walnut" once
        make_product("Walnut walnut shelf", description_html="<p>Solid walnut.</p>")  # and three times
        for n in range(5):
            make_product(f"Oak chair {n}", description_html="<p>Walnut finish.</p>")
        run_effects()
    seen, paginations = _all_pages(client, store, "?q=walnut", limit=2)
    assert seen[:2] == ["walnut-walnut-shelf", "walnut-desk"]  # title words count most
    assert sorted(seen[2:]) == [f"oak-chair-{n}" for n in range(5)]
    assert [p["page"] for p in paginations] == [1, 2, 3, 4] and paginations[-1]["prev"].endswith("page=3")

    beyond = listing(client, store, "?q=walnut&limit=2&page=9")
    assert beyond["products"] == [] and beyond["pagination"]["total"] == 7
    assert beyond["pagination"]["next"] is None and beyond["pagination"]["prev"].endswith("page=4")


def test_the_database_has_the_last_word_over_a_stale_index(app, client, shop):
    store = shop()
    with as_store(app, store):
        make_product("Linen apron", vendor="Flax")
        unpublished = make_product("Linen napkin", vendor="Flax")
        renamed_vendor = make_product("Linen towel", vendor="Flax")
        gone = make_product("Linen runner", vendor="Flax")
        run_effects()
        # The catalog changes; no worker brings the index up to date.
        catalog.update_product(unpublished, {"status": "draft"}, actor=ACTOR)
        catalog.update_product(renamed_vendor, {"vendor": "Hemp"}, actor=ACTOR)
        catalog.bulk_update([gone.id], "delete", actor=ACTOR)
        assert service.pending() == 3
    assert sorted(handles(client, store, "?q=linen")) == ["linen-apron", "linen-towel"]
    assert handles(client, store, "?q=linen&vendor=flax") == ["linen-apron"]
    assert handles(client, store, "?q=napkin") == [] and handles(client, store, "?q=runner") == []


def test_search_within_a_collection(app, client, shop):
    store = shop()
    with as_store(app, store):
        inside = [make_product(f"Stoneware mug {n}", vendor="Kiln" if n < 3 else "Clay") for n in range(5)]
        kiln = sorted(p.handle for p in inside[:3])
        make_product("Stoneware mug outside", vendor="Kiln")
        hidden = make_product("Stoneware mug draft", status="draft")
        mugs = collections.create_collection({"title": "Mugs"}, kind="manual")
        collections.set_products(mugs, [p.id for p in inside] + [hidden.id])
        inside = sorted(p.handle for p in inside)
        empty = collections.create_collection({"title": "Empty"}, kind="manual")
        collections.set_products(empty, [hidden.id])
        collections.create_collection({"title": "Kiln"}, kind="automated",
                                      rules=[{"field": "vendor", "relation": "equals", "value": "kiln"}])
        run_effects()

    seen, paginations = _all_pages(client, store, "?q=stoneware&collection=mugs", limit=2)
    assert sorted(seen) == inside and paginations[0]["total"] == 5
    assert sorted(handles(client, store, "?q=mug&collection=mugs&vendor=kiln")) == kiln
    assert sorted(handles(client, store, "?q=mug&collection=kiln")) == sorted(kiln + ["stoneware-mug-outside"])
    nothing = listing(client, store, "?q=stoneware&collection=empty")
    assert nothing["products"] == [] and nothing["pagination"]["total"] == 0


def test_a_collection_too_large_to_search_within_is_a_clear_400(app, client, shop):
    store = shop()
    with as_store(app, store):
        products = [make_product(f"Enamel pin {n}") for n in range(3)]
        pins = collections.create_collection({"title": "Pins"}, kind="manual")
        collections.set_products(pins, [p.id for p in products])
        run_effects()
    app.config["SEARCH_COLLECTION_LIMIT"] = 2
    try:
        response = get(client, store, "/api/v1/products?q=pin&collection=pins")
        listed = handles(client, store, "?collection=pins")  # without q the collection is paged in the database
    finally:
        app.config["SEARCH_COLLECTION_LIMIT"] = 10_000
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "collection_too_large" and error["parameter"] == "collection" and "2" in error["message"]
    assert len(listed) == 3
    assert len(handles(client, store, "?q=pin&collection=pins")) == 3


def _legacy_index(app, store, title: str) -> None:
    """An index as the previous release wrote it: whoosh's default name, an older schema."""
    with app.app_context():
        path = index_dir(store.id)
    path.mkdir(parents=True, exist_ok=True)
    legacy = whoosh_index.create_in(path, Schema(id=ID(stored=True, unique=True), title=TEXT(stored=True),
                                                 status=ID(stored=True)))
    writer = legacy.writer()
    writer.add_document(id="1", title=title, status="active")
    writer.commit()


def _search_queue(service_env) -> Queue:
    return Queue("search", connection=redis.Redis.from_url(service_env["REDIS_URL"]))


def test_an_index_of_an_earlier_release_is_rebuilt_never_read(app, client, shop, service_env, run_search_worker):
    store = shop()
    with as_store(app, store):
        make_product("Copper lamp", vendor="Forge")
        make_product("Copper kettle", vendor="Forge")
        db.session.execute(sa.delete(Outbox))  # indexed by the earlier release, say
        db.session.commit()
    _legacy_index(app, store, "Copper lamp")
    queue = _search_queue(service_env)
    queue.empty()

    for _ in range(2):
        waiting = get(client, store, "/api/v1/products?q=copper&vendor=forge")
        assert waiting.status_code == 503 and waiting.headers["Retry-After"] == "10"
        assert waiting.get_json()["error"]["code"] == "search_unavailable"
        assert "public" not in waiting.headers.get("Cache-Control", "")
    assert [job.func_name for job in queue.get_jobs()] == ["app.search.jobs.build_index"]  # asked for once
    assert handles(client, store, "?vendor=forge") == ["copper-kettle", "copper-lamp"]  # listing needs no index

    run_search_worker()
    assert sorted(handles(client, store, "?q=copper&vendor=forge")) == ["copper-kettle", "copper-lamp"]
    assert handles(client, store, "?q=lamp") == ["copper-lamp"]
    with app.app_context():
        assert not any(index_dir(store.id).glob("_MAIN_*.toc"))  # the old index went with the swap


def test_a_write_to_a_store_with_an_old_index_builds_the_whole_new_one(app, shop):
    store = shop()
    with as_store(app, store):
        first = make_product("Velvet cushion").id
        db.session.execute(sa.delete(Outbox))
        db.session.commit()
    _legacy_index(app, store, "Velvet cushion")
    with as_store(app, store):
        second = make_product("Velvet throw").id
        run_effects()  # the handler of the write, as a worker runs it
        assert sorted(service.search("velvet").product_ids) == sorted([first, second])
        assert service.pending() == 0


def test_a_store_without_products_or_index_finds_nothing(client, shop, service_env):
    store = shop()
    queue = _search_queue(service_env)
    queue.empty()
    body = listing(client, store, "?q=anything")
    assert body["products"] == [] and body["pagination"]["total"] == 0
    assert queue.count == 0


def test_search_rebuild_replaces_an_old_index(app, client, shop, service_env):
    store = shop()
    with as_store(app, store):
        make_product("Rattan chair")
        db.session.execute(sa.delete(Outbox))
        db.session.commit()
    _legacy_index(app, store, "Rattan chair")
    result = flask_cli(service_env, "search", "rebuild", "--store", store.handle)
    assert f"{store.handle}: 1 product indexed" in result.stdout
    with as_store(app, store):
        assert open_index(store.id) is not None
        assert db.session.scalar(sa.select(Product.handle)) == "rattan-chair"
    assert handles(client, store, "?q=rattan") == ["rattan-chair"]
