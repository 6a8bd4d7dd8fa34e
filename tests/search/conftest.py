"""Search test helpers: stores whose index starts empty, and a real burst worker."""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from tests.conftest import flask_cli


def word(prefix: str) -> str:
    """A made-up word no other product shares: searches for it find only what a test wrote."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@pytest.fixture
def new_store(make_store, service_env):
    """make_store, with any index left under the same store id by an earlier session removed
    (each session recreates the databases, so store ids come round again)."""

    def make(**kwargs):
        store = make_store(**kwargs)
        shutil.rmtree(Path(service_env["VAR_DIR"]) / "search" / str(store.id), ignore_errors=True)
        return store

    return make


@pytest.fixture
def run_search_worker(service_env):
    """Run a real RQ worker on the search queue until the queue is empty."""

    def run():
        result = flask_cli(service_env, "worker", "--burst", "--queue", "search")
        assert "Traceback" not in result.stderr, result.stderr
        return result

    return run


def two_stores_in_one_schema(make):
    """Two new pooled stores sharing a schema (a pool may fill up between the two: then try the next pair)."""
    first = make()
    for _ in range(5):
        second = make()
        if second.schema == first.schema:
            return first, second
        first = second
    raise AssertionError("no two consecutive stores landed in one pooled schema")
