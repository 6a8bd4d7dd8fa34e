"""Online tier moves: data intact, only the moving store's writes pause."""
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.store import service as store_service
from app.store.models import ActivityEvent
from tenants.errors import DirectoryError
from tenants.models import Store, TenantSchema
from tenants.moves import MoveFailed, move_store
from tests.conftest import Client, as_store, in_thread


def _timeline(app, placement) -> list[tuple[int, str]]:
    with as_store(app, placement):
        return sorted(db.session.execute(sa.select(ActivityEvent.id, ActivityEvent.summary)).all())


def _placement(app, handle):
    from tenants.provisioning import placement_of

    with app.app_context():
        return placement_of(db.session.scalar(sa.select(Store).where(Store.handle == handle)))


def _move(app, handle, **kwargs):
    with app.app_context():
        return move_store(handle, **kwargs)


def _store_name(app, store_id):
    with app.app_context():
        return db.session.get(Store, store_id).name


def _write_settings(browser: Client, handle: str, name: str):
    return browser.post(f"/dashboard/{handle}/settings",
                        {"name": name, "currency": "USD", "contact_email": "", "coming_soon_message": "hi"},
                        csrf_from=f"/dashboard/{handle}/settings")


def test_pooled_to_dedicated_to_pooled_keeps_data_while_others_serve(app, merchant, make_account, make_store):
    browser, account, store = merchant
    other_owner = make_account()
    neighbour = make_store(owner=other_owner, name="Neighbour")
    if neighbour.schema != store.schema:  # the pool filled up between the two; the next store joins the neighbour
        store = make_store(owner=account)
    neighbour_browser = Client(app.test_client())
    neighbour_browser.login(other_owner.email)
    assert neighbour.schema == store.schema

    with as_store(app, store):
        for i in range(25):
            store_service.record(account.email, "test", f"event {i}")
    before = _timeline(app, store)
    seen_while_frozen = {}

    def requests_during_freeze():
        seen_while_frozen["write"] = _write_settings(browser, store.handle, "Renamed while frozen")
        seen_while_frozen["read"] = browser.get("/", host=f"{store.handle}.localhost")
        seen_while_frozen["neighbour_write"] = _write_settings(neighbour_browser, neighbour.handle, "Busy")
        seen_while_frozen["neighbour_read"] = browser.get("/", host=f"{neighbour.handle}.localhost")

    report = _move(app, store.handle, to_tier="dedicated", on_frozen=lambda: in_thread(requests_during_freeze))
    moved = _placement(app, store.handle)
    assert (moved.tier, moved.schema) == ("dedicated", f"store_{store.id}")
    assert report.rows["activity_events"] == len(before)
    assert _timeline(app, moved) == before

    frozen_write = seen_while_frozen["write"]
    assert frozen_write.status_code == 503 and frozen_write.headers["Retry-After"]
    assert seen_while_frozen["read"].status_code == 200
    assert seen_while_frozen["neighbour_write"].status_code == 302
    assert seen_while_frozen["neighbour_read"].status_code == 200
    assert _store_name(app, store.id) == "Test Store"  # the refused write changed nothing
    assert _store_name(app, neighbour.id) == "Busy"

    # The old pool no longer holds the store's rows; the neighbour's are still there.
    with as_store(app, store):  # the stale placement: the pool
        assert db.session.scalar(sa.select(sa.func.count(ActivityEvent.id))) == 0
    assert any("Store details set to “Busy”" in s for _, s in _timeline(app, neighbour))

    # And it keeps working at its new place: the storefront and a write.
    assert browser.get("/", host=f"{store.handle}.localhost").status_code == 200
    assert _write_settings(browser, store.handle, "After the move").status_code == 302

    _move(app, store.handle, to_tier="pooled")
    back = _placement(app, store.handle)
    assert back.tier == "pooled" and back.schema.startswith("pool_")
    after = _timeline(app, back)
    assert after[: len(before)] == before and len(after) > len(before)
    with app.app_context():
        assert f"store_{store.id}" not in set(db.session.scalars(sa.select(TenantSchema.name)))


def test_writes_made_during_the_copy_are_replayed(app, make_store, monkeypatch):
    from tenants import moves

    store = make_store()
    with as_store(app, store):
        store_service.record("t@example.com", "test", "kept")
        store_service.record("t@example.com", "test", "to be deleted")
    copy_all = moves._copy_all

    def copy_then_write(*args):
        copy_all(*args)  # the snapshot is taken; now the store changes under the move
        with as_store(app, store):
            db.session.execute(sa.delete(ActivityEvent).where(ActivityEvent.summary == "to be deleted"))
            db.session.execute(sa.update(ActivityEvent).where(ActivityEvent.summary == "kept")
                               .values(summary="kept and edited"))
            store_service.record("t@example.com", "test", "added late")

    monkeypatch.setattr(moves, "_copy_all", copy_then_write)
    report = _move(app, store.handle, to_tier="dedicated", db_key="pod2")
    assert report.replayed == 3
    moved = _placement(app, store.handle)
    assert moved.db_key == "pod2"
    assert [s for _, s in _timeline(app, moved)] == ["kept and edited", "added late"]
    with as_store(app, moved):  # new rows get fresh ids after the carried-over ones
        store_service.record("t@example.com", "test", "newest")
    ids = [i for i, _ in _timeline(app, moved)]
    assert len(set(ids)) == 3


def test_a_move_that_fails_part_way_leaves_the_store_whole(app, make_store):
    store = make_store()
    with as_store(app, store):
        for i in range(5):
            store_service.record("t@example.com", "test", f"event {i}")
    before = _timeline(app, store)

    def schemas():
        with app.app_context():
            return {(s.name, s.store_count) for s in db.session.scalars(sa.select(TenantSchema))}

    schemas_before = schemas()

    def fail():
        raise MoveFailed("simulated crash during the switch")

    with pytest.raises(MoveFailed):
        _move(app, store.handle, to_tier="dedicated", on_frozen=fail)
    assert _placement(app, store.handle) == store
    assert _timeline(app, store) == before
    assert schemas() == schemas_before
    with as_store(app, store):  # no freeze left behind: it takes writes again
        store_service.record("t@example.com", "test", "after")
    assert len(_timeline(app, store)) == len(before) + 1


def test_moving_to_where_it_is_or_to_an_unknown_database_is_refused(app, make_store):
    store = make_store()
    with pytest.raises(DirectoryError, match="already pooled"):
        _move(app, store.handle, to_tier="pooled")
    with pytest.raises(DirectoryError, match="Unknown database"):
        _move(app, store.handle, to_tier="dedicated", db_key="nowhere")
    assert _placement(app, store.handle) == store


def test_cli_move_across_databases(service_env, make_store):
    from tests.conftest import flask_cli

    store = make_store()
    out = flask_cli(service_env, "tenants", "move", store.handle, "--to", "pooled", "--database", "pod2").stdout
    assert f"moved {store.handle}: main.{store.schema} -> pod2.pool_" in out
    refused = flask_cli(service_env, "tenants", "move", store.handle, "--to", "pooled", "--database", "pod2",
                        check=False)
    assert refused.returncode != 0 and "already pooled on pod2" in refused.stderr


def test_a_write_with_a_stale_placement_is_refused(app, make_store):
    from tenants.context import StoreUnavailable

    store = make_store()
    _move(app, store.handle, to_tier="dedicated")
    with pytest.raises(StoreUnavailable, match="has just moved"):
        with as_store(app, store):  # a process that has not heard of the move yet
            store_service.record("t@example.com", "test", "lost?")
    with as_store(app, _placement(app, store.handle)):
        assert store_service.recent_activity() == []


def test_jobs_cannot_write_to_a_frozen_store_but_can_read(app, make_store):
    from app.extensions import get_redis
    from tenants.context import StoreUnavailable
    from tenants.moves import freeze_key

    store = make_store()
    with app.app_context():
        get_redis().set(freeze_key(store.id), "1", ex=30)
    try:
        with pytest.raises(StoreUnavailable):
            with as_store(app, store):
                store_service.record("job", "test", "during freeze")
        with as_store(app, store):
            assert store_service.recent_activity() == []
    finally:
        with app.app_context():
            get_redis().delete(freeze_key(store.id))


def test_a_write_in_flight_holds_the_freeze_off_and_the_move_gives_up_whole(app, make_store, monkeypatch):
    import threading

    from tenants import moves

    store = make_store()
    monkeypatch.setattr(moves, "MOVER_LOCK_TIMEOUT", "300ms")
    opened, finish = threading.Event(), threading.Event()

    def slow_writer():
        with as_store(app, store):
            store_service.record("t@example.com", "test", "slow write")
            from app.extensions import db as session_db
            session_db.session.flush()  # the transaction has begun and holds the store's write lock
            opened.set()
            finish.wait(timeout=60)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    try:
        assert opened.wait(timeout=30)
        with pytest.raises(MoveFailed, match="did not finish"):
            _move(app, store.handle, to_tier="dedicated")
    finally:
        finish.set()
        writer.join()
    assert _placement(app, store.handle) == store
    assert [s for _, s in _timeline(app, store)] == ["slow write"]


def test_two_moves_of_one_store_cannot_overlap(app, make_store):
    store = make_store()

    def second_move():
        with pytest.raises(DirectoryError, match="already being moved"):
            _move(app, store.handle, to_tier="dedicated", db_key="pod2")

    _move(app, store.handle, to_tier="dedicated", on_frozen=lambda: in_thread(second_move))
    assert _placement(app, store.handle).schema == f"store_{store.id}"


def test_a_committed_write_is_answered_as_saved_even_if_a_freeze_begins_right_after(app, merchant, monkeypatch):
    """The view reads what it saved (for its message and redirect) after the
    commit; that read must not be refused by a freeze that began meanwhile,
    or a client retrying the 503 would write twice."""
    from app.catalog import products as catalog
    from app.catalog.models import Product
    from app.extensions import get_redis
    from tenants.moves import WRITE_LOCK, freeze_key
    from tenants.session import tenant_engine

    browser, _, store = merchant
    create_product = catalog.create_product
    held = {}

    def create_then_freeze(*args, **kwargs):
        product = create_product(*args, **kwargs)  # committed
        get_redis().set(freeze_key(store.id), "1", ex=30)  # the mover freezes the store right now
        with app.app_context():
            held["lock"] = tenant_engine(db, store).connect()
        held["lock"].execute(sa.text("SELECT pg_advisory_lock(:ns, :id)"), {"ns": WRITE_LOCK, "id": store.id})
        return product

    monkeypatch.setattr(catalog, "create_product", create_then_freeze)
    try:
        path = f"/dashboard/{store.handle}/products/new"
        answer = browser.post(path, {"title": "Saved once", "price": "5"}, csrf_from=path)
        assert answer.status_code == 302, answer.get_data(as_text=True)
        refused = browser.post(path, {"title": "Refused", "price": "5"}, csrf_from=path)
        assert refused.status_code == 503 and refused.headers["Retry-After"]
    finally:
        if "lock" in held:
            held["lock"].close()
        with app.app_context():
            get_redis().delete(freeze_key(store.id))
    with as_store(app, store):
        assert list(db.session.scalars(sa.select(Product.title))) == ["Saved once"]


def test_writers_retrying_through_a_move_write_each_product_exactly_once(app, merchant):
    import threading

    from app.catalog.models import Product

    _, account, store = merchant
    path = f"/dashboard/{store.handle}/products/new"
    moved, refused_once = threading.Event(), threading.Event()
    answered: list[str] = []
    errors: list[BaseException] = []

    def writer(number: int):
        try:
            write(number)
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)

    def write(number: int):
        browser = Client(app.test_client())
        browser.login(account.email)
        token = browser.csrf_token(path)
        for n in range(10_000):
            title = f"writer {number} product {n}"
            while True:
                response = browser.post(path, {"title": title, "price": "1", "csrf_token": token})
                if response.status_code != 503:
                    break
                refused_once.set()  # refused: nothing was written, so the same write is retried
            assert response.status_code == 302, response.get_data(as_text=True)
            answered.append(title)
            if moved.is_set() and n >= 3:
                return

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(3)]
    for thread in threads:
        thread.start()
    try:
        # The freeze lasts until a writer has been refused at least once (bounded).
        _move(app, store.handle, to_tier="dedicated", on_frozen=lambda: refused_once.wait(timeout=20))
    finally:
        moved.set()
        for thread in threads:
            thread.join(timeout=120)
    assert errors == [] and refused_once.is_set()
    with as_store(app, _placement(app, store.handle)):
        titles = list(db.session.scalars(sa.select(Product.title)))
    assert sorted(titles) == sorted(answered) and len(set(titles)) == len(titles)


def test_a_copy_that_loses_rows_fails_the_move_and_leaves_the_store_where_it_was(app, make_store):
    """Row counts are verified before the switch: a copy that silently drops
    rows (here a trigger at the target discards them) must not cost data."""
    from tenants.extension import state
    from tenants.provisioning import create_pool

    store = make_store()
    with as_store(app, store):
        for i in range(4):
            store_service.record("t@example.com", "test", f"event {i}")
    before = _timeline(app, store)
    with app.app_context():
        create_pool("pod2")  # the target pool exists before the move, so the fault can be put in it
        engine = state().owner_engine("pod2")
        pools = [name for (name,) in db.session.execute(sa.select(TenantSchema.name).where(
            TenantSchema.db_key == "pod2", TenantSchema.kind == "pooled"))]
        with engine.begin() as conn:
            for pool in pools:
                conn.exec_driver_sql(
                    f"CREATE FUNCTION {pool}.lose_rows() RETURNS trigger LANGUAGE plpgsql AS "
                    f"$$ BEGIN IF NEW.store_id = {store.id} THEN RETURN NULL; END IF; RETURN NEW; END $$")
                conn.exec_driver_sql(f"CREATE TRIGGER lose_rows BEFORE INSERT ON {pool}.activity_events "
                                     f"FOR EACH ROW EXECUTE FUNCTION {pool}.lose_rows()")
    try:
        with pytest.raises(MoveFailed, match="row counts differ"):
            _move(app, store.handle, to_tier="pooled", db_key="pod2")
    finally:
        with app.app_context(), state().owner_engine("pod2").begin() as conn:
            for pool in pools:
                conn.exec_driver_sql(f"DROP FUNCTION {pool}.lose_rows() CASCADE")
    assert _placement(app, store.handle) == store
    assert _timeline(app, store) == before
