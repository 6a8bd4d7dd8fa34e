"""Project commands: `flask --app wsgi db upgrade | seed demo | worker | scheduler | search | up`."""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import AppGroup

from app import embedded
from app.jobs import QUEUES, run_worker
from app.scheduler import scheduler
from app.search.cli import search_cli
from app.supervisor import Supervisor
from tenants.cli import tenants_cli

db_cli = AppGroup("db", help="Directory (public schema) migrations.")
seed_cli = AppGroup("seed", help="Demo data.")


@db_cli.command("upgrade")
def db_upgrade():
    """Create the app role on every database and migrate the directory."""
    from tenants.migrations import ensure_app_role, upgrade_directory
    from tenants.provisioning import ensure_spare_pool

    tenancy = current_app.extensions["tenancy"]
    for key in tenancy.database_urls:
        ensure_app_role(tenancy.owner_engine(key), tenancy.app_role, current_app.config["APP_DB_PASSWORD"])
    upgrade_directory(tenancy.owner_engine("main"), tenancy.app_role)
    created = ensure_spare_pool("main")
    click.echo("directory at head" + (f"; created {created}" if created else ""))


@seed_cli.command("demo")
def seed_demo():
    """Create (or refresh) the demo merchant and stores (development only). Idempotent."""
    from app.seed import seed

    if current_app.config["VITRINE_ENV"] != "development":
        raise click.ClickException(
            "seed demo runs only in development: the demo merchant's password is published. "
            "This is production (VITRINE_ENV=production, the default when DATABASE_URL is set); "
            "set VITRINE_ENV=development for a development database.")
    for line in seed():
        click.echo(line)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--queue", "queues", multiple=True, type=click.Choice(QUEUES), help="Default: all queues.")
def worker(burst, queues):
    """Run an RQ worker with the scheduler."""
    run_worker(current_app._get_current_object(), queues or QUEUES, burst=burst)


@click.command("up")
@click.option("--port", envvar="PORT", default=8000, show_default=True)
@click.option("--host", envvar="HOST", default="127.0.0.1", show_default=True)
@click.option("--web-workers", envvar="WEB_CONCURRENCY", default=2, show_default=True)
def up(port, host, web_workers):
    """Migrate, seed the demo (in development), and run the web app, a worker and the scheduler until Ctrl-C.

    A child that dies is started again (app/supervisor.py); the rest keep running.
    """
    config = current_app.config
    development = config["VITRINE_ENV"] == "development"
    child_env = {
        **os.environ,
        # The children see DATABASE_URL set, which alone would mean production: pass the decision on.
        "VITRINE_ENV": config["VITRINE_ENV"],
        "VAR_DIR": str(config["VAR_DIR"]),
        "DATABASE_URL": config["DATABASES"]["main"],
        "DATABASES": json.dumps({k: v for k, v in config["DATABASES"].items() if k != "main"}),
        "REDIS_URL": config["REDIS_URL"],
        "SECRET_KEY": config["SECRET_KEY"],
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    try:
        for step in [["db", "upgrade"], ["tenants", "migrate"]] + ([["seed", "demo"]] if development else []):
            subprocess.run(flask + step, env=child_env, check=True)
        children = child_commands(host, port, web_workers, config["VAR_DIR"])
        if config["STRIPE_EMULATED"]:
            children["stripe-emulator"] = emulator_command(config, port)
        supervisor = Supervisor(children, env=child_env)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        _log_to_terminal(logging.getLogger("app.supervisor"))
        click.echo(_banner(port, development))
        supervisor.run(stop)
    finally:
        _stop_embedded()


def _log_to_terminal(logger: logging.Logger) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(asctime)s] [supervisor] %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _banner(port: int, development: bool) -> str:
    if not development:
        return f"\n  Vitrine is up (production): http://localhost:{port}   —   Ctrl-C stops everything.\n"
    from app.seed import DEMO_PASSWORD

    return (f"\n  Vitrine is up: http://localhost:{port}  (demo storefront: http://demo.localhost:{port})\n"
            f"  Demo login: demo@vitrine.test / {DEMO_PASSWORD}   —   Ctrl-C stops everything.\n")


def emulator_command(config, web_port: int) -> list[str]:
    """The local Stripe-compatible emulator, where STRIPE_EMULATOR_URL says, sending its webhooks to
    this platform's /webhooks/stripe and keeping its objects in var/ across restarts."""
    address = urlsplit(config["STRIPE_API_BASE"])
    return [sys.executable, "-m", "app.payments.emulator", "--host", address.hostname or "127.0.0.1",
            "--port", str(address.port or 12111), "--state-file", str(Path(config["VAR_DIR"]) / "stripe-emulator.json"),
            "--webhook-url", f"http://{config['PLATFORM_HOST']}:{web_port}/webhooks/stripe",
            "--webhook-secret", config["STRIPE_WEBHOOK_SECRET"]]


def child_commands(host: str, port: int, web_workers: int, var_dir) -> dict[str, list[str]]:
    """What `up` keeps running, by name."""
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    return {"web": web_command(host, port, web_workers, var_dir),
            "worker": flask + ["worker"],
            "scheduler": flask + ["scheduler"]}


def web_command(host: str, port: int, workers: int, var_dir, *, access_log: bool = True) -> list[str]:
    """gunicorn serving wsgi:app, its control socket in this checkout's var/run
    (its default, $XDG_RUNTIME_DIR/gunicorn.ctl, is shared by every checkout)."""
    command = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers),
               "--threads", "4", "--control-socket", str(embedded.runtime_dir(var_dir) / "gunicorn.ctl")]
    return command + (["--access-logfile", "-"] if access_log else []) + ["wsgi:app"]


def _stop_embedded() -> None:
    var_dir = current_app.config["VAR_DIR"]
    if not os.environ.get("REDIS_URL"):
        embedded.stop_redis(var_dir / "redis")
    if not os.environ.get("DATABASE_URL"):
        embedded.stop_postgres(var_dir / "pg")
    click.echo("stopped")


def register_cli(app) -> None:
    for command in (db_cli, seed_cli, tenants_cli, search_cli, worker, scheduler, up):
        app.cli.add_command(command)
