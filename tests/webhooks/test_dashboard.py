"""The Webhooks pages: bad input changes nothing, other stores' endpoints are
out of reach, secrets are shown once, the cap holds."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.webhooks import service
from app.webhooks.models import WebhookEndpoint
from tests.conftest import Client, as_store
from tests.webhooks.conftest import SECRET_RE, add_endpoint


def _endpoints(app, store) -> list[tuple]:
    with as_store(app, store):
        return [(e.id, e.url, tuple(e.topics), e.secret, e.status)
                for e in db.session.scalars(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id))]


@pytest.mark.parametrize("fields, says", [
    ({"url": "ftp://127.0.0.1/hooks", "topics": "orders/create"}, "http:// or https://"),
    ({"url": "http://user:secret@127.0.0.1/hooks", "topics": "orders/create"}, "user name or password"),
    ({"url": "http://127.0.0.1/" + "x" * 2100, "topics": "orders/create"}, "at most 2000"),
    ({"url": "", "topics": "orders/create"}, "required"),
    ({"url": "http://127.0.0.1/hooks", "topics": "orders/exploded"}, "Choose topics from the list"),
    ({"url": "http://127.0.0.1/hooks"}, "at least one topic"),
    ({"url": "http://127.0.0.1:99999/hooks", "topics": "orders/create"}, "not a valid URL"),
    ({"url": "http:///hooks", "topics": "orders/create"}, "host name"),
    ({"url": "x" * 100_000, "topics": ["orders/create"] * 5_000}, "Choose topics"),
])
def test_a_bad_endpoint_is_refused_with_422_and_nothing_changes(loopback, merchant, fields, says):
    browser, _, store = merchant
    add_endpoint(browser, store.handle, "http://127.0.0.1:9/kept")
    before = _endpoints(loopback, store)
    page = f"/dashboard/{store.handle}/webhooks"
    refused = browser.post(page, fields, csrf_from=page)
    assert refused.status_code == 422 and says in refused.get_data(as_text=True)
    edit = f"{page}/{before[0][0]}"
    refused = browser.post(edit, fields, csrf_from=edit)
    assert refused.status_code == 422 and says in refused.get_data(as_text=True)
    assert _endpoints(loopback, store) == before


def test_a_nul_byte_is_refused_before_anything_runs(loopback, merchant):
    browser, _, store = merchant
    page = f"/dashboard/{store.handle}/webhooks"
    refused = browser.post(page, {"url": "http://127.0.0.1/\x00", "topics": "orders/create"}, csrf_from=page)
    assert refused.status_code == 400 and _endpoints(loopback, store) == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hooks", "http://localhost/hooks", "http://10.1.2.3/hooks",
                                 "http://169.254.169.254/latest/meta-data", "http://[::1]/hooks",
                                 "http://[::ffff:192.168.0.1]/hooks", "https://192.168.1.20/hooks",
                                 "http://0.0.0.0/hooks", "http://100.64.0.1/hooks"])
def test_private_addresses_are_refused_at_registration_in_production(app, merchant, url):
    assert app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] is False  # the tests' app runs as production
    browser, _, store = merchant
    page = f"/dashboard/{store.handle}/webhooks"
    refused = browser.post(page, {"url": url, "topics": "orders/create"}, csrf_from=page)
    assert refused.status_code == 422 and "public addresses" in refused.get_data(as_text=True)
    assert _endpoints(app, store) == []


def test_another_store_cannot_see_or_touch_an_endpoint(loopback, merchant, make_account, make_store):
    browser, _, store = merchant
    endpoint_id, _ = add_endpoint(browser, store.handle, "http://127.0.0.1:9/mine")
    before = _endpoints(loopback, store)
    intruder_account = make_account()
    intruder_store = make_store(owner=intruder_account)
    intruder = Client(loopback.test_client())
    intruder.login(intruder_account.email)
    own = f"/dashboard/{intruder_store.handle}/webhooks"
    theirs = f"/dashboard/{store.handle}/webhooks"
    assert intruder.get(f"{theirs}/{endpoint_id}").status_code == 404  # not a member of that store
    assert intruder.get(theirs).status_code == 404
    assert intruder.get(f"{own}/{endpoint_id}").status_code == 404  # the id, in its own store: none there
    for action in ("rotate", "delete", "test", "deliveries/1/redeliver"):
        assert intruder.post(f"{own}/{endpoint_id}/{action}", {"topic": "orders/create"},
                             csrf_from=own).status_code == 404
        assert intruder.post(f"{theirs}/{endpoint_id}/{action}", {"topic": "orders/create"},
                             csrf_from=own).status_code == 404
    assert intruder.post(f"{own}/{endpoint_id}", {"url": "http://127.0.0.1:9/stolen", "topics": "orders/create"},
                         csrf_from=own).status_code == 404
    assert _endpoints(loopback, store) == before


def test_staff_cannot_open_webhooks(loopback, merchant, make_account):
    from tenants.models import Membership

    browser, _, store = merchant
    helper = make_account()
    with loopback.app_context():
        db.session.add(Membership(account_id=helper.id, store_id=store.id, role="staff"))
        db.session.commit()
    staff = Client(loopback.test_client())
    staff.login(helper.email)
    assert staff.get(f"/dashboard/{store.handle}/webhooks").status_code == 403
    assert staff.get(f"/dashboard/{store.handle}/failed-jobs").status_code == 403


def test_the_secret_is_shown_once_and_rotating_makes_a_new_one(loopback, merchant):
    browser, _, store = merchant
    endpoint_id, secret = add_endpoint(browser, store.handle, "http://127.0.0.1:9/hooks")
    page = f"/dashboard/{store.handle}/webhooks/{endpoint_id}"
    assert secret.startswith("whsec_") and secret not in browser.get(page).get_data(as_text=True)
    assert secret not in browser.get(f"/dashboard/{store.handle}/webhooks").get_data(as_text=True)
    rotated = browser.post(f"{page}/rotate", csrf_from=page)
    new = SECRET_RE.search(rotated.get_data(as_text=True)).group(1)
    assert rotated.status_code == 200 and new != secret
    assert _endpoints(loopback, store)[0][3] == new
    assert new not in browser.get(page).get_data(as_text=True)


def test_edit_and_delete(loopback, merchant):
    browser, _, store = merchant
    endpoint_id, _ = add_endpoint(browser, store.handle, "http://127.0.0.1:9/hooks")
    page = f"/dashboard/{store.handle}/webhooks/{endpoint_id}"
    saved = browser.post(page, {"url": "http://127.0.0.1:9/v2", "topics": ["refunds/create", "orders/paid"]},
                         csrf_from=page)
    assert saved.status_code == 303
    assert _endpoints(loopback, store)[0][1:3] == ("http://127.0.0.1:9/v2", ("orders/paid", "refunds/create"))
    assert browser.post(f"{page}/delete", csrf_from=page).status_code == 303
    assert _endpoints(loopback, store) == []
    assert browser.get(page).status_code == 404


def test_a_store_has_at_most_twenty_endpoints(loopback, merchant):
    from werkzeug.datastructures import MultiDict

    browser, _, store = merchant
    with as_store(loopback, store):
        for n in range(service.MAX_ENDPOINTS):
            service.create_endpoint(MultiDict({"url": f"http://127.0.0.1:9/{n}", "topics": "orders/create"}),
                                    actor="owner@example.com")
    page = f"/dashboard/{store.handle}/webhooks"
    refused = browser.post(page, {"url": "http://127.0.0.1:9/one-more", "topics": "orders/create"}, csrf_from=page)
    assert refused.status_code == 409 and "20 webhook endpoints" in refused.get_data(as_text=True)
    assert len(_endpoints(loopback, store)) == service.MAX_ENDPOINTS


def test_the_delivery_log_pages(loopback, merchant):
    browser, _, store = merchant
    endpoint_id, _ = add_endpoint(browser, store.handle, "http://127.0.0.1:9/hooks")
    with as_store(loopback, store):
        now = service.utcnow()
        for n in range(30):
            db.session.add(service.new_delivery(endpoint_id, "orders/create", {"n": n}, now))
        db.session.commit()
    page = f"/dashboard/{store.handle}/webhooks/{endpoint_id}"
    first, second = browser.get(page).get_data(as_text=True), browser.get(f"{page}?page=2").get_data(as_text=True)
    assert len(re.findall(r'id="delivery-\d+"', first)) == 25 and len(re.findall(r'id="delivery-\d+"', second)) == 5
    assert "30 deliveries" in first
    assert browser.get(f"{page}?page=x").status_code == 400
