"""Periodic jobs: `flask --app wsgi scheduler` runs RQ's CronScheduler.

The scheduler only enqueues; the jobs run in `flask --app wsgi worker`, which
gives them the app context (app.jobs.job). Every periodic job is idempotent,
so two schedulers running at once only mean extra, harmless runs; a job that
no worker picks up within its interval expires instead of piling up.
"""
from __future__ import annotations

import signal
import threading

import click
from redis import Redis
from rq.cron import CronScheduler

from app.catalog.jobs import sweep_imports
from app.effects.dispatch import sweep
from app.jobs import rq_connection
from tenants.domain_jobs import recheck_domains

SWEEP_INTERVAL = 60  # seconds


def build_scheduler(connection: Redis) -> CronScheduler:
    scheduler = CronScheduler(connection=connection)
    scheduler.register(sweep, queue_name="default", interval=SWEEP_INTERVAL, ttl=SWEEP_INTERVAL,
                       job_timeout=15 * 60, result_ttl=SWEEP_INTERVAL * 10)
    scheduler.register(sweep_imports, queue_name="default", interval=SWEEP_INTERVAL, ttl=SWEEP_INTERVAL,
                       job_timeout=15 * 60, result_ttl=SWEEP_INTERVAL * 10)
    scheduler.register(recheck_domains, queue_name="default", interval=SWEEP_INTERVAL, ttl=SWEEP_INTERVAL,
                       job_timeout=15 * 60, result_ttl=SWEEP_INTERVAL * 10)  # picks the domains that are due
    return scheduler


def run(scheduler: CronScheduler, stop: threading.Event) -> None:
    """CronScheduler's loop, stopped by an event rather than by an exception
    raised from a signal handler: RQ's own handler raises StopRequested, which
    is lost when the signal lands while a log line is being written (logging
    swallows it), and the scheduler then never stops."""
    scheduler.register_birth()
    try:
        while not stop.is_set():
            if scheduler.enqueue_jobs():
                scheduler.save()
            scheduler.heartbeat()
            stop.wait(max(0.0, scheduler.calculate_sleep_interval()))
    finally:
        scheduler.register_death()


@click.command("scheduler")
def scheduler():
    """Enqueue periodic jobs (the outbox and import sweeps every 60 s) until stopped."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    run(build_scheduler(rq_connection()), stop)
    click.echo("scheduler stopped")
