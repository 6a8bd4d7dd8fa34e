"""The merchant dashboard: stores, settings, domains, staff and who may do what."""
import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.store import service as store_service
from tenants.models import Domain, Membership, Store
from tests.conftest import Client, as_store, mark_domain_verified, unique_handle
from tests.platform.helpers import add_staff


def _store(app, handle) -> Store | None:
    with app.app_context():
        store = db.session.scalar(sa.select(Store).where(Store.handle == handle))
        if store is not None:
            db.session.expunge(store)
        return store


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _settings_form(**fields):
    return {"name": "Test Store", "currency": "USD", "contact_email": "", "coming_soon_message": "Soon!", **fields}


def test_create_a_second_store_and_switch_between_them(app, merchant):
    browser, account, first = merchant
    handle = unique_handle("shop-")
    created = browser.post("/stores/new", {"name": "Second Shop", "handle": handle, "currency": "EUR"},
                           csrf_from="/stores/new")
    assert created.status_code == 302 and created.headers["Location"] == f"/dashboard/{handle}/"
    home = browser.get(f"/dashboard/{handle}/").get_data(as_text=True)
    assert "Second Shop" in home and "Created the store" in home
    assert f"{handle}.localhost" in home
    assert browser.get("/", host=f"{handle}.localhost").status_code == 200

    switched = browser.post("/dashboard/switch", {"store_id": str(first.id)}, csrf_from="/stores/new")
    assert switched.headers["Location"] == f"/dashboard/{first.handle}/"
    assert _store(app, handle).currency == "EUR"


@pytest.mark.parametrize("fields, message", [
    ({"handle": "No Caps"}, "lowercase"),
    ({"handle": "ab"}, "lowercase"),
    ({"handle": "admin"}, "reserved"),
    ({"currency": "ZZZ"}, "currency"),
    ({"name": ""}, "name"),
])
def test_bad_store_forms_are_refused_and_create_nothing(app, merchant, fields, message):
    browser, _, _ = merchant
    before = _count(app, Store)
    data = {"name": "Shop", "handle": unique_handle(), "currency": "USD", **fields}
    response = browser.post("/stores/new", data, csrf_from="/stores/new")
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _count(app, Store) == before


def test_a_taken_handle_is_refused(app, merchant, make_store):
    browser, _, _ = merchant
    taken = make_store()
    before = _count(app, Store)
    response = browser.post("/stores/new", {"name": "Copycat", "handle": taken.handle, "currency": "USD"},
                            csrf_from="/stores/new")
    assert response.status_code == 422 and "is taken" in response.get_data(as_text=True)
    assert _count(app, Store) == before


def test_rename_shows_on_the_storefront_at_once(app, merchant):
    browser, account, store = merchant
    assert "Test Store" in browser.get("/", host=f"{store.handle}.localhost").get_data(as_text=True)
    saved = browser.post(f"/dashboard/{store.handle}/settings",
                         _settings_form(name="Brand New Name", contact_email="Help@Example.com",
                                        coming_soon_message="Opening Friday"),
                         csrf_from=f"/dashboard/{store.handle}/settings")
    assert saved.status_code == 302
    page = browser.get("/", host=f"{store.handle}.localhost").get_data(as_text=True)
    assert "Brand New Name" in page and "Opening Friday" in page and "help@example.com" in page
    with as_store(app, store):
        summaries = [e.summary for e in store_service.recent_activity()]
    assert any("Brand New Name" in s for s in summaries)


@pytest.mark.parametrize("fields, message", [
    ({"name": "  "}, "name of 1–120"),
    ({"currency": "DOGE"}, "currency"),
    ({"contact_email": "not an email"}, "valid email"),
    ({"coming_soon_message": "x" * 2001}, "under 2000"),
])
def test_bad_settings_are_refused_and_change_nothing(app, merchant, fields, message):
    browser, _, store = merchant
    response = browser.post(f"/dashboard/{store.handle}/settings", _settings_form(**{"name": "Changed?", **fields}),
                            csrf_from=f"/dashboard/{store.handle}/settings")
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _store(app, store.handle).name == "Test Store"
    with as_store(app, store):
        assert store_service.get_settings() == store_service.DEFAULT_SETTINGS


@pytest.mark.parametrize("hostname, message", [
    ("not a host", "Enter a hostname"),
    ("https://shop.example.com/path", "Enter a hostname"),
    ("localhost", "managed by Vitrine"),
    ("anything.localhost", "managed by Vitrine"),
    ("intranet", "full domain name"),
    ("10.0.0.1", "full domain name"),
    ("127.0.0.1.nip.io", "not an IP address"),
    ("0x7f.1", "not an IP address"),
    ("github.io", "public suffix"),
    ("co.uk", "public suffix"),
    ("shop.test", "not a top-level domain"),
])
def test_bad_domains_are_refused(app, merchant, hostname, message):
    browser, _, store = merchant
    before = _count(app, Domain)
    response = browser.post(f"/dashboard/{store.handle}/domains", {"hostname": hostname},
                            csrf_from=f"/dashboard/{store.handle}/domains")
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _count(app, Domain) == before


def test_a_hostname_belongs_to_one_store_only(app, merchant, make_account, make_store):
    browser, _, store = merchant
    host = f"{unique_handle()}.example.net"
    assert browser.post(f"/dashboard/{store.handle}/domains", {"hostname": host},
                        csrf_from=f"/dashboard/{store.handle}/domains").status_code == 302
    rival_account = make_account()
    rival_store = make_store(owner=rival_account)
    rival = Client(app.test_client())
    rival.login(rival_account.email)
    response = rival.post(f"/dashboard/{rival_store.handle}/domains", {"hostname": host.upper()},
                          csrf_from=f"/dashboard/{rival_store.handle}/domains")
    assert response.status_code == 422 and "already connected" in response.get_data(as_text=True)
    mark_domain_verified(app, host)
    assert "Test Store" in browser.get("/", host=host).get_data(as_text=True)


def test_staff_can_open_the_store_but_not_its_settings(app, merchant, make_account):
    browser, owner, store = merchant
    helper = make_account(name="Helper")
    staff = add_staff(app, browser, store, helper)
    assert staff.get(f"/dashboard/{store.handle}/").status_code == 200
    for path in ("settings", "domains", "staff"):
        assert staff.get(f"/dashboard/{store.handle}/{path}").status_code == 403
    refused = staff.post(f"/dashboard/{store.handle}/settings", _settings_form(name="Staff was here"),
                         csrf_from=f"/dashboard/{store.handle}/")
    assert refused.status_code == 403
    assert _store(app, store.handle).name == "Test Store"

    # The owner cannot be removed; the helper can.
    assert browser.post(f"/dashboard/{store.handle}/staff/{owner.id}/delete",
                        csrf_from=f"/dashboard/{store.handle}/staff").status_code == 403
    assert browser.post(f"/dashboard/{store.handle}/staff/{helper.id}/delete",
                        csrf_from=f"/dashboard/{store.handle}/staff").status_code == 302
    assert staff.get(f"/dashboard/{store.handle}/").status_code == 404


def test_staff_form_refuses_bad_emails_members_and_the_owner_role(app, merchant, make_account):
    browser, owner, store = merchant
    path = f"/dashboard/{store.handle}/staff"
    before = _count(app, Membership)
    for data, message in [({"email": "not-an-email", "role": "staff"}, "valid email"),
                          ({"email": owner.email, "role": "staff"}, "already on this store"),
                          ({"email": make_account().email, "role": "owner"}, "admin or staff")]:
        response = browser.post(path, data, csrf_from=path)
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _count(app, Membership) == before
    # Someone without an account is invited like anyone else: the form never tells who has one.
    invited = browser.post(path, {"email": "nobody@example.com", "role": "staff"}, csrf_from=path)
    assert invited.status_code == 302
    assert "Invitation sent to nobody@example.com." in browser.get(path).get_data(as_text=True)
    assert _count(app, Membership) == before


def test_merchant_a_can_neither_see_nor_change_store_b(app, merchant, make_account, make_store):
    browser, _, own = merchant
    other_owner = make_account()
    other = make_store(owner=other_owner, name="Store B")
    rival = Client(app.test_client())
    rival.login(other_owner.email)
    domain_host = f"{unique_handle()}.example.org"
    rival.post(f"/dashboard/{other.handle}/domains", {"hostname": domain_host},
               csrf_from=f"/dashboard/{other.handle}/domains")
    domain_id = re.search(r"/domains/(\d+)/delete",
                          rival.get(f"/dashboard/{other.handle}/domains").get_data(as_text=True)).group(1)

    for path in ("", "settings", "domains", "staff"):
        page = browser.get(f"/dashboard/{other.handle}/{path}")
        assert page.status_code == 404, path
        assert "Store B" not in page.get_data(as_text=True)
    own_page = f"/dashboard/{own.handle}/settings"
    for path, data in [
        (f"/dashboard/{other.handle}/settings", _settings_form(name="Hijacked")),
        (f"/dashboard/{other.handle}/domains", {"hostname": "hijack.example.com"}),
        (f"/dashboard/{other.handle}/domains/{domain_id}/delete", {}),
        (f"/dashboard/{other.handle}/staff", {"email": "x@example.com", "role": "admin"}),
        (f"/dashboard/{own.handle}/domains/{domain_id}/delete", {}),  # B's domain id through A's store
        ("/dashboard/switch", {"store_id": str(other.id)}),
        ("/dashboard/switch", {"store_id": "not-a-number"}),
    ]:
        assert browser.post(path, data, csrf_from=own_page).status_code == 404, path
    assert _store(app, other.handle).name == "Store B"
    mark_domain_verified(app, domain_host)  # still there: it serves once verified
    assert "Store B" in browser.get("/", host=domain_host).get_data(as_text=True)


def test_dashboard_needs_a_login(client, make_store):
    store = make_store()
    response = client.get(f"/dashboard/{store.handle}/settings")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
