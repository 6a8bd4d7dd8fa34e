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
from app.jobs import rq_connection
from app.scheduler import SWEEP_INTERVAL, build_scheduler
from app.search import service
from tests.conftest import as_store
from tests.search.conftest import word

ACTOR = "scheduler@example.com"
SWEEP = "app.search.jobs.sweep_outboxes"


def test_the_sweep_is_registered_on_the_search_queue_every_minute(app):
    with app.app_context():
        jobs = build_scheduler(rq_connection()).get_jobs()
    assert [(j.func_name, j.queue_name, j.interval) for j in jobs] == [(SWEEP, "search", SWEEP_INTERVAL)]
    assert SWEEP_INTERVAL == 60


def test_the_scheduler_command_enqueues_a_sweep_that_catches_up_a_lost_job(app, new_store, service_env,
                                                                             run_search_worker):
    store, title = new_store(), word("kettle")
    with as_store(app, store):
        kettle = catalog.create_product({"title": f"Enamel {title}", "price": "35", "status": "active"},
                                        actor=ACTOR).id
    connection = redis.Redis.from_url(service_env["REDIS_URL"])
    search_queue = Queue("search", connection=connection)
    search_queue.empty()  # the apply job is lost (say Redis was restarted); the outbox row is not

    scheduler = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler"], cwd=ROOT,
                                 env={**os.environ, **service_env}, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
    try:
        popped = connection.blpop([search_queue.key], timeout=60)  # waits for the scheduler's first enqueue
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
        assert service.pending() == 1 and service.search(title).product_ids == []
    search_queue.push_job_id(job_id)  # hand the scheduler's job to a real worker
    run_search_worker()
    with as_store(app, store):
        assert service.pending() == 0
        assert service.search(title).product_ids == [kettle]
