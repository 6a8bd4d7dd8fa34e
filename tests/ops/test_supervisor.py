"""The supervisor `up` runs: real gunicorn, a real RQ worker and the scheduler, killed for real."""
import logging
import os
import signal
import sys
import threading
from contextlib import contextmanager

import psutil
import redis
from rq import Queue
from rq.job import JobStatus

from app.cli import child_commands
from app.config import ROOT
from app.supervisor import Backoff, Supervisor
from tests.conftest import flask_cli
from tests.ops.helpers import alive, answers, free_port, wait_until


@contextmanager
def supervising(supervisor: Supervisor):
    """Run the supervisor on a thread until the block ends; then stop it and wait."""
    stop = threading.Event()
    thread = threading.Thread(target=supervisor.run, args=(stop,))
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=90)
        assert not thread.is_alive(), "the supervisor did not stop"


def run_job(redis_url: str) -> int:
    """Have a worker run a job; return the pid of the worker that ran it
    (the job runs in a work horse forked from the worker: its parent)."""
    job = Queue("default", connection=redis.Redis.from_url(redis_url)).enqueue("os.getppid")

    def done():
        status = job.get_status(refresh=True)
        return status if status in (JobStatus.FINISHED, JobStatus.FAILED) else None

    status = wait_until(done, message="no worker ran the job")
    assert status == JobStatus.FINISHED, job.latest_result().exc_string
    return job.return_value()


def test_a_killed_worker_is_started_again_while_the_web_keeps_serving_and_so_is_a_killed_web(stack_env, caplog):
    flask_cli(stack_env, "db", "upgrade")
    port = free_port()
    supervisor = Supervisor(child_commands("127.0.0.1", port, 1, stack_env["VAR_DIR"]),
                            env={**os.environ, **stack_env}, cwd=ROOT)
    caplog.set_level(logging.INFO, logger="app.supervisor")
    with supervising(supervisor):
        wait_until(lambda: answers(port), message="the web never answered")
        web, worker = supervisor.pid("web"), supervisor.pid("worker")
        assert run_job(stack_env["REDIS_URL"]) == worker

        helpers = [each.pid for each in psutil.Process(worker).children()]  # RQ's scheduler process
        assert helpers
        os.kill(worker, signal.SIGKILL)

        def worker_is_back():
            assert answers(port), "the web stopped answering while the worker was down"
            return supervisor.pid("worker") not in (None, worker) and supervisor.pid("worker")

        new_worker = wait_until(worker_is_back, message="the worker was not started again")
        assert not [pid for pid in helpers if alive(pid)], "the dead worker's helpers live on"
        assert run_job(stack_env["REDIS_URL"]) == new_worker
        assert supervisor.pid("web") == web and answers(port)
        [restart] = supervisor.restarts  # the worker's; nothing else
        assert (restart.name, restart.pid, restart.returncode) == ("worker", worker, -signal.SIGKILL)
        assert f"worker (pid {worker}) exited with signal 9" in caplog.text

        # The web server, killed, comes back on its port; the worker and the scheduler carry on.
        os.kill(web, signal.SIGKILL)
        wait_until(lambda: supervisor.pid("web") not in (None, web) and answers(port),
                   message="the web did not come back")
        assert supervisor.pid("worker") == new_worker
        assert [each.name for each in supervisor.restarts] == ["worker", "web"]

        web = supervisor.pid("web")
        gunicorn_workers = [each.pid for each in psutil.Process(web).children()]
        children = [web, *gunicorn_workers, new_worker, supervisor.pid("scheduler")]
        assert len(children) == 4 and all(alive(pid) for pid in children)

    assert not [pid for pid in children if alive(pid)], "a child outlived the supervisor"
    assert not answers(port)


def test_a_child_that_keeps_crashing_waits_longer_each_time_and_one_that_ran_a_while_does_not():
    supervisor = Supervisor({
        "crasher": [sys.executable, "-c", "raise SystemExit(3)"],
        # Runs longer than `stable` before each exit, so its delay starts over every time.
        "steady": [sys.executable, "-c", "import time; time.sleep(0.6); raise SystemExit(1)"],
    }, backoff=Backoff(base=0.1, cap=0.4, stable=0.5))

    def restarts(name):
        return [each for each in supervisor.restarts if each.name == name]

    with supervising(supervisor):
        wait_until(lambda: len(restarts("crasher")) >= 5 and len(restarts("steady")) >= 3, timeout=30)

    crasher = restarts("crasher")[:5]
    assert [each.delay for each in crasher] == [0.1, 0.2, 0.4, 0.4, 0.4]
    assert all(each.returncode == 3 for each in crasher)
    starts = supervisor.children["crasher"].starts
    for restart, next_start in zip(crasher, starts[1:]):  # it really waited that long before starting again
        assert next_start - restart.exited_at >= restart.delay
    assert [each.delay for each in restarts("steady")[:3]] == [0.1, 0.1, 0.1]


def test_stopping_kills_a_child_that_ignores_sigterm(tmp_path_factory):
    ready = tmp_path_factory.mktemp("stubborn") / "ready"
    stubborn = ("import signal, time, pathlib, sys; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "pathlib.Path(sys.argv[1]).touch()\nwhile True: time.sleep(1)")
    supervisor = Supervisor({"stubborn": [sys.executable, "-c", stubborn, str(ready)]}, stop_timeout=1)
    with supervising(supervisor):
        wait_until(ready.exists, timeout=30)
        pid = supervisor.pid("stubborn")
    assert supervisor.children["stubborn"].process.returncode == -signal.SIGKILL
    assert not alive(pid)
    assert supervisor.restarts == []
