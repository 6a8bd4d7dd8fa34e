"""Shared fixtures: real PostgreSQL (two servers) and real Redis.

With DATABASE_URL / REDIS_URL unset, embedded servers start under var/test/.
Either way the tests use fresh databases of their own (`vitrine_test` and,
on a second embedded PostgreSQL, `vitrine_pod2_test`) and flush the Redis
database they are given.
"""
from __future__ import annotations

import io
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis

from app import create_app, embedded
from app.config import ROOT, normalize_db_url

# One per parallel run, and one per pytest-xdist worker (gw0, gw1…): its own embedded servers and files.
TEST_VAR = Path(os.environ.get("VITRINE_TEST_VAR") or ROOT / "var" / "test") / os.environ.get("PYTEST_XDIST_WORKER", "")
PASSWORD = "correct-horse-battery"
OWNER_ROLE = "vitrine_owner"




@pytest.fixture(scope="session")
def service_env():
    """Environment for the app, and for subprocesses (web server, worker, CLI).

    Embedded servers the tests start are stopped when the session ends.
    """
    TEST_VAR.mkdir(parents=True, exist_ok=True)
    for leftover in ("search", "media", "mail", "imports", "uploads"):  # store ids start again with the fresh databases
        shutil.rmtree(TEST_VAR / leftover, ignore_errors=True)
    own_pg, own_redis = not os.environ.get("DATABASE_URL"), not os.environ.get("REDIS_URL")
    main_server = normalize_db_url(os.environ.get("DATABASE_URL") or embedded.postgres_url(TEST_VAR / "pg"))
    pod2_server = embedded.postgres_url(TEST_VAR / "pg2")
    redis_url = os.environ.get("REDIS_URL") or embedded.redis_url(TEST_VAR / "redis")
    redis.Redis.from_url(redis_url).flushdb()
    # Domain checks and image fetches of every test resolve names here, never on the machine's resolver;
    # tests that need records run a DnsServer of their own.
    from tests.tenants.dns_server import DnsServer

    quiet_dns = DnsServer().__enter__()
    emulator, emulator_url = start_stripe_emulator(TEST_VAR / "stripe-emulator.log")
    yield {
        # Migrations run as an owner that is not a superuser, as on a managed
        # PostgreSQL: row-level security applies to it too.
        "DATABASE_URL": embedded.fresh_database(main_server, "vitrine_test", owner=OWNER_ROLE),
        "DATABASES": json.dumps({"pod2": embedded.fresh_database(pod2_server, "vitrine_pod2_test", owner=OWNER_ROLE)}),
        "REDIS_URL": redis_url,
        "VAR_DIR": str(TEST_VAR),
        "SECRET_KEY": "test-secret-key",
        "POOL_CAPACITY": "50",
        "DNS_RESOLVERS": quiet_dns.address,
        "DNS_TIMEOUT": "1",
        "STRIPE_EMULATOR_URL": emulator_url,
    }
    emulator.terminate()
    emulator.wait(timeout=10)
    quiet_dns.__exit__(None, None, None)
    embedded.stop_postgres(TEST_VAR / "pg2")
    if own_pg:
        embedded.stop_postgres(TEST_VAR / "pg")
    if own_redis:
        embedded.stop_redis(TEST_VAR / "redis")


@pytest.fixture(autouse=True)
def no_jobs_left_behind(service_env):
    """Every test starts with empty job queues. A job an earlier test queued
    and never ran (its store long gone) would otherwise be run by this test's
    workers: counted in its figures, or waited on in its time."""
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    connection = redis.Redis.from_url(service_env["REDIS_URL"])
    for queue in Queue.all(connection=connection):
        queue.empty()
        connection.delete(ScheduledJobRegistry(queue=queue).key)  # and the retries waiting for their time
    markers = list(connection.scan_iter("vitrine:outbox:*"))
    if markers:  # a dispatch marker without its job would hold the next dispatch back
        connection.delete(*markers)


@pytest.fixture(scope="session")
def app(service_env):
    app = create_app({**service_env, "TESTING": True})
    with app.app_context():
        from app.cli import db_upgrade

        app.test_cli_runner().invoke(db_upgrade, catch_exceptions=False)
    yield app
    dispose_engines(app)


def dispose_engines(app) -> None:
    from app.extensions import db

    with app.app_context():
        for engine in [*db.engines.values(), *app.extensions["tenancy"]._owner_engines.values()]:
            engine.dispose()


@pytest.fixture
def ctx(app):
    """An app context for calling services directly."""
    from app.extensions import db

    with app.app_context():
        yield app
        db.session.remove()


def unique_handle(prefix: str = "s") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@pytest.fixture
def make_account(app):
    from app.extensions import db
    from app.platform.accounts import create_account

    def make(name: str = "Merchant"):
        with app.app_context():
            account = create_account(email=f"{uuid.uuid4().hex[:12]}@example.com", name=name, password=PASSWORD)
            made = SimpleNamespace(id=account.id, email=account.email, name=account.name)
            db.session.remove()
            return made

    return make


@pytest.fixture
def make_store(app):
    """Provision a store in a chosen tier and database; returns its Placement."""
    from app.extensions import db
    from tenants.models import Account
    from tenants.provisioning import create_store, placement_of

    def make(tier: str = "pooled", db_key: str = "main", owner=None, name: str = "Test Store", currency="USD"):
        with app.app_context():
            owner_row = db.session.get(Account, owner.id) if owner is not None else None
            store = create_store(handle=unique_handle(), name=name, currency=currency, owner=owner_row,
                                 tier=tier, db_key=db_key)
            placement = placement_of(store)
            db.session.remove()
            return placement

    return make


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


_addresses = itertools.count(1)


def client_address() -> str:
    """A client address no other client of the session uses, so per-address
    limits (log-in, mails) of one test never meet another's."""
    n = next(_addresses)
    return f"198.18.{n // 250}.{n % 250 + 1}"


class Client:
    """The Flask test client plus what a browser does: a Host, CSRF tokens,
    and an address of its own."""

    def __init__(self, flask_client, host: str = "localhost"):
        self.flask = flask_client
        self.flask.environ_base["REMOTE_ADDR"] = client_address()
        self.host = host

    def get(self, path: str, host: str | None = None, **kwargs):
        return self.flask.get(path, headers={"Host": host or self.host, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, path: str, data: dict | None = None, host: str | None = None, csrf_from: str | None = None,
             **kwargs):
        """POST a form, first reading a CSRF token off `csrf_from` (default: the platform home page)."""
        data = dict(data or {})
        if "csrf_token" not in data:
            data["csrf_token"] = self.csrf_token(csrf_from or "/", host)
        return self.flask.post(path, data=data, headers={"Host": host or self.host}, **kwargs)

    def upload(self, path: str, fields: dict, files: dict[str, tuple[bytes, str]], csrf_from: str | None = None,
               headers: dict | None = None):
        """POST multipart/form-data built in memory (the test client would
        spool a large body to a temporary file it never closes)."""
        from werkzeug.datastructures import FileStorage
        from werkzeug.test import encode_multipart

        values = {"csrf_token": self.csrf_token(csrf_from or path), **fields,
                  **{name: FileStorage(io.BytesIO(data), filename=filename) for name, (data, filename) in files.items()}}
        boundary, body = encode_multipart(values)
        return self.flask.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}",
                               headers={"Host": self.host, **(headers or {})})

    def csrf_token(self, path: str = "/", host: str | None = None) -> str:
        page = self.get(path, host=host)
        match = CSRF_RE.search(page.get_data(as_text=True)) or re.search(
            r'"X-CSRFToken": "([^"]+)"', page.get_data(as_text=True))
        assert match, f"no CSRF token on {path} ({page.status_code})"
        return match.group(1)

    def login(self, email: str, password: str = PASSWORD):
        response = self.post("/login", {"email": email, "password": password}, csrf_from="/login")
        assert response.status_code == 302, response.get_data(as_text=True)
        return response


@pytest.fixture
def client(app) -> Client:
    return Client(app.test_client())


@pytest.fixture
def merchant(app, make_account, make_store):
    """A logged-in merchant owning one pooled store: (client, account, store)."""
    account = make_account()
    store = make_store(owner=account)
    browser = Client(app.test_client())
    browser.login(account.email)
    return browser, account, store


def in_thread(fn, *args):
    """Run fn in a fresh thread (no Flask contexts) and return its result.

    Flask reuses an app context that is already pushed for test-client
    requests, sharing `g` and the session with it; a request made from code
    that runs inside one (a move's on_frozen hook) goes through a thread.
    """
    result = {}

    def run():
        try:
            result["value"] = fn(*args)
        except BaseException as exc:  # re-raised in the caller
            result["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


@contextmanager
def as_store(app, placement):
    from tenants.context import store_context

    with app.app_context():
        with store_context(placement):
            yield


def store_host(app, placement) -> str:
    """The store's own address on the platform host: `<handle>.<PLATFORM_HOST>`."""
    from tenants.extension import state

    with app.app_context():
        return state().store_host(placement.handle)


def mark_domain_verified(app, hostname: str) -> None:
    """Take a connected domain as proven (the DNS check itself is tested in tests/tenants/test_domains.py)."""
    import sqlalchemy as sa

    from app.extensions import db
    from tenants.extension import state
    from tenants.models import Domain

    with app.app_context():
        db.session.execute(sa.update(Domain).where(Domain.hostname == hostname)
                           .values(status="verified", verified_at=sa.func.now()))
        db.session.commit()
        state().resolver.invalidate()


def start_stripe_emulator(log_path: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    """The Stripe emulator as a process of its own (as in production, another server); (process, its URL)."""
    from app.payments.emulator.process import start

    return start(log_path, *extra)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(service_env, workers: int, log_path: Path):
    """The app under gunicorn in its own processes, as production runs it; yields the port once
    it answers (readiness, not a fixed delay) and stops it afterwards."""
    import time

    import requests

    from app.cli import web_command

    port = free_port()
    with open(log_path, "w") as log:
        process = subprocess.Popen(web_command("127.0.0.1", port, workers, TEST_VAR, access_log=False), cwd=ROOT,
                                   env={**os.environ, **service_env}, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"http://localhost:{port}/healthz", timeout=2).ok:
                break
        except requests.RequestException:  # not up yet, or too busy to answer in time
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"gunicorn did not start; see {log_path}")
        time.sleep(0.1)
    try:
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def sql_statements():
    """The SQL statements any engine runs while inside the block: a list filled as they go."""
    import sqlalchemy as sa

    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)


def wait_until(condition, what: str, seconds: float = 60, every: float = 0.05) -> None:
    """Poll `condition` until it holds (a state reached, not a guessed delay);
    fail naming `what` after `seconds`."""
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def run_effects(queue: str = "search") -> int:
    """Inside a store context: hand the store's outbox rows for `queue` to
    their handlers, in-process, the way a worker's dispatch job does."""
    from app.effects.dispatch import drain
    from app.effects.models import Outbox
    from tenants.context import require_store

    return drain(Outbox, queue, require_store().id)


def flask_cli(service_env, *args, check=True, timeout=600) -> subprocess.CompletedProcess:
    """Run `flask --app wsgi ...` in a subprocess against the test services."""
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env={**os.environ, **service_env}, capture_output=True, text=True,
                          check=check, timeout=timeout)


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT
