"""Foundation benchmarks: store provisioning and tenant resolution.

    make bench            (or: .venv/bin/python -m bench.run)

Runs against its own fresh database (`vitrine_bench`) on DATABASE_URL or the
embedded PostgreSQL under var/bench/, and REDIS_URL or an embedded Redis.
Writes bench/results/foundation.json and prints a summary.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import time
import uuid
from datetime import datetime, timezone


from app import create_app, embedded
from app.config import ROOT, normalize_db_url

VAR = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results"
AIMS_MS = {"pooled_store_create": 20.0, "dedicated_store_create": 1000.0, "tenant_resolution_warm": 0.2}




def _app():
    VAR.mkdir(parents=True, exist_ok=True)
    server = normalize_db_url(os.environ.get("DATABASE_URL") or embedded.postgres_url(VAR / "pg"))
    redis_url = os.environ.get("REDIS_URL") or embedded.redis_url(VAR / "redis")
    app = create_app({"DATABASE_URL": embedded.fresh_database(server, "vitrine_bench"), "DATABASES": "{}",
                      "REDIS_URL": redis_url, "VAR_DIR": str(VAR), "SECRET_KEY": "bench",
                      "POOL_CAPACITY": "5000"})
    with app.app_context():
        from app.cli import db_upgrade

        app.test_cli_runner().invoke(db_upgrade, catch_exceptions=False)
    return app


def _timed(fn, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"runs": len(samples), "median_ms": round(statistics.median(ordered), 4),
            "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 4), "min_ms": round(ordered[0], 4)}


def bench_provisioning(app) -> dict:
    from app.extensions import db
    from tenants.provisioning import create_store

    def create(tier):
        def run():
            create_store(handle=f"b{uuid.uuid4().hex[:12]}", name="Bench", currency="USD", tier=tier)
            db.session.remove()
        return run

    with app.app_context():
        create("pooled")()  # warm-up: connections, statement caches
        pooled = _timed(create("pooled"), 200)
        dedicated = _timed(create("dedicated"), 15)
    return {"pooled_store_create": _summary(pooled), "dedicated_store_create": _summary(dedicated)}


def bench_resolution(app) -> dict:
    from app.extensions import db
    from tenants.extension import _enter_request_store, _leave_request_store, state
    from tenants.provisioning import create_store

    with app.app_context():
        handle = f"r{uuid.uuid4().hex[:10]}"
        create_store(handle=handle, name="Resolve", currency="USD")
        db.session.remove()
        resolver = state().resolver
    host = f"{handle}.localhost"
    runs = 100_000
    with app.test_request_context("/", headers={"Host": f"{host}:8000"}):
        _enter_request_store()
        _leave_request_store()  # warm: the first call fills both caches

        def hook():
            _enter_request_store()
            _leave_request_store()

        start = time.perf_counter()
        for _ in range(runs):
            hook()
        per_request = (time.perf_counter() - start) * 1000 / runs
        start = time.perf_counter()
        for _ in range(runs):
            resolver.resolve(host)
        lookup_only = (time.perf_counter() - start) * 1000 / runs
    return {"tenant_resolution_warm": {"runs": runs, "mean_ms": round(per_request, 5),
                                       "resolver_lookup_mean_ms": round(lookup_only, 5)}}


def main() -> None:
    app = _app()
    results = {**bench_provisioning(app), **bench_resolution(app)}
    report = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "database": "DATABASE_URL" if os.environ.get("DATABASE_URL") else "embedded pgserver",
        "aims_ms": AIMS_MS,
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "foundation.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'measure':<26} {'result':>12} {'aim':>10}")
    for name, aim in AIMS_MS.items():
        figures = results[name]
        value = figures.get("median_ms", figures.get("mean_ms"))
        kind = "median" if "median_ms" in figures else "mean"
        print(f"{name:<26} {value:>9.3f} ms {aim:>7} ms  ({kind} of {figures['runs']}){'' if value <= aim else '  MISSED'}")
    print(f"written to {RESULTS / 'foundation.json'}")
    stop_embedded()


def stop_embedded() -> None:
    """Stop the embedded servers this benchmark started (not DATABASE_URL/REDIS_URL ones)."""
    if not os.environ.get("DATABASE_URL"):
        embedded.stop_postgres(VAR / "pg")
    if not os.environ.get("REDIS_URL"):
        embedded.stop_redis(VAR / "redis")


if __name__ == "__main__":
    main()
