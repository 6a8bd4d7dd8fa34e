"""The scheduler enqueues the outbox sweep; a worker runs it and catches up lost work."""
import os
import signal
import subprocess
import sys

import redis
from rq import Queue
from rq.job import Job

from app.catalog import products as catalog
from app.config import ROOT
from app.effects import marker
from app.jobs import rq_connection
from app.scheduler import build_scheduler
from app.search import service
from app.search.index import open_index
from tests.conftest import as_store, flask_cli
from tests.search.conftest import word

ACTOR = "scheduler@example.com"
SWEEP = "app.effects.dispatch.sweep"


def test_the_sweeps_are_registered_every_minute(app):
    with app.app_context():
        jobs = build_scheduler(rq_connection()).get_jobs()
    registered = {(j.func_name, j.queue_name, j.interval) for j in jobs}
    assert {(SWEEP, "default", 60), ("app.catalog.jobs.sweep_imports", "default", 60)} <= registered


def test_the_scheduler_command_enqueues_a_sweep_that_catches_up_a_lost_job(app, new_store, service_env):
    store, title = new_store(), word("kettle")
    with as_store(app, store):
        kettle = catalog.create_product({"title": f"Enamel {title}", "price": "35", "status": "active"},
                                        actor=ACTOR).id
    connection = redis.Redis.from_url(service_env["REDIS_URL"])
    # The queued jobs are lost with their markers (say Redis was restarted); the outbox row is not.
    Queue("search", connection=connection).empty()
    default_queue = Queue("default", connection=connection)
    default_queue.empty()
    for key in connection.scan_iter(marker("*", "*")):
        connection.delete(key)

    scheduler = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"], cwd=ROOT,
                                 env={**os.environ, **service_env}, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
    try:
        popped = connection.blpop([default_queue.key], timeout=60)  # waits for the scheduler's first enqueue
    finally:
        scheduler.send_signal(signal.SIGTERM)
        try:
            log = "".join(scheduler.communicate(timeout=30))  # RQ logs info to stdout, errors to stderr
        except subprocess.TimeoutExpired:
            scheduler.kill()
            scheduler.communicate()
            raise
    assert popped is not None, log
    job_id = popped[1].decode()
    assert Job.fetch(job_id, connection=connection).func_name == SWEEP
    assert scheduler.returncode == 0, log
    assert "scheduler stopped" in log

    with as_store(app, store):
        assert service.pending() == 1 and open_index(store.id) is None  # nothing has reached an index
    default_queue.push_job_id(job_id)  # hand the scheduler's job to a real worker
    flask_cli(service_env, "worker", "--burst", "--queue", "default")  # the sweep kicks the store's dispatch
    flask_cli(service_env, "worker", "--burst", "--queue", "search")
    with as_store(app, store):
        assert service.pending() == 0
        assert service.search(title).product_ids == [kettle]
