"""A whole Vitrine of its own (web, worker, scheduler, `up`) beside the session's test services."""
from __future__ import annotations

import shutil
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pytest
import redis
import sqlalchemy as sa

from app import embedded
from tests.conftest import OWNER_ROLE, TEST_VAR

DATABASE = "vitrine_ops_stack"


def next_redis_database(url: str) -> str:
    """The same Redis server, the next database number: the stack's worker must
    not take the session's queued jobs, nor the session's tests its jobs."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        number = int(dict(parse_qsl(parts.query)).get("db", 0))
        return f"unix://{parts.path}?db={(number + 1) % 16}"
    number = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(number + 1) % 16}"))


@pytest.fixture
def stack_env(service_env):
    """Environment for a stack with a fresh (unmigrated) database on the pod2
    server, its own Redis database and its own VAR_DIR; all removed afterwards."""
    server = embedded.postgres_url(TEST_VAR / "pg2")
    var_dir = TEST_VAR / "ops" / "stack"
    shutil.rmtree(var_dir, ignore_errors=True)
    redis_url = next_redis_database(service_env["REDIS_URL"])
    redis.Redis.from_url(redis_url).flushdb()
    yield {**service_env, "DATABASE_URL": embedded.fresh_database(server, DATABASE, owner=OWNER_ROLE),
           "DATABASES": "{}", "REDIS_URL": redis_url, "VAR_DIR": str(var_dir)}
    redis.Redis.from_url(redis_url).flushdb()
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    admin.dispose()
