"""`db upgrade` with APP_DB_PASSWORD, on a server that really asks the app role for it."""
import time
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from app import create_app, embedded
from app.config import app_role_url
from tests.conftest import OWNER_ROLE, TEST_VAR, dispose_engines, flask_cli

ROLE = "vitrine_app_pw"  # a role of its own: the other tests' vitrine_app keeps trust authentication
DATABASE = "vitrine_ops_password"
PASSWORD = "it's a \"pass\\word\" with spaces; 100%s"


@pytest.fixture
def server():
    """The pod2 server as its superuser, with no trace of this test's database or role."""
    url = embedded.postgres_url(TEST_VAR / "pg2")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")

    def clean():
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {ROLE}")

    clean()
    yield url, admin
    clean()
    admin.dispose()


@contextmanager
def password_required(admin, role: str):
    """Make the server ask `role` for a scram-sha-256 password (a line at the top of pg_hba.conf)."""
    hba = TEST_VAR / "pg2" / "pg_hba.conf"
    original = hba.read_text()
    hba.write_text(f"local all {role} scram-sha-256\nhost all {role} all scram-sha-256\n{original}")
    try:
        _reload(admin)
        yield
    finally:
        hba.write_text(original)
        _reload(admin)


def _reload(admin) -> None:
    with admin.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_reload_conf()")).scalar()


def _connects(url: str) -> bool:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT current_user")).scalar() == ROLE
    except sa.exc.OperationalError as exc:
        assert "password" in str(exc), exc  # refused for the password, nothing else
        return False
    finally:
        engine.dispose()


def _wait_until(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {condition.__name__}"
        time.sleep(0.05)


def test_db_upgrade_sets_an_unusual_app_password_that_the_server_then_asks_for(server, service_env):
    url, admin = server
    database_url = embedded.fresh_database(url, DATABASE, owner=OWNER_ROLE)
    env = {**service_env, "DATABASE_URL": database_url, "DATABASES": "{}",
           "APP_DB_USER": ROLE, "APP_DB_PASSWORD": PASSWORD}

    for _ in range(2):  # a second run changes nothing and does not fail
        result = flask_cli(env, "db", "upgrade", check=False)
        assert result.returncode == 0, result.stderr
        assert "directory at head" in result.stdout

    with admin.connect() as conn:
        stored = conn.execute(sa.text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": ROLE}).scalar()
    assert stored.startswith("SCRAM-SHA-256$")  # hashed by the server, not stored as typed

    no_password = app_role_url(database_url, ROLE, None)
    with password_required(admin, ROLE):
        _wait_until(lambda: not _connects(no_password))  # the reload has taken effect
        assert _connects(app_role_url(database_url, ROLE, PASSWORD))
        assert not _connects(app_role_url(database_url, ROLE, PASSWORD + "x"))
        assert not _connects(app_role_url(database_url, ROLE, "it's a"))

        # The app itself, configured from the environment, reaches the database as that role.
        app = create_app({**env, "TESTING": True})
        try:
            with app.app_context():
                from app.extensions import db

                assert db.session.execute(sa.text("SELECT current_user")).scalar() == ROLE
                assert db.session.execute(sa.text("SELECT count(*) FROM stores")).scalar() == 0
                db.session.remove()
        finally:
            dispose_engines(app)

