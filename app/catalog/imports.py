"""Product CSV imports: checked up front, then worked through in steps by RQ jobs.

`start_import` refuses a file that is not UTF-8 CSV with Shopify's header (a
422, and nothing is written), keeps the upload in private storage, records
an ImportJob and queues its first step on the `imports` queue once that has
committed.

A step (`run_step`) claims the job, works through chunks of CHUNK products
(app.catalog.import_rows: each chunk commits together with its progress on
the job; the first chunk is small, so the progress bar moves within a
second) for about IMPORT_STEP_SECONDS, then queues the next step at the back
of the queue and lets the worker go: another store's import waiting behind
it gets its turn, so no store holds the workers. A step renews the job's
lease as chunks commit; when a worker dies mid-step, the periodic sweep sees
the stale lease and queues a step that resumes from the chunks not yet
committed. An import that fails (or whose worker died too often) says why on
the job and can be retried from the dashboard, again from where it stopped.
The upload is deleted once the import is done, and a failed import's upload
after UPLOAD_KEEP_DAYS, when it can no longer be retried.

Image URLs do not hold the products back: a chunk records the images it
could not place as pending (app.catalog.pending_images), and once every
chunk has committed the steps go on to fetch them, a batch at a time through
a small pool, attaching each batch as it arrives. A host that did not answer
is remembered in Redis for the rest of the import (image_fetch.HostMemory),
so its other images fail at once. Failed images stay on their product, to
retry; the import's report lists them as warnings.
"""
from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import redis
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import JSONB

from app.catalog import csv_format, pending_images
from app.catalog.csv_format import ParsedFile
from app.catalog.errors import CatalogError, CatalogErrorCode as Code, not_found
from app.catalog.image_fetch import HostMemory, ImageFetcher, private_urls_allowed
from app.catalog.import_rows import ImportSettings, import_chunk, stock_location
from app.catalog.models import ImportJob
from app.effects import after_commit
from app.extensions import RedisUnavailable, db, get_redis
from app.jobs import enqueue
from app.media.storage import LocalStorage
from app.store import service as store_service
from tenants.context import require_store, store_context

log = logging.getLogger(__name__)

CHUNK = 50  # products per transaction (and per progress update)
FIRST_CHUNK = 10  # a small first chunk: the first products land, and the bar moves, at once
IMPORT_THREADS = 2
MAX_REPORT = 5000
MAX_CRASHES = 3  # a step whose worker died this often more: the import fails, visibly, and can be retried
STEP_TIMEOUT = 15 * 60  # RQ's limit for one step; a step yields after IMPORT_STEP_SECONDS of work
UPLOAD_KEEP_DAYS = 7


def _now() -> datetime:
    return datetime.now().astimezone()


def uploads() -> LocalStorage:
    """Private storage for uploaded files (never served), under var/uploads."""
    if "upload_storage" not in current_app.extensions:
        root = current_app.config.get("UPLOAD_ROOT") or Path(current_app.config["VAR_DIR"]) / "uploads"
        current_app.extensions["upload_storage"] = LocalStorage(Path(root))
    return current_app.extensions["upload_storage"]


def start_import(filename: str, data: bytes, actor: str) -> ImportJob:
    """Check the file, keep it, record an ImportJob and queue its first step
    once committed. File-level problems raise CatalogError (422) and write
    nothing; with Redis away (no queue) the answer is a 503 and nothing is kept."""
    store = require_store()
    text = csv_format.decode(data)
    csv_format.read_header(text)
    _require_queue()
    name = os.path.basename((filename or "").replace("\\", "/")).strip()[:255] or "products.csv"
    token = secrets.token_hex(16)
    job = ImportJob(token=token, filename=name, status="queued", actor=actor[:254],
                    upload_key=f"{store.id}/{token}.csv", ignored_columns=csv_format.ignored_columns(text))
    uploads().save(job.upload_key, text.encode("utf-8"))
    try:
        db.session.add(job)
        db.session.flush()
        after_commit(queue_step, store.id, job.id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        uploads().delete(job.upload_key)
        raise
    return job


def _require_queue() -> None:
    try:
        get_redis().ping()
    except redis.RedisError:
        raise RedisUnavailable("imports need the job queue, which is unreachable") from None


def queue_step(store_id: int, job_id: int) -> None:
    enqueue("app.catalog.jobs.run_import", store_id, job_id, queue_name="imports", job_timeout=STEP_TIMEOUT,
            retry=None)


def get_import(token: str) -> ImportJob:
    job = db.session.scalar(sa.select(ImportJob).where(ImportJob.token == str(token)[:32]))
    if job is None:
        raise not_found("import")
    return job


def recent_imports(limit: int = 10) -> list[ImportJob]:
    return list(db.session.scalars(sa.select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)))


def can_retry(job: ImportJob) -> bool:
    return job.status == "failed" and job.upload_key is not None


def retry_import(job: ImportJob) -> ImportJob:
    """Queue a failed import again; it resumes after the chunks it committed."""
    if not can_retry(job):
        raise CatalogError(Code.CONFLICT, "Only a failed import whose file is still kept can be retried; "
                           "upload the file again.", status=409)
    _require_queue()
    job.status, job.error, job.finished_at, job.crashes = "queued", "", None, 0
    after_commit(queue_step, require_store().id, job.id)
    db.session.commit()
    return job


def run_step(job_id: int) -> str:
    """Work on an import for one step, in the current store; returns its status
    afterwards, or "skipped" when another worker holds it or it has ended."""
    store = require_store()
    job = _claim(job_id)
    if job is None:
        return "skipped"
    try:
        if job.crashes > MAX_CRASHES:
            raise ImportAborted(f"The import stopped {job.crashes} times when its worker did. Products committed "
                                "before that were kept; retry to go on from where it stopped.")
        parsed = _parse(job, store.currency)
        chunks = chunked(parsed.products)
        _begin(job, parsed)
        deadline = time.monotonic() + current_app.config["IMPORT_STEP_SECONDS"]
        with _lease_kept(job_id):
            _work(job, chunks, deadline=deadline)
            db.session.refresh(job)
            finished = len(set(job.done_chunks)) >= len(chunks) and _fetch_images(job, deadline)
        db.session.refresh(job)
        if finished:
            _finish(job)
        else:
            job.status = "queued"  # yield: the next step queues behind whatever came in meanwhile
            after_commit(queue_step, store.id, job.id)
        db.session.commit()
    except Exception as error:
        _fail(job_id, error)
    return db.session.get(ImportJob, (store.id, job_id)).status


class ImportAborted(RuntimeError):
    pass


def chunked(products: list) -> list[list]:
    """The file's products in chunks: FIRST_CHUNK, then CHUNK each. The same
    file always gives the same chunks, which `done_chunks` counts on."""
    chunks = [products[:FIRST_CHUNK]] if products else []
    return chunks + [products[i:i + CHUNK] for i in range(FIRST_CHUNK, len(products), CHUNK)]


def _claim(job_id: int) -> ImportJob | None:
    """Take a queued job, or one whose step's worker died (a stale lease)."""
    lease = timedelta(seconds=current_app.config["IMPORT_LEASE_SECONDS"])
    stale = sa.and_(ImportJob.status == "running", ImportJob.heartbeat_at < sa.func.now() - lease)
    claimed = db.session.execute(
        sa.update(ImportJob).where(ImportJob.id == job_id, sa.or_(ImportJob.status == "queued", stale))
        .values(crashes=ImportJob.crashes + sa.case((ImportJob.status == "running", 1), else_=0),
                status="running", heartbeat_at=sa.func.now())
        .returning(ImportJob.id)).first()
    db.session.commit()
    return db.session.get(ImportJob, (require_store().id, job_id)) if claimed else None


@contextmanager
def _lease_kept(job_id: int):
    """Renew the job's lease while this step works (a chunk fetching slow
    images can take minutes); it stops with the step, or with its worker."""
    app, store = current_app._get_current_object(), require_store()
    every = app.config["IMPORT_LEASE_SECONDS"] / 4
    done = threading.Event()

    def renew():
        with app.app_context():
            while not done.wait(every):
                with store_context(store):
                    db.session.execute(sa.update(ImportJob).where(ImportJob.id == job_id, ImportJob.status == "running")
                                       .values(heartbeat_at=sa.func.now()))

    keeper = threading.Thread(target=renew, daemon=True, name=f"import-lease-{job_id}")
    keeper.start()
    try:
        yield
    finally:
        done.set()
        keeper.join()


def _parse(job: ImportJob, currency: str) -> ParsedFile:
    try:
        text = uploads().read(job.upload_key).decode("utf-8") if job.upload_key else None
    except FileNotFoundError:
        text = None
    if text is None:
        raise ImportAborted("The uploaded file is no longer kept. Upload it again.")
    return csv_format.parse_text(text, currency)


def _begin(job: ImportJob, parsed: ParsedFile) -> None:
    """The first step sets the totals and the file-level report."""
    if job.total_rows:
        return
    job.total_rows, job.processed_rows = parsed.total_rows, len(parsed.errors)
    job.total_products = len(parsed.products)
    job.report = [error.as_dict() for error in parsed.errors]
    db.session.commit()


def _work(job: ImportJob, chunks: list, *, deadline: float) -> None:
    """Import the chunks not done yet, a few at a time, until the deadline."""
    store, app = require_store(), current_app._get_current_object()
    todo = [index for index in range(len(chunks)) if index not in set(job.done_chunks)]
    if not todo:
        return
    location_id = _location_for_stock(job, chunks)
    settings = ImportSettings(job_id=job.id, actor=job.actor, filename=job.filename, currency=store.currency,
                              location_id=location_id)
    with ThreadPoolExecutor(max_workers=IMPORT_THREADS) as pool:
        while todo:  # at least one batch per step, however short the step
            batch, todo = todo[:IMPORT_THREADS], todo[IMPORT_THREADS:]
            for future in [pool.submit(import_chunk, app, store, i, chunks[i], settings) for i in batch]:
                future.result()
            if time.monotonic() >= deadline:
                break


def host_memory(store_id: int, key: str | None) -> HostMemory:
    """Hosts found down, kept in Redis under `key` (the store's id in it); in this process only without one."""
    try:
        client = get_redis() if key else None
    except (KeyError, RuntimeError):
        client = None
    return HostMemory(client, f"vitrine:{store_id}:{key}" if key else None)


def _fetch_images(job: ImportJob, deadline: float) -> bool:
    """Fetch and attach the import's pending images, a batch per transaction,
    until none are left (True) or the step's time is up (False)."""
    store, app = require_store(), current_app._get_current_object()
    down = host_memory(store.id, f"import:{job.id}:hosts-down")
    with ImageFetcher(app, store.id, allow_private=private_urls_allowed(), down=down) as fetcher:
        while batch := pending_images.claim(job.id):
            failures = pending_images.fetch_batch(fetcher, batch)
            entries = [image_warning(f.row, f.handle, f.url, f.problem) for f in failures]
            db.session.execute(sa.update(ImportJob).where(ImportJob.id == job.id).values(
                images_done=ImportJob.images_done + len(batch),
                images_failed=ImportJob.images_failed + len(failures),
                report=ImportJob.report.op("||")(sa.cast(entries, JSONB)), heartbeat_at=sa.func.now()))
            db.session.commit()
            if time.monotonic() >= deadline:
                return not pending_images.remaining(job.id)
        db.session.commit()
    return True


def retry_pending_image(product, pending_id: int) -> None:
    """From the editor: fetch an image URL that failed again, now (in the
    retry job). Refused (503) with the queue away, changing nothing."""
    _require_queue()
    pending_images.retry(product, pending_id)
    after_commit(queue_image_retries, require_store().id)
    db.session.commit()


def queue_image_retries(store_id: int) -> None:
    enqueue("app.catalog.jobs.retry_images", store_id, queue_name="imports", job_timeout=STEP_TIMEOUT)


def retry_images() -> int:
    """In the current store: fetch the images queued for another try (from
    the editor, or by the sweep once their backoff passed), for about a step's
    time; more left over go to a job queued behind. Returns how many were tried."""
    store, app = require_store(), current_app._get_current_object()
    deadline, tried = time.monotonic() + current_app.config["IMPORT_STEP_SECONDS"], 0
    with ImageFetcher(app, store.id, allow_private=private_urls_allowed(), down=host_memory(store.id, None)) \
            as fetcher:
        while batch := pending_images.claim(None):
            pending_images.fetch_batch(fetcher, batch)
            tried += len(batch)
            db.session.commit()
            if time.monotonic() >= deadline and pending_images.remaining(None):
                after_commit(queue_image_retries, store.id)
                db.session.commit()
                break
    return tried


def image_warning(row: int | None, handle: str, url: str, problem: str) -> dict:
    """The report's entry for an image that could not be fetched: the URL
    apart, so the same problem on many images reads as one line."""
    return {"row": row, "handle": handle, "kind": "warning", "url": url[:300],
            "message": f"Image not fetched: {problem} It is kept on the product, to retry or remove."}


def _location_for_stock(job: ImportJob, chunks: list) -> int | None:
    if not any(v.quantity is not None for chunk in chunks for p in chunk for v in p.variants):
        return None
    location = stock_location()
    if location is None and not any("no active location" in entry["message"] for entry in job.report):
        first = next(v.row for chunk in chunks for p in chunk for v in p.variants if v.quantity is not None)
        job.report = [*job.report, {"row": first, "handle": "", "kind": "warning",
                                    "message": "Stock was not set: the store has no active location. Activate a "
                                    "location and import the file again."}]
        db.session.commit()
    return location.id if location else None


def _finish(job: ImportJob) -> None:
    job.status, job.finished_at, job.processed_rows = "done", _now(), job.total_rows
    report = sorted(job.report, key=lambda entry: (entry["row"] is None, entry["row"] or 0))
    if len(report) > MAX_REPORT:
        report = report[:MAX_REPORT] + [{"row": None, "handle": "",
                                         "message": f"…and {len(report) - MAX_REPORT} more.", "kind": "note"}]
    job.report = report
    images = f", {job.images_failed} image(s) not fetched" if job.images_failed else ""
    store_service.record(job.actor, "products.imported",
                         f"Imported {job.filename}: {job.created_products} created, {job.updated_products} "
                         f"updated, {job.failed_products} refused{images}")
    if job.upload_key:
        after_commit(uploads().delete, job.upload_key)
        job.upload_key = None


def _fail(job_id: int, error: Exception) -> None:
    """The import as a whole stopped: say so on the job; what was committed stays."""
    db.session.rollback()
    store = require_store()
    if not isinstance(error, (ImportAborted, CatalogError)):
        log.exception("import %s of store %s failed", job_id, store.id)
    job = db.session.get(ImportJob, (store.id, job_id))
    job.status, job.finished_at = "failed", _now()
    job.error = str(error) if isinstance(error, (ImportAborted, CatalogError)) else \
        f"The import stopped unexpectedly ({type(error).__name__}). Products committed before it stopped " \
        "were kept; retry to go on from where it stopped."
    if pending_images.release(job_id):
        after_commit(queue_image_retries, store.id)
    db.session.commit()


def sweep() -> int:
    """In the current store: queue a step for imports whose worker died (a
    stale lease) or whose step was never picked up (the queue was lost), and
    forget the files of failed imports too old to retry. Returns how many
    imports were queued again."""
    lease = timedelta(seconds=current_app.config["IMPORT_LEASE_SECONDS"])
    stuck = list(db.session.scalars(sa.select(ImportJob.id).where(sa.or_(
        sa.and_(ImportJob.status == "running", ImportJob.heartbeat_at < sa.func.now() - lease),
        sa.and_(ImportJob.status == "queued",
                sa.func.coalesce(ImportJob.heartbeat_at, ImportJob.created_at) < sa.func.now() - 10 * lease)))))
    expired = db.session.execute(sa.select(ImportJob.id, ImportJob.upload_key).where(
        ImportJob.status == "failed", ImportJob.upload_key.is_not(None),
        ImportJob.finished_at < sa.func.now() - timedelta(days=UPLOAD_KEEP_DAYS))).all()
    for job_id, key in expired:
        db.session.execute(sa.update(ImportJob).where(ImportJob.id == job_id).values(upload_key=None))
        after_commit(uploads().delete, key)
    for job_id in stuck:
        after_commit(queue_step, require_store().id, job_id)
    if pending_images.queue_due_retries():
        after_commit(queue_image_retries, require_store().id)
    db.session.commit()
    return len(stuck)
