"""A worker killed (SIGKILL) in the middle of a capture: the PSP finishes
the capture, our transaction dies with the worker, and after the retry (a
new worker) the payment is captured exactly once and the order is paid."""
import os
import signal
import subprocess
import sys

import pytest
import requests
import sqlalchemy as sa
from rq import Queue

from app.config import ROOT
from app.effects import marker
from app.effects.dispatch import sweep
from app.extensions import db
from app.jobs import rq_connection
from app.orders import lifecycle
from tenants.session import tenant_engine
from tests.checkout.helpers import captures_of, emulator_url, intent, payment_intent_of, shop_with_rate, stats
from tests.conftest import as_store, flask_cli, wait_until
from tests.inventory.test_sweeper_crash import _children
from tests.orders.helpers import ACTOR, order_id, place, state


@pytest.fixture
def shop(app, make_store):
    return shop_with_rate(app, make_store)


def _capturing(engine) -> bool:
    """A worker holds the order and its payment and is waiting on the PSP (its last query locked the payment)."""
    with engine.connect() as conn:
        return bool(conn.execute(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' "
            "AND query ILIKE 'SELECT payments.%FOR UPDATE%'")).scalar())


def test_a_capture_killed_mid_call_is_captured_once_after_the_retry(app, shop, service_env):
    order = place(app, shop, {"Linen Tee": 1})
    pi = payment_intent_of(app, shop, order["token"])
    with app.app_context():
        queue = Queue("payments", connection=rq_connection())
        queue.empty()
        rq_connection().delete(marker(shop.store.id, "payments"))
    with as_store(app, shop.store):
        engine = tenant_engine(db)
    faults = f"{emulator_url(app)}/_emulator/faults"
    requests.post(faults, json={"latency_ms": 4000, "paths": [f"/v1/payment_intents/{pi}/capture"]},
                  timeout=5).raise_for_status()
    worker = None
    try:
        with as_store(app, shop.store):  # queues the capture (outbox row + dispatch job on "payments")
            lifecycle.fulfil(order_id(app, shop, order["token"]), None, actor=ACTOR, notify=False)
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--queue", "payments"],
                                  cwd=ROOT, env={**os.environ, **service_env}, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        wait_until(lambda: _capturing(engine) and stats(app)["idempotent_requests_in_flight"] == 1,
                   "the worker to be waiting on the capture, its request at the PSP")
        for horse in _children(worker.pid):  # RQ's work horse runs the job in a session of its own
            os.kill(horse, signal.SIGKILL)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        # The PSP got the request and finishes it; our side never heard the answer.
        wait_until(lambda: captures_of(app, pi) == 1, "the emulator to finish the capture")
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        requests.post(faults, json={}, timeout=5)
    wait_until(lambda: not _capturing(engine), "the killed worker's transaction to end")
    assert state(app, shop, order["token"]) == ("fulfilled", "authorized", "fulfilled")  # rolled back with it

    with app.app_context():
        sweep()  # the periodic catch-up queues the dispatch again (the dead job's marker still stands)
    flask_cli(service_env, "worker", "--burst", "--queue", "payments")
    assert captures_of(app, pi) == 1
    assert state(app, shop, order["token"]) == ("fulfilled", "paid", "fulfilled")
    assert intent(app, pi)["status"] == "succeeded"
