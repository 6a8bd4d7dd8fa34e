"""Runtime files (sockets, locks) stay under each checkout's VAR_DIR."""
import json
import os
import shutil
import stat
import subprocess
import sys

from gunicorn.ctl.client import ControlClient

from app.cli import web_command
from app.config import ROOT
from tests.conftest import TEST_VAR
from tests.ops.helpers import answers, free_port, wait_until


def test_two_checkouts_each_get_their_own_gunicorn_control_socket(app, service_env):
    var_dirs = [TEST_VAR / "ops" / "checkout-a", TEST_VAR / "ops" / "checkout-b"]
    servers = []
    try:
        for var_dir in var_dirs:  # two `make run`s on one machine, each on its own port
            port = free_port()
            command = web_command("127.0.0.1", port, 1, var_dir, access_log=False)
            env = {**os.environ, **service_env, "VAR_DIR": str(var_dir)}
            var_dir.mkdir(parents=True, exist_ok=True)
            with open(var_dir / "gunicorn.log", "w") as log:
                process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            servers.append((var_dir, port, process))
        for var_dir, port, process in servers:
            wait_until(lambda: answers(port) or process.poll() is not None, message=f"see {var_dir}/gunicorn.log")
            assert process.poll() is None
            control = var_dir / "run" / "gunicorn.ctl"
            wait_until(lambda: control.exists(), message=f"no control socket at {control}")
            assert stat.S_ISSOCK(control.stat().st_mode)
            with ControlClient(str(control), timeout=10) as client:  # each socket reaches its own server
                assert client.send_command("show stats")["pid"] == process.pid
    finally:
        for _, _, process in servers:
            process.terminate()
        for _, _, process in servers:
            process.wait(timeout=30)


EMBEDDED_START = """
import json, os, sys
from pathlib import Path
from app import embedded

var_dir = Path(sys.argv[1])
embedded.postgres_url(var_dir / "pg")
embedded.redis_url(var_dir / "redis")
import pgserver
from pgserver.utils import PostmasterInfo

print(json.dumps({
    "XDG_RUNTIME_DIR": os.environ.get("XDG_RUNTIME_DIR"),
    "pgserver runtime": str(pgserver.PostgresServer.runtime_path),
    "pgserver lock": str(pgserver.PostgresServer.lock_path),
    "postgres socket": str(PostmasterInfo.read_from_pgdata(var_dir / "pg").socket_dir),
}))
embedded.stop_postgres(var_dir / "pg")
embedded.stop_redis(var_dir / "redis")
"""


def test_the_embedded_servers_keep_their_runtime_files_under_var():
    var_dir = (TEST_VAR / "ops" / "embedded").resolve()
    shutil.rmtree(var_dir, ignore_errors=True)
    env = {key: value for key, value in os.environ.items() if key != "XDG_RUNTIME_DIR"}
    result = subprocess.run([sys.executable, "-c", EMBEDDED_START, str(var_dir)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    paths = json.loads(result.stdout.splitlines()[-1])

    assert paths.pop("XDG_RUNTIME_DIR") is None  # not set for the children (gunicorn, Chromium) to inherit
    for what, path in paths.items():
        assert path.startswith(f"{var_dir}/"), f"{what} outside VAR_DIR: {path}"
    assert (var_dir / "run" / "python_PostgresServer" / ".lockfile").exists()
