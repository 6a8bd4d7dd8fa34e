"""Images during a CSV import, against real HTTP servers on 127.0.0.1 and a
real RQ worker: the products land before any image is fetched; a host that
does not answer is asked once per import, across its steps; an image that
could not be fetched is kept on its product (shown in the editor, retried
from there or by the sweep, exported back); the report and the progress."""
import csv
import io
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from app.catalog import imports, pending_images
from app.catalog.image_fetch import FetchSettings, HostMemory, ImageFetcher
from app.catalog.import_report import lines
from app.catalog.models import ImportJob, PendingImage, Product
from app.config import ROOT
from app.extensions import db
from tests.catalog.test_csv import _HeldServer, catalog_of, job_state, png, start, work
from tests.catalog.test_csv import web  # noqa: F401  (the fixture)
from tests.conftest import as_store, wait_until


class SilentHost:
    """A TCP port that takes connections (the kernel's backlog) and never
    answers one: a host that times out. Counts the connections it got."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted, self.stop = [], threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        self.sock.settimeout(0.05)
        while not self.stop.is_set():
            try:
                self.accepted.append(self.sock.accept()[0])  # held open, never answered
            except (TimeoutError, OSError):
                continue

    def close(self):
        self.stop.set()
        self.thread.join()
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent():
    host = SilentHost()
    yield host
    host.close()


def refusing_url() -> str:
    """A URL on a local port nothing listens on: refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def products_csv(count: int, image_url, prefix: str = "item") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Handle", "Title", "Variant SKU", "Variant Price", "Image Src"])
    for n in range(count):
        writer.writerow([f"{prefix}-{n}", f"Item {n}", f"{prefix.upper()}-{n}", f"{n}.50", image_url(n)])
    return out.getvalue().encode()


def export(browser, store) -> list[dict]:
    with browser.get(f"/dashboard/{store.handle}/products/export.csv") as exported:
        return list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))


def worker(service_env, **env) -> subprocess.Popen:
    """A burst worker on the imports queue, running while the test watches."""
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst", "--queue", "imports"],
                            cwd=ROOT, env={**os.environ, **service_env, "IMPORT_ALLOW_PRIVATE_URLS": "1", **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_the_products_land_before_any_image_and_the_images_follow(app, make_store, service_env, merchant):
    browser, _, store = merchant
    held = _HeldServer()  # answers only when released
    count = imports.FIRST_CHUNK + imports.CHUNK + 5
    try:
        token = start(app, store, products_csv(count, lambda n: f"{held.url}/{n}.png"))
        running = worker(service_env)
        try:
            wait_until(lambda: job_state(app, store, token).created_products == count, "every product to land")
            job = job_state(app, store, token)
            assert (job.status, job.images_total, job.images_done) == ("running", count, 0)
            with as_store(app, store):
                assert db.session.scalar(sa.select(sa.func.count()).select_from(Product)) == count
            page = f"/dashboard/{store.handle}/products/imports/{token}"
            card = browser.get(page, headers={"HX-Request": "true", "HX-Target": "import-progress"})
            shown = card.get_data(as_text=True)
            assert f"{count} of {count} products" in shown and f"Fetching images</strong> — 0 of {count}" in shown
        finally:
            held.release.set()  # now each answers 404
            running.wait(timeout=300)
    finally:
        held.close()
    job = job_state(app, store, token)
    assert (job.status, job.images_done, job.images_failed) == ("done", count, count)


def test_an_image_arrives_after_its_product_in_the_files_order_with_its_variant_link(app, make_store, service_env,
                                                                                  web):
    for name, color in (("front", "red"), ("back", "blue"), ("side", "green")):
        web.files[f"/{name}.png"] = png(20, 10, color)
    data = ("Handle,Title,Option1 Name,Option1 Value,Variant SKU,Variant Price,Variant Image,Image Src,"
            "Image Position,Image Alt Text\n"
            f"tee,Tee,Size,S,T-S,10,{web.url}/back.png,{web.url}/side.png,3,Side\n"
            f"tee,,,M,T-M,10,,{web.url}/front.png,1,Front\n"
            f"tee,,,,,,,{web.url}/back.png,2,Back\n").encode()
    store = make_store()
    token = start(app, store, data)
    work(service_env)
    job = job_state(app, store, token)
    assert (job.status, job.images_total, job.images_failed, job.report) == ("done", 3, 0, [])
    tee = catalog_of(app, store)["tee"]
    assert [(i["position"], i["alt"], i["size"]) for i in tee["images"]] == [
        (1, "Front", (20, 10)), (2, "Back", (20, 10)), (3, "Side", (20, 10))]
    assert tee["variants"][0]["image"] == tee["images"][1]["digest"] and tee["variants"][1]["image"] is None
    with as_store(app, store):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingImage)) == 0


def test_a_host_that_does_not_answer_is_asked_once_for_all_its_images(app, silent):
    """The fetcher on its own: ten URLs on a silent host, fetched together."""
    settings = FetchSettings(deadline=1.0, timeout=1.0)
    with app.app_context():
        with ImageFetcher(app, 1, allow_private=True, down=HostMemory(None, None), settings=settings) as fetcher:
            urls = {f"{silent.url}/{n}.png" for n in range(10)}
            started = time.monotonic()
            fetcher.fetch(urls)
            took = time.monotonic() - started
            problems = sorted(fetcher.result(url)[1] for url in urls)
    wait_until(lambda: len(silent.accepted) >= 1, "the one connection to be seen")
    assert len(silent.accepted) == 1
    assert took < 3  # one wait of a second, not ten (nor ten / the pool's threads)
    assert sum("host unreachable" in p for p in problems) == 9
    assert sum("took more than 1 seconds" in p for p in problems) == 1


def test_an_import_remembers_a_host_that_did_not_answer_across_its_steps(app, make_store, service_env, silent, web):
    web.files["/ok.png"] = png(8, 8, "orange")
    count = pending_images.BATCH * 2 + 3  # three batches; a step each (IMPORT_STEP_SECONDS=0)
    refused = refusing_url()

    def image(n):
        return {0: f"{refused}/a.png", 1: f"{refused}/b.png", 2: f"{web.url}/ok.png"}.get(n, f"{silent.url}/{n}.png")

    store = make_store()
    token = start(app, store, products_csv(count, image))
    started = time.monotonic()
    running = worker(service_env, IMPORT_FETCH_DEADLINE="1", IMPORT_STEP_SECONDS="0")
    assert running.wait(timeout=300) == 0
    took = time.monotonic() - started
    job = job_state(app, store, token)
    assert job.status == "done", job.error
    assert (job.status, job.created_products, job.images_total, job.images_failed) == ("done", count, count, count - 1)
    assert len(silent.accepted) == 1  # one connection for the import's every step
    assert took < 30  # seconds, not (count - 3) waits
    grouped = {line.message: line.count for line in lines(job.report)}
    unreachable = [message for message in grouped if "host unreachable" in message]
    assert [grouped[m] for m in unreachable] == [1, count - 4]  # the refusing host's other URL, the silent one's
    with as_store(app, store):
        kept = db.session.scalars(sa.select(PendingImage).where(PendingImage.status == "failed")).all()
        assert len(kept) == count - 1 and all(p.retry_at is not None for p in kept)


def test_a_failed_image_is_shown_retried_from_the_editor_and_exported_back(app, merchant, service_env, web):
    browser, _, store = merchant
    token = start(app, store, products_csv(1, lambda n: f"{web.url}/late.png", prefix="lamp"))
    work(service_env)
    assert job_state(app, store, token).images_failed == 1
    with as_store(app, store):
        product_id = db.session.scalar(sa.select(Product.id))
        pending_id = db.session.scalar(sa.select(PendingImage.id))
    editor = f"/dashboard/{store.handle}/products/{product_id}"
    shown = browser.get(editor).get_data(as_text=True)
    assert f"{web.url}/late.png" in shown and "Couldn't fetch" in shown and "404 Not Found" in shown

    assert [row["Image Src"] for row in export(browser, store)] == [f"{web.url}/late.png"]

    action = f"/dashboard/{store.handle}/products/{product_id}/pending-images/{pending_id}"
    refused = browser.post(action, {"action": "bogus"}, csrf_from=editor)
    assert refused.status_code == 422
    with as_store(app, store):
        assert db.session.get(PendingImage, (store.id, pending_id)).status == "failed"

    web.files["/late.png"] = png(30, 20, "purple")  # the host has it now
    retried = browser.post(action, {"action": "retry"}, csrf_from=editor)
    assert retried.status_code == 302
    assert browser.post(action, {"action": "retry"}, csrf_from=editor).status_code == 404  # queued already
    work(service_env)
    lamp = catalog_of(app, store)["lamp-0"]
    assert [i["size"] for i in lamp["images"]] == [(30, 20)]
    with as_store(app, store):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingImage)) == 0
    assert "Couldn't fetch" not in browser.get(editor).get_data(as_text=True)


def test_a_failed_image_can_be_removed_and_is_then_not_exported(app, merchant, service_env, web):
    browser, _, store = merchant
    start(app, store, products_csv(1, lambda n: f"{web.url}/gone.png", prefix="cap"))
    work(service_env)
    with as_store(app, store):
        product_id, pending_id = db.session.execute(sa.select(PendingImage.product_id, PendingImage.id)).one()
    editor = f"/dashboard/{store.handle}/products/{product_id}"
    removed = browser.post(f"{editor}/pending-images/{pending_id}", {"action": "remove"}, csrf_from=editor)
    assert removed.status_code == 302
    assert [row["Image Src"] for row in export(browser, store)] == [""]


def test_the_sweep_retries_failed_images_once_their_backoff_has_passed(app, make_store, service_env, web):
    store = make_store()
    start(app, store, products_csv(2, lambda n: f"{web.url}/soon-{n}.png", prefix="mug"))
    work(service_env)
    web.files["/soon-0.png"] = png(12, 12, "black")
    with as_store(app, store):
        assert imports.sweep() == 0 and not pending_images.remaining(None)  # backoff not passed: nothing queued
        db.session.execute(sa.update(PendingImage).where(PendingImage.source_url.endswith("soon-0.png"))
                           .values(retry_at=sa.func.now()))
        db.session.commit()
        imports.sweep()
        assert pending_images.remaining(None)
    work(service_env)
    found = catalog_of(app, store)
    assert [i["size"] for i in found["mug-0"]["images"]] == [(12, 12)] and found["mug-1"]["images"] == []
    with as_store(app, store):
        left = db.session.scalars(sa.select(PendingImage)).all()
        assert [(p.source_url.rsplit("/", 1)[1], p.status, p.attempts) for p in left] == [("soon-1.png", "failed", 1)]


def test_a_failed_import_hands_its_images_not_yet_fetched_to_the_retries(app, make_store, service_env, web):
    store = make_store()
    token = start(app, store, products_csv(1, lambda n: f"{web.url}/late.png", prefix="cup"))
    work(service_env)  # a 404: kept as failed
    with as_store(app, store):  # as if the import had stopped before fetching it
        job = imports.get_import(token)
        db.session.execute(sa.update(PendingImage).values(status="pending", job_id=job.id, retry_at=None))
        db.session.commit()
        imports._fail(job.id, imports.ImportAborted("The file is no longer kept."))
        assert imports.get_import(token).status == "failed"
        assert pending_images.remaining(None) and not pending_images.remaining(job.id)
    web.files["/late.png"] = png(9, 9, "green")
    work(service_env)  # the retry job queued when the import failed
    assert [i["size"] for i in catalog_of(app, store)["cup-0"]["images"]] == [(9, 9)]
    with as_store(app, store):
        assert db.session.scalars(sa.select(PendingImage)).all() == []


def test_importing_the_export_again_keeps_a_failed_url_pending_not_lost(app, merchant, service_env, web):
    browser, _, store = merchant
    start(app, store, products_csv(1, lambda n: f"{web.url}/never.png", prefix="bag"))
    work(service_env)
    with browser.get(f"/dashboard/{store.handle}/products/export.csv") as exported:
        start(app, store, exported.get_data())
    work(service_env)
    with as_store(app, store):
        kept = db.session.scalars(sa.select(PendingImage)).all()
        assert [(p.source_url, p.status, p.attempts) for p in kept] == [(f"{web.url}/never.png", "failed", 2)]


def test_the_report_is_summarised_grouped_and_paged(app, merchant, service_env):
    browser, _, store = merchant
    lines_ = ["Handle,Title,Variant Price,Variant Inventory Qty"]
    lines_ += [f"bad-{n},Bad {n},{n}x,1" for n in range(60)]  # sixty different refusals
    lines_ += [f"neg-{n},Neg {n},1.00,-1" for n in range(30)]  # one warning thirty times
    token = start(app, store, ("\n".join(lines_) + "\n").encode())
    work(service_env)
    job = job_state(app, store, token)
    assert (job.created_products, job.failed_products) == (30, 60)
    page = f"/dashboard/{store.handle}/products/imports/{token}"
    first = browser.get(page).get_data(as_text=True)
    assert "Report page 1 of 2" in first and "Refused — not imported" in first
    assert "Imported with warnings" not in first  # the warnings line is on page two, after the refusals
    second = browser.get(f"{page}?page=2").get_data(as_text=True)
    assert "Imported with warnings" in second and "<strong>30×</strong> 62, 63, 64, 65, 66, …" in second
    assert second.count("was set to 0") == 1  # thirty rows, one line
    assert browser.get(f"{page}?page=x").status_code == 400
    for shown in (first, second):
        assert '<dt>Created</dt><dd>30</dd>' in shown and '<dt>Refused</dt><dd>60</dd>' in shown
        assert '<dt>With warnings</dt><dd>30</dd>' in shown


def test_lines_put_refusals_before_warnings_and_count_each_message_once():
    report = [{"row": 2, "handle": "a", "message": "Stock set to 0.", "kind": "warning"},
              {"row": 3, "handle": "b", "message": "Bad price."},
              {"row": 4, "handle": "c", "message": "Stock set to 0.", "kind": "warning"},
              {"row": 5, "handle": "d", "message": "Bad price.", "kind": "refused"}]
    assert [(line.kind, line.message, line.count, line.rows, line.handles) for line in lines(report)] == [
        ("refused", "Bad price.", 2, [3, 5], ["b", "d"]), ("warning", "Stock set to 0.", 2, [2, 4], ["a", "c"])]


def test_the_first_chunk_is_small_so_the_first_products_land_at_once():
    assert [len(c) for c in imports.chunked(list(range(125)))] == [imports.FIRST_CHUNK, 50, 50, 15]
    assert imports.chunked([]) == []


def test_start_import_from_htmx_loads_the_whole_job_page(app, merchant):
    browser, _, store = merchant
    imports_page = f"/dashboard/{store.handle}/products/imports"
    answer = browser.upload(imports_page, {}, {"file": (b"Handle,Title,Variant Price\nhat,Hat,10\n", "hats.csv")},
                            headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert answer.status_code == 204
    target = answer.headers["HX-Redirect"]
    assert target.startswith(f"{imports_page}/")
    whole = browser.get(target, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<title>Import hats.csv · " in whole and "Import: hats.csv</h1>" in whole and 'class="sidebar"' in whole
    card = browser.get(target, headers={"HX-Request": "true", "HX-Target": "import-progress"}).get_data(as_text=True)
    assert card.lstrip().startswith("<section") and "<title>" not in card
    with as_store(app, store):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportJob)) == 1
