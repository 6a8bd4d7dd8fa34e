"""A worker killed in the middle of the reservation sweep: its transaction
dies with it, nothing is given back twice or lost, and the next sweep (a
new worker) releases every expired hold once."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from rq import Queue

from app.config import ROOT
from app.extensions import db
from app.inventory.models import InventoryLevel, Reservation
from app.jobs import rq_connection
from tenants.session import tenant_engine
from tests.conftest import as_store, flask_cli, wait_until
from tests.inventory.test_reservations import _levels, _reserved_matches_rows, _setup

HOLDS = 300
SWEEP = "app.inventory.jobs.sweep_reservations"


def _expired_holds(app, store, variant_id, location) -> None:
    with as_store(app, store):
        lapsed = db.session.scalar(sa.select(sa.func.now() - sa.text("interval '1 minute'")))
        db.session.execute(sa.insert(Reservation), [
            {"holder": f"cart:gone{n}", "variant_id": variant_id, "location_id": location, "quantity": 1,
             "expires_at": lapsed} for n in range(HOLDS)])
        db.session.execute(sa.update(InventoryLevel).where(InventoryLevel.variant_id == variant_id,
                                                           InventoryLevel.location_id == location)
                           .values(reserved=HOLDS))
        db.session.commit()
        _reserved_matches_rows()


def _sweeper_waiting_on_the_level(engine) -> int | None:
    """The backend pid of a sweep stuck behind the level's lock, if any."""
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query ILIKE 'UPDATE inventory_levels%'")).scalar()


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _backend_alive(engine, pid: int) -> bool:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}).scalar() > 0


def test_a_sweep_killed_mid_transaction_releases_nothing_twice(app, make_store, service_env):
    store = make_store()
    variant_id, first, _ = _setup(app, store, (HOLDS, 0))
    _expired_holds(app, store, variant_id, first)
    with app.app_context():
        queue = Queue("reservations", connection=rq_connection())
        queue.empty()
    with as_store(app, store):
        engine = tenant_engine(db)
    blocker = engine.connect()
    worker = None
    try:
        # The level is locked here, so the sweeper stops inside its first batch: rows deleted, units not yet back.
        blocker.execute(sa.text("SELECT set_config('search_path', :p, true), set_config('app.store_id', :s, true)"),
                        {"p": f"{store.schema}, public", "s": str(store.id)})
        locked = blocker.execute(sa.text("SELECT count(*) FROM (SELECT 1 FROM inventory_levels WHERE variant_id = :v "
                                         "FOR UPDATE) l"), {"v": variant_id}).scalar()
        assert locked == 2  # the variant's two locations
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--queue",
                                   "reservations"], cwd=ROOT, env={**os.environ, **service_env},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        with app.app_context():
            queue.enqueue(SWEEP, batch=50)
        wait_until(lambda: _sweeper_waiting_on_the_level(engine), "the sweep to reach the locked level")
        sweeper = _sweeper_waiting_on_the_level(engine)
        for horse in _children(worker.pid):  # RQ's work horse runs the job in a session of its own
            os.kill(horse, signal.SIGKILL)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        blocker.rollback()
        blocker.close()
    # The dead horse's backend finishes its UPDATE, finds no client and rolls the whole batch back.
    wait_until(lambda: not _backend_alive(engine, sweeper), "the killed sweep's backend to end")
    with as_store(app, store):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Reservation)) == HOLDS
        assert _levels(variant_id)[first] == (HOLDS, HOLDS)
        _reserved_matches_rows()

    with app.app_context():
        queue.enqueue(SWEEP, batch=50)
    flask_cli(service_env, "worker", "--burst", "--queue", "reservations")
    with as_store(app, store):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Reservation)) == 0
        assert _levels(variant_id)[first] == (HOLDS, 0)
        _reserved_matches_rows()
