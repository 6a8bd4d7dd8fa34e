"""VITRINE_ENV: the demo merchant and the secret kept in var/ exist only in development."""
import os
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager

import psutil
import pytest
import requests
import sqlalchemy as sa

from app.config import ROOT, ConfigError, deploy_env
from app.seed import DEMO_PASSWORD
from tests.conftest import TEST_VAR, flask_cli
from tests.ops.helpers import alive, answers, free_port, wait_until

DEMO = "demo@vitrine.test"


@pytest.mark.parametrize("env, expected", [
    ({}, "development"),  # the embedded PostgreSQL: someone's checkout
    ({"DATABASE_URL": "postgresql://db/vitrine"}, "production"),
    ({"DATABASE_URL": "postgresql://db/vitrine", "VITRINE_ENV": "development"}, "development"),  # make run
    ({"VITRINE_ENV": "production"}, "production"),
])
def test_development_is_the_default_only_on_the_embedded_database(env, expected):
    assert deploy_env(env) == expected


def test_an_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="VITRINE_ENV must be development or production, not 'staging'"):
        deploy_env({"VITRINE_ENV": "staging"})


def test_make_run_is_development_unless_told_otherwise():
    def make_run(**env):
        # -n prints the commands without running any; the venv named does not exist.
        # Outside any make of ours (make test's own variables would make this one print directories).
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
        result = subprocess.run(["make", "--no-print-directory", "-n", "run", "VENV=/nonexistent/venv"], cwd=ROOT,
                                check=True, text=True, capture_output=True, env={**clean, **env})
        return result.stdout.splitlines()[-1]

    assert make_run(DATABASE_URL="postgresql://db/vitrine") == \
        "VITRINE_ENV=development /nonexistent/venv/bin/flask --app wsgi up"
    assert make_run(VITRINE_ENV="production").startswith("VITRINE_ENV=production ")


def test_production_refuses_to_start_without_a_secret_key(service_env):
    var_dir = TEST_VAR / "ops" / "no-secret"
    shutil.rmtree(var_dir, ignore_errors=True)
    env = {key: value for key, value in service_env.items() if key != "SECRET_KEY"} | {"VAR_DIR": str(var_dir)}
    os_env = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "VITRINE_ENV")}

    def upgrade(**extra):
        return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                              env={**os_env, **env, **extra}, capture_output=True, text=True, timeout=300)

    refused = upgrade()  # DATABASE_URL is set: production
    assert refused.returncode != 0
    assert "SECRET_KEY is not set" in refused.stderr and "development only" in refused.stderr
    assert not (var_dir / "secret_key").exists()

    assert upgrade(SECRET_KEY="a-key-of-ours").returncode == 0
    developing = upgrade(VITRINE_ENV="development")
    assert developing.returncode == 0, developing.stderr
    assert (var_dir / "secret_key").exists()  # development keeps its own


def test_seed_demo_refuses_in_production(app, service_env):
    result = flask_cli(service_env, "seed", "demo", check=False)  # DATABASE_URL is set: production
    assert result.returncode == 1
    assert "seed demo runs only in development" in result.stderr
    assert _accounts(service_env["DATABASE_URL"], DEMO) == 0


def _accounts(database_url: str, email: str) -> int:
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM accounts WHERE email = :e"), {"e": email}).scalar()
    finally:
        engine.dispose()


@contextmanager
def running_up(env: dict, port: int):
    """`flask --app wsgi up` until it answers; SIGTERM at the end, after which nothing it started may be left.
    Yields the path of its output."""
    log_path = TEST_VAR / "ops" / "up.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        up = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "up"], cwd=ROOT, stdout=log,
                              stderr=subprocess.STDOUT, env={**os.environ, **env, "PORT": str(port),
                                                             "WEB_CONCURRENCY": "1"})
    try:
        wait_until(lambda: answers(port) or up.poll() is not None, timeout=300, interval=0.5,
                   message=f"up did not answer; see {log_path}")
        assert up.poll() is None, log_path.read_text()
        started = psutil.Process(up.pid).children(recursive=True)
        yield log_path
    finally:
        up.send_signal(signal.SIGTERM)
        returncode = up.wait(timeout=90)
    assert returncode == 0, log_path.read_text()
    assert not [each.pid for each in started if alive(each.pid)], "up left processes running"


def test_up_in_production_seeds_no_demo(stack_env):
    with running_up(stack_env, free_port()) as log:
        assert _accounts(stack_env["DATABASE_URL"], DEMO) == 0
    output = log.read_text()
    assert "Vitrine is up (production)" in output
    assert DEMO not in output and DEMO_PASSWORD not in output


def test_up_in_development_seeds_the_demo_even_on_a_database_url(stack_env):
    port = free_port()
    with running_up({**stack_env, "VITRINE_ENV": "development"}, port) as log:
        assert _accounts(stack_env["DATABASE_URL"], DEMO) == 1
        storefront = requests.get(f"http://127.0.0.1:{port}/", headers={"Host": "demo.localhost"}, timeout=30)
        assert storefront.status_code == 200 and "Demo Outfitters" in storefront.text
    assert f"Demo login: {DEMO} / {DEMO_PASSWORD}" in log.read_text()
