"""Staff invitations: consent by a mailed, expiring, single-use link; the
inviter never learns whether the email has an account."""
import re
import uuid

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.platform.models import Invitation
from tenants.models import Account, Membership
from tests.conftest import PASSWORD, Client
from tests.platform.helpers import add_staff, last_mail, link_in, login_as, mails_to

NEWCOMER_PASSWORD = "pebble-orchard-signal-52"


def _staff_page(store) -> str:
    return f"/dashboard/{store.handle}/staff"


def _invite(browser: Client, store, email: str, role: str = "staff"):
    return browser.post(_staff_page(store), {"email": email, "role": role}, csrf_from=_staff_page(store))


def _members(app, store) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Membership)
                                 .where(Membership.store_id == store.id))


def _role(app, store, email: str) -> str | None:
    with app.app_context():
        return db.session.scalar(sa.select(Membership.role).join(Account)
                                 .where(Membership.store_id == store.id, Account.email == email))


def _invitation_ids(browser: Client, store) -> list[str]:
    return re.findall(r"/staff/invitations/(\d+)/revoke", browser.get(_staff_page(store)).get_data(as_text=True))


def test_the_answer_is_the_same_whether_or_not_the_email_has_an_account(app, merchant, make_account):
    browser, _, store = merchant
    existing, newcomer = make_account().email, f"{uuid.uuid4().hex[:10]}@example.com"
    answers = []
    for email in (existing, newcomer):
        response = _invite(browser, store, email)
        assert response.status_code == 302 and response.headers["Location"] == _staff_page(store)
        page = browser.get(_staff_page(store)).get_data(as_text=True)
        assert f"Invitation sent to {email}." in page
        answers.append(response.get_data(as_text=True))
    assert answers[0] == answers[1]
    assert _role(app, store, existing) is None  # nobody joins without accepting
    assert {existing, newcomer} <= set(re.findall(r"<td>([^<]+@example\.com)</td>",
                                                  browser.get(_staff_page(store)).get_data(as_text=True)))


def test_an_existing_account_accepts_while_logged_in_as_the_invited_email(app, merchant, make_account):
    browser, _, store = merchant
    helper = make_account(name="Helper")
    _invite(browser, store, helper.email, role="admin")
    mail = last_mail(app, helper.email)
    assert "Test Store" in mail["Subject"] and "Log in to Vitrine as this address" in mail.get_content()
    link = link_in(mail, "/invitations/")

    stranger = Client(app.test_client())
    page = stranger.get(link).get_data(as_text=True)
    assert f"/login?next={link}" in page.replace("%2F", "/")
    assert _members(app, store) == 1

    someone_else = login_as(app, make_account().email)
    refused = someone_else.post(link, csrf_from="/stores/new")
    assert refused.status_code == 403 and helper.email in refused.get_data(as_text=True)
    assert _members(app, store) == 1

    member = login_as(app, helper.email)
    assert member.get(link).status_code == 200
    accepted = member.post(link, csrf_from=link)
    assert accepted.status_code == 302 and accepted.headers["Location"] == f"/dashboard/{store.handle}/"
    assert _role(app, store, helper.email) == "admin"
    assert member.get(f"/dashboard/{store.handle}/settings").status_code == 200
    assert member.get(link).status_code == 404  # single use
    assert "joined as admin" in browser.get(f"/dashboard/{store.handle}/").get_data(as_text=True)
    assert _invitation_ids(browser, store) == []


def test_a_newcomer_signs_up_from_the_link_and_lands_in_the_dashboard(app, merchant):
    browser, _, store = merchant
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    _invite(browser, store, email)
    mail = last_mail(app, email)
    assert "create your Vitrine account from the link" in mail.get_content()
    link = link_in(mail, "/invitations/")
    newcomer = Client(app.test_client())
    assert "Create account and join" in newcomer.get(link).get_data(as_text=True)

    weak = newcomer.post(link, {"name": "New Person", "password": "password12"}, csrf_from=link)
    assert weak.status_code == 422 and "too easy to guess" in weak.get_data(as_text=True)
    assert _role(app, store, email) is None

    joined = newcomer.post(link, {"name": "New Person", "password": NEWCOMER_PASSWORD}, csrf_from=link)
    assert joined.status_code == 302 and joined.headers["Location"] == f"/dashboard/{store.handle}/"
    assert _role(app, store, email) == "staff"
    assert newcomer.get(f"/dashboard/{store.handle}/").status_code == 200
    assert newcomer.get(f"/dashboard/{store.handle}/staff").status_code == 403  # staff do not manage staff
    login_as(app, email, NEWCOMER_PASSWORD)
    assert Client(app.test_client()).get(link).status_code == 404


def test_an_expired_invitation_is_refused(app, merchant):
    browser, _, store = merchant
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    _invite(browser, store, email)
    link = link_in(last_mail(app, email), "/invitations/")
    with app.app_context():  # a week and a bit later
        db.session.execute(sa.update(Invitation).where(Invitation.email == email)
                           .values(expires_at=sa.func.now() - sa.text("interval '1 minute'")))
        db.session.commit()
    newcomer = Client(app.test_client())
    assert newcomer.get(link).status_code == 404
    assert newcomer.post(link, {"name": "Late", "password": NEWCOMER_PASSWORD}, csrf_from="/login").status_code == 404
    assert _role(app, store, email) is None
    assert "expired" in browser.get(_staff_page(store)).get_data(as_text=True)


def test_invitations_last_a_week(app, merchant):
    browser, _, store = merchant
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    _invite(browser, store, email)
    with app.app_context():
        lifetime = db.session.scalar(sa.select(sa.func.extract("epoch", Invitation.expires_at - Invitation.created_at))
                                     .where(Invitation.email == email))
    assert abs(float(lifetime) - 7 * 86400) < 60


def test_resend_replaces_the_link_and_revoke_ends_it(app, merchant):
    browser, _, store = merchant
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    _invite(browser, store, email)
    first = link_in(last_mail(app, email), "/invitations/")
    [invitation_id] = _invitation_ids(browser, store)
    resent = browser.post(f"{_staff_page(store)}/invitations/{invitation_id}/resend", csrf_from=_staff_page(store))
    assert resent.status_code == 302
    second = link_in(last_mail(app, email), "/invitations/")
    assert len(mails_to(app, email)) == 2 and first != second
    assert browser.get(first).status_code == 404 and Client(app.test_client()).get(second).status_code == 200

    revoked = browser.post(f"{_staff_page(store)}/invitations/{invitation_id}/revoke", csrf_from=_staff_page(store))
    assert revoked.status_code == 302
    assert Client(app.test_client()).get(second).status_code == 404
    assert _invitation_ids(browser, store) == []
    again = browser.post(f"{_staff_page(store)}/invitations/{invitation_id}/revoke", csrf_from=_staff_page(store))
    assert again.status_code == 404


def test_pending_invitations_are_capped_per_store(app, merchant, monkeypatch):
    monkeypatch.setitem(app.config, "INVITATION_PENDING_LIMIT", 2)
    browser, _, store = merchant
    for _ in range(2):
        assert _invite(browser, store, f"{uuid.uuid4().hex[:10]}@example.com").status_code == 302
    refused = _invite(browser, store, f"{uuid.uuid4().hex[:10]}@example.com")
    assert refused.status_code == 422 and "2 pending invitations" in refused.get_data(as_text=True)
    assert len(_invitation_ids(browser, store)) == 2


@pytest.mark.parametrize("data, message", [
    ({"email": "not an email", "role": "staff"}, "valid email"),
    ({"email": "someone@example.com", "role": "owner"}, "admin or staff"),
    ({"email": "someone@example.com", "role": ""}, "admin or staff"),
])
def test_bad_invitations_are_refused_and_send_nothing(app, merchant, data, message):
    browser, _, store = merchant
    response = browser.post(_staff_page(store), data, csrf_from=_staff_page(store))
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _invitation_ids(browser, store) == []


def test_people_already_on_the_staff_are_not_invited(app, merchant):
    browser, owner, store = merchant
    response = _invite(browser, store, owner.email.upper())
    assert response.status_code == 422 and "already on this store" in response.get_data(as_text=True)
    assert mails_to(app, owner.email) == []


def test_staff_can_neither_invite_nor_resend_nor_revoke(app, merchant, make_account):
    browser, _, store = merchant
    member = add_staff(app, browser, store, make_account())
    _invite(browser, store, "pending@example.com")
    [invitation_id] = _invitation_ids(browser, store)
    token = member.csrf_token(f"/dashboard/{store.handle}/")
    refused = member.post(_staff_page(store), {"email": "friend@example.com", "role": "staff", "csrf_token": token})
    assert refused.status_code == 403
    for action in ("resend", "revoke"):
        response = member.post(f"{_staff_page(store)}/invitations/{invitation_id}/{action}", {"csrf_token": token})
        assert response.status_code == 403
    assert _invitation_ids(browser, store) == [invitation_id]


def test_another_stores_invitation_cannot_be_touched(app, merchant, make_account, make_store):
    browser, _, store = merchant
    rival = make_account()
    rival_store = make_store(owner=rival)
    rival_browser = login_as(app, rival.email)
    _invite(rival_browser, rival_store, "theirs@example.com")
    [theirs] = _invitation_ids(rival_browser, rival_store)
    for action in ("resend", "revoke"):
        assert browser.post(f"{_staff_page(store)}/invitations/{theirs}/{action}",
                            csrf_from=_staff_page(store)).status_code == 404
    assert _invitation_ids(rival_browser, rival_store) == [theirs]


def test_invitation_mails_are_limited_per_email(app, merchant, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_RATE_LIMIT", "2/3600")
    browser, _, store = merchant
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    assert _invite(browser, store, email).status_code == 302
    assert _invite(browser, store, email).status_code == 302  # sent anew, same invitation
    refused = _invite(browser, store, email)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert len(mails_to(app, email)) == 2 and len(_invitation_ids(browser, store)) == 1


def test_a_member_who_signs_up_elsewhere_meanwhile_still_accepts_by_logging_in(app, merchant, make_account):
    browser, _, store = merchant
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    _invite(browser, store, email)
    link = link_in(last_mail(app, email), "/invitations/")
    with app.app_context():
        from app.platform.accounts import create_account

        create_account(email=email, name="Quick Signer", password=PASSWORD)
        db.session.remove()
    refused = Client(app.test_client()).post(link, {"name": "Quick", "password": NEWCOMER_PASSWORD},
                                             csrf_from="/login")
    assert refused.status_code == 409 and "Log in as" in refused.get_data(as_text=True)
    member = login_as(app, email)
    assert member.post(link, csrf_from=link).status_code == 302
    assert _role(app, store, email) == "staff"
