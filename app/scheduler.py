"""Periodic jobs: `flask --app wsgi scheduler` runs RQ's CronScheduler.

The scheduler only enqueues; the jobs run in `flask --app wsgi worker`, which
gives them the app context (app.jobs.job). Every periodic job is idempotent,
so two schedulers running at once only mean extra, harmless runs; a job that
no worker picks up within its interval expires instead of piling up.
"""
from __future__ import annotations

import signal
import time
from collections.abc import Callable

import click
from redis import Redis
from rq.cron import CronScheduler

from app.catalog.jobs import sweep_imports
from app.effects.dispatch import sweep
from app.inventory.jobs import sweep_reservations
from app.jobs import rq_connection
from app.launches.jobs import tick as launches_tick
from app.payments.reconcile import INTERVAL as RECONCILE_INTERVAL, reconcile_payments
from app.webhooks.jobs import sweep as sweep_webhooks
from tenants.domain_jobs import recheck_domains

SWEEP_INTERVAL = 60  # seconds
# Expired holds are given back within a minute: a run every 30 s, on the reservations queue so a
# backlog of other work never delays it (and shoppers who need the units release them themselves).
RESERVATION_SWEEP_INTERVAL = 30


def build_scheduler(connection: Redis) -> CronScheduler:
    scheduler = CronScheduler(connection=connection)
    scheduler.register(sweep, queue_name="default", interval=SWEEP_INTERVAL, ttl=SWEEP_INTERVAL,
                       job_timeout=15 * 60, result_ttl=SWEEP_INTERVAL * 10)
    scheduler.register(sweep_imports, queue_name="default", interval=SWEEP_INTERVAL, ttl=SWEEP_INTERVAL,
                       job_timeout=15 * 60, result_ttl=SWEEP_INTERVAL * 10)
    scheduler.register(recheck_domains, queue_name="default", interval=SWEEP_INTERVAL, ttl=SWEEP_INTERVAL,
                       job_timeout=15 * 60, result_ttl=SWEEP_INTERVAL * 10)  # picks the domains that are due
    scheduler.register(sweep_reservations, queue_name="reservations", interval=RESERVATION_SWEEP_INTERVAL,
                       ttl=RESERVATION_SWEEP_INTERVAL, job_timeout=5 * 60, result_ttl=RESERVATION_SWEEP_INTERVAL * 10)
    scheduler.register(launches_tick, queue_name="default", interval=SWEEP_INTERVAL, ttl=SWEEP_INTERVAL,
                       job_timeout=15 * 60, result_ttl=SWEEP_INTERVAL * 10)  # ends, pre-warms, rolls passes
    scheduler.register(sweep_webhooks, queue_name="webhooks", interval=SWEEP_INTERVAL, ttl=SWEEP_INTERVAL,
                       job_timeout=15 * 60, result_ttl=SWEEP_INTERVAL * 10)  # retries that are due, lost kicks
    scheduler.register(reconcile_payments, queue_name="payments", interval=RECONCILE_INTERVAL,
                       ttl=RECONCILE_INTERVAL, job_timeout=9 * 60, result_ttl=RECONCILE_INTERVAL * 6)  # orders vs PSP
    return scheduler


def run(scheduler: CronScheduler, stopping: Callable[[], bool]) -> None:
    """CronScheduler's loop, stopped by a flag the signal handler sets rather
    than by an exception raised from it: RQ's own handler raises
    StopRequested, which is lost when the signal lands while a log line is
    being written (logging swallows it). The handler only sets a flag: had it
    set a threading.Event, a signal landing inside Event.wait (whose lock the
    main thread then holds) would deadlock the scheduler for good."""
    scheduler.register_birth()
    try:
        while not stopping():
            if scheduler.enqueue_jobs():
                scheduler.save()
            scheduler.heartbeat()
            _sleep(scheduler.calculate_sleep_interval(), stopping)
    finally:
        scheduler.register_death()


def _sleep(seconds: float, stopping: Callable[[], bool]) -> None:
    """Sleep, in short steps so a stop is noticed within half a second."""
    end = time.monotonic() + max(0.0, seconds)
    while not stopping() and (left := end - time.monotonic()) > 0:
        time.sleep(min(left, 0.5))


@click.command("scheduler")
def scheduler():
    """Enqueue periodic jobs (the outbox, import, domain, launch and webhook sweeps every 60 s, expired holds
    every 30 s, payment reconciliation every 10 minutes) until stopped."""
    signals: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda number, frame: signals.append(number))
    run(build_scheduler(rq_connection()), lambda: bool(signals))
    click.echo("scheduler stopped")
