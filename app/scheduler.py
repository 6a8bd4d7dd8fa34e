"""Periodic jobs: `flask --app wsgi scheduler` runs RQ's CronScheduler.

The scheduler only enqueues; the jobs run in `flask --app wsgi worker`, which
gives them the app context (app.jobs.job). Every periodic job is idempotent,
so two schedulers running at once only mean extra, harmless runs; a job that
no worker picks up within its interval expires instead of piling up.
"""
from __future__ import annotations

import click
from redis import Redis
from rq.cron import CronScheduler

from app.jobs import rq_connection
from app.search.jobs import sweep_outboxes

SWEEP_INTERVAL = 60  # seconds


def build_scheduler(connection: Redis) -> CronScheduler:
    scheduler = CronScheduler(connection=connection)
    scheduler.register(sweep_outboxes, queue_name="search", interval=SWEEP_INTERVAL, ttl=SWEEP_INTERVAL,
                       job_timeout=15 * 60, result_ttl=SWEEP_INTERVAL * 10)
    return scheduler


@click.command("scheduler")
def scheduler():
    """Enqueue periodic jobs (search outbox sweep every 60 s) until stopped."""
    build_scheduler(rq_connection()).start()
