"""Server-side sessions: a cookie is worth something only while its row is live."""
import re

import sqlalchemy as sa

from app.extensions import db
from tenants.models import Membership, Store
from tests.conftest import PASSWORD, Client, unique_handle
from tests.platform.helpers import add_staff, address, login_as


def _replay(app, cookie: str) -> Client:
    """A second browser carrying a session cookie captured from the first."""
    thief = Client(app.test_client())
    thief.flask.set_cookie("session", cookie, domain="localhost")
    return thief


def _captured(client: Client) -> str:
    return client.flask.get_cookie("session", domain="localhost").value


def _stores_named(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Store.id)).where(Store.name == name))


def _refused_get(client: Client, path: str = "/stores/new") -> bool:
    response = client.get(path)
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def _new_store_with_token(client: Client, token: str, name: str):
    """POST a store with a CSRF token read earlier (the captured session still carries it)."""
    return client.post("/stores/new", {"name": name, "handle": unique_handle(), "currency": "USD",
                                       "csrf_token": token})


def test_a_cookie_captured_before_logout_is_refused_afterwards(app, make_account):
    account = make_account()
    browser = login_as(app, account.email)
    token = browser.csrf_token("/stores/new")
    cookie = _captured(browser)
    assert _replay(app, cookie).get("/stores/new").status_code == 200  # a live session works anywhere

    assert browser.post("/logout", {"csrf_token": token}).status_code == 302
    thief = _replay(app, cookie)
    assert _refused_get(thief)
    assert _refused_get(thief, "/account")
    refused = _new_store_with_token(thief, token, "Thief's Store")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")
    assert _stores_named(app, "Thief's Store") == 0


def test_changing_the_password_ends_every_other_session(app, make_account):
    account = make_account()
    here, elsewhere = login_as(app, account.email), login_as(app, account.email)
    changed = here.post("/account/password", {"current_password": PASSWORD,
                                              "new_password": "otter-lantern-quarry-88"}, csrf_from="/account")
    assert changed.status_code == 302
    assert here.get("/account").status_code == 200  # the session that changed it lives on
    assert _refused_get(elsewhere)
    login_as(app, account.email, "otter-lantern-quarry-88")
    old = Client(app.test_client()).post("/login", {"email": account.email, "password": PASSWORD},
                                         csrf_from="/login", environ_base={"REMOTE_ADDR": address()})
    assert old.status_code == 401


def test_a_wrong_current_password_or_a_weak_new_one_changes_nothing(app, make_account):
    account = make_account()
    here, elsewhere = login_as(app, account.email), login_as(app, account.email)
    for data, message in [
        ({"current_password": "not-my-password", "new_password": "otter-lantern-quarry-88"}, "current password"),
        ({"current_password": PASSWORD, "new_password": "password12"}, "very common password"),
    ]:
        response = here.post("/account/password", data, csrf_from="/account")
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert elsewhere.get("/stores/new").status_code == 200
    login_as(app, account.email)  # the password is unchanged


def test_log_out_everywhere(app, make_account):
    account = make_account()
    here, elsewhere = login_as(app, account.email), login_as(app, account.email)
    out = here.post("/account/logout-everywhere", csrf_from="/account")
    assert out.status_code == 302 and out.headers["Location"].startswith("/login")
    assert _refused_get(here) and _refused_get(elsewhere)
    login_as(app, account.email)


def test_the_account_page_lists_sessions_and_revokes_one(app, make_account):
    account = make_account(name="Sessions Owner")
    here = login_as(app, account.email)
    other = Client(app.test_client())
    ip = address()
    other.post("/login", {"email": account.email, "password": PASSWORD}, csrf_from="/login",
               environ_base={"REMOTE_ADDR": ip,
                             "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36"})
    page = here.get("/account").get_data(as_text=True)
    assert "Sessions Owner" in page and ip in page and "Chrome on Linux" in page and "This device" in page
    revoke_paths = re.findall(r'action="(/account/sessions/\d+/revoke)"', page)
    assert len(revoke_paths) == 1  # the other browser's; this one logs out instead
    assert here.post(revoke_paths[0], csrf_from="/account").status_code == 302
    assert _refused_get(other)
    assert ip not in here.get("/account").get_data(as_text=True)


def test_someone_elses_session_cannot_be_revoked(app, make_account):
    victim, intruder = make_account(), make_account()
    victim_browser, victim_phone = login_as(app, victim.email), login_as(app, victim.email)
    victim_page = victim_browser.get("/account").get_data(as_text=True)
    victim_session = re.search(r'action="(/account/sessions/\d+/revoke)"', victim_page).group(1)
    intruder_browser = login_as(app, intruder.email)
    assert intruder_browser.post(victim_session, csrf_from="/account").status_code == 404
    assert intruder_browser.post("/account/sessions/99999999999/revoke", csrf_from="/account").status_code == 404
    assert victim_browser.get("/stores/new").status_code == 200
    assert victim_phone.get("/stores/new").status_code == 200


def test_an_idle_or_old_session_ends(app, make_account, monkeypatch):
    account = make_account()
    browser = login_as(app, account.email)
    monkeypatch.setitem(app.config, "SESSION_IDLE_TIMEOUT", 0)
    assert _refused_get(browser)
    monkeypatch.setitem(app.config, "SESSION_IDLE_TIMEOUT", 3600)
    fresh = login_as(app, account.email)
    monkeypatch.setitem(app.config, "SESSION_LIFETIME", 0)
    assert _refused_get(fresh)


def test_renaming_the_account(app, make_account):
    account = make_account()
    browser = login_as(app, account.email)
    assert browser.post("/account/name", {"name": "  Renamed   Merchant "}, csrf_from="/account").status_code == 302
    assert "Renamed Merchant" in browser.get("/account").get_data(as_text=True)
    refused = browser.post("/account/name", {"name": "   "}, csrf_from="/account")
    assert refused.status_code == 422 and "Your name is required" in refused.get_data(as_text=True)
    assert "Renamed Merchant" in browser.get("/account").get_data(as_text=True)


def test_a_removed_members_captured_cookie_gets_404s_writes_included(app, merchant, make_account):
    owner_browser, _, store = merchant
    helper = make_account(name="Helper")
    member = add_staff(app, owner_browser, store, helper)
    products = f"/dashboard/{store.handle}/products"
    token = member.csrf_token(products)
    thief = _replay(app, _captured(member))
    assert thief.get(products).status_code == 200

    removed = owner_browser.post(f"/dashboard/{store.handle}/staff/{helper.id}/delete",
                                 csrf_from=f"/dashboard/{store.handle}/staff")
    assert removed.status_code == 302
    for client in (member, thief):
        assert client.get(f"/dashboard/{store.handle}/").status_code == 404
        assert client.get(products).status_code == 404
        created = client.post(f"{products}/new", {"title": "Sneaky", "csrf_token": token})
        assert created.status_code == 404
    with app.app_context():
        assert db.session.get(Membership, (helper.id, store.id)) is None
