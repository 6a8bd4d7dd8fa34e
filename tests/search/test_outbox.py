"""The outbox: written with the product, applied by a real worker, one index per store."""
import shutil
from pathlib import Path

import sqlalchemy as sa
from app.catalog import products as catalog
from app.catalog.events import PRODUCT_CHANGED
from app.catalog.models import Product
from app.catalog.products import OptionSpec
from app.effects import marker
from app.effects.dispatch import HandlerFailed
from app.effects.models import Outbox
from app.extensions import db
from app.search import service
from app.search.index import open_index
from app.search.service import SearchFilters
from tests.conftest import as_store, flask_cli, run_effects
from tests.search.conftest import word

ACTOR = "indexer@example.com"


def _outbox() -> list[int]:
    return list(db.session.scalars(sa.select(Outbox.payload["product_id"].as_integer())
                                   .where(Outbox.topic == PRODUCT_CHANGED).order_by(Outbox.id)))


def _found(text: str) -> list[int]:
    return service.search(text).product_ids


def test_a_product_write_adds_an_outbox_row_in_the_same_transaction(app, new_store):
    with as_store(app, new_store()):
        catalog.create_product({"title": "Rolled back", "price": "5"}, actor=ACTOR, commit=False)
        assert len(_outbox()) == 1  # visible inside the write's transaction
        db.session.rollback()
        assert _outbox() == [] and db.session.scalar(sa.select(sa.func.count(Product.id))) == 0

        product = catalog.create_product({"title": "Kept", "price": "5"}, actor=ACTOR)
        assert _outbox() == [product.id]
        catalog.update_product(product, {"title": "Kept, renamed"}, actor=ACTOR)
        assert _outbox() == [product.id, product.id]


def test_writes_wait_in_the_outbox_until_a_worker_applies_them(app, new_store, run_search_worker):
    store = new_store()
    title, sku, tag, vendor, colour = word("hat"), word("sku"), word("tag"), word("maker"), word("hue")
    with as_store(app, store):
        service.rebuild()  # the (empty) store has an index, which the writes below do not reach
        hat = catalog.create_product(
            {"title": f"Felted {title} hat", "price": "20", "sku": sku.upper(), "tags": f"{tag}, winter",
             "vendor": vendor.capitalize(), "status": "active"},
            options=[OptionSpec("Colour", [colour, "Grey"])], actor=ACTOR).id
        other = catalog.create_product({"title": "Plain scarf", "price": "15", "status": "active"}, actor=ACTOR).id
        hidden = catalog.create_product({"title": f"Draft {title}", "price": "1", "status": "draft"}, actor=ACTOR).id
        assert sorted(_outbox()) == sorted([hat, other, hidden])
        # No worker has run: the index knows none of it.
        for term in (title, sku, tag, vendor, colour, "scarf"):
            assert _found(term) == [], term

    run_search_worker()

    with as_store(app, store):
        assert _outbox() == []
        assert _found(title) == [hat]  # the draft with the same word stays out
        variant_sku = f"{sku}-{colour}"  # the SKU field filled each variant: prefix plus colour
        assert _found(variant_sku) == [hat] and _found(variant_sku.upper()) == [hat]
        assert _found(sku) == [hat]  # the SKU typed for the product finds it through its variants' SKUs
        assert _found(tag) == [hat]
        assert _found(vendor) == [hat]
        assert _found(colour) == [hat]
        assert _found("scarf") == [other]


def test_a_burst_of_writes_queues_one_search_job_per_store(app, new_store, service_env):
    import redis
    from rq import Queue

    first, second = new_store(), new_store()
    search_queue = Queue("search", connection=redis.Redis.from_url(service_env["REDIS_URL"]))
    search_queue.empty()
    for store in (first, second):
        with as_store(app, store):
            for n in range(5):
                catalog.create_product({"title": f"Burst {n}", "price": "1"}, actor=ACTOR)
    jobs = search_queue.get_jobs()
    assert sorted(job.args for job in jobs) == sorted([(first.id, "search"), (second.id, "search")])
    search_queue.empty()
    for store in (first, second):  # their jobs are gone: so are the markers that said they wait
        search_queue.connection.delete(marker(store.id, "search"))


def test_a_failing_index_write_keeps_the_rows_for_the_retry(app, new_store):
    store, title = new_store(), word("clock")
    with as_store(app, store):
        service.rebuild()
        clock = catalog.create_product({"title": f"Wall {title}", "price": "60", "status": "active"}, actor=ACTOR).id
        app.config["SEARCH_WRITER_TIMEOUT"] = 0.2
        held = open_index(store.id).writer()  # another writer holds the index: the write must fail
        try:
            try:
                run_effects()
            except HandlerFailed:
                pass
            else:
                raise AssertionError("the dispatch should have failed")
        finally:
            held.cancel()
            app.config["SEARCH_WRITER_TIMEOUT"] = 30
        assert _outbox() == [clock] and _found(title) == []
        assert db.session.scalar(sa.select(Outbox.attempts).where(Outbox.topic == PRODUCT_CHANGED)) == 1
        run_effects()  # the row waits out its back-off (app.effects.dispatch): nothing is due yet
        assert _outbox() == [clock] and _found(title) == []
        db.session.execute(sa.update(Outbox).values(next_attempt_at=None))  # as if its time had come
        db.session.commit()
        run_effects()
        assert _outbox() == [] and _found(title) == [clock]


def test_a_deleted_product_leaves_the_index(app, new_store, run_search_worker):
    store, title = new_store(), word("lamp")
    with as_store(app, store):
        lamp = catalog.create_product({"title": f"Brass {title}", "price": "80", "status": "active"}, actor=ACTOR).id
    run_search_worker()
    with as_store(app, store):
        assert _found(title) == [lamp]
        assert catalog.bulk_update([lamp], "delete", actor=ACTOR) == 1
        assert _outbox() == [lamp]
    run_search_worker()
    with as_store(app, store):
        assert _outbox() == [] and _found(title) == []


def test_unpublishing_takes_a_product_out_of_results(app, new_store, run_search_worker):
    store, title = new_store(), word("vase")
    with as_store(app, store):
        vase = catalog.create_product({"title": f"Glass {title}", "price": "30", "status": "active"}, actor=ACTOR).id
    run_search_worker()
    with as_store(app, store):
        assert _found(title) == [vase]
        catalog.update_product(catalog.get_product(vase), {"status": "archived"}, actor=ACTOR)
    run_search_worker()
    with as_store(app, store):
        assert _found(title) == []
        assert service.search(title, SearchFilters(only_active=False)).product_ids == [vase]


def test_stores_have_separate_indexes(app, new_store, run_search_worker):
    first, second, dedicated = new_store(), new_store(), new_store(tier="dedicated")
    shared, own = word("mug"), word("bowl")
    ids = {}
    for store in (first, second, dedicated):
        with as_store(app, store):
            ids[store.id] = catalog.create_product({"title": f"Stoneware {shared}", "price": "12",
                                                    "status": "active"}, actor=ACTOR).id
    with as_store(app, first):
        first_only = catalog.create_product({"title": f"Oak {own}", "price": "40", "status": "active"},
                                            actor=ACTOR).id
    run_search_worker()

    for store in (first, second, dedicated):
        with as_store(app, store):
            assert _found(shared) == [ids[store.id]]
            assert _found(own) == ([first_only] if store is first else [])


def test_search_rebuild_recreates_indexes_from_the_database(app, new_store, service_env):
    first, second = new_store(), new_store()
    title, other_title = word("chair"), word("table")
    with as_store(app, first):
        chairs = sorted(catalog.create_product({"title": f"{title} {n}", "price": "50", "status": "active"},
                                               actor=ACTOR).id for n in range(3))
    with as_store(app, second):
        table = catalog.create_product({"title": f"Pine {other_title}", "price": "90", "status": "active"},
                                       actor=ACTOR).id
    # Say the index directory was lost; no worker has run either.
    shutil.rmtree(Path(service_env["VAR_DIR"]) / "search" / str(first.id), ignore_errors=True)

    one = flask_cli(service_env, "search", "rebuild", "--store", first.handle)
    assert f"[1/1] {first.handle}: 3 products indexed" in one.stdout
    with as_store(app, first):
        assert sorted(_found(title)) == chairs and _outbox() == []
    with as_store(app, second):
        assert open_index(second.id) is None and _outbox() == [table]  # --store touched only that store

    # Every store: stores other tests broke on purpose may fail (and the command says so), never these two.
    every = flask_cli(service_env, "search", "rebuild", check=False)
    assert first.handle not in every.stderr and second.handle not in every.stderr
    assert f"{first.handle}: 3 products indexed" in every.stdout
    assert f"{second.handle}: 1 product indexed" in every.stdout
    with as_store(app, second):
        assert _found(other_title) == [table] and _outbox() == []


def test_search_rebuild_of_an_unknown_store_fails_clearly(service_env):
    result = flask_cli(service_env, "search", "rebuild", "--store", "no-such-store", check=False)
    assert result.returncode != 0
    assert "No store with the handle “no-such-store”" in result.stderr


def test_search_status_counts_pending_rows_per_store(app, new_store, service_env):
    busy, idle = new_store(), new_store()
    with as_store(app, busy):
        catalog.create_product({"title": "One", "price": "1"}, actor=ACTOR)
        catalog.create_product({"title": "Two", "price": "1"}, actor=ACTOR)
    lines = flask_cli(service_env, "search", "status").stdout.splitlines()
    assert f"{busy.handle}: 2 pending" in lines
    assert f"{idle.handle}: 0 pending" in lines
