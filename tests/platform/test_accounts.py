"""Sign-up (with a confirmation link), log-in, log-out, password strength,
and what they refuse."""
import re
import uuid

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.platform.accounts import check_password_strength
from app.platform.models import EmailLink
from tenants.errors import DirectoryError
from tenants.models import Account
from tests.conftest import PASSWORD, Client
from tests.platform.helpers import address, last_mail, link_in, login_as, mails_to

STRONG = "quiet-meadow-lantern-41"


def _accounts(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Account.id)))


def _account(app, email: str) -> Account | None:
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.email == email))
        if account is not None:
            db.session.expunge(account)
        return account


def _email() -> str:
    return f"new-{uuid.uuid4().hex[:10]}@example.com"


def _signup(client: Client, ip: str | None = None, **fields):
    data = {"name": "Ada Merchant", "email": _email(), "password": STRONG, **fields}
    return client.post("/signup", data, csrf_from="/signup", environ_base={"REMOTE_ADDR": ip or address()})


def test_signup_mails_a_link_that_creates_the_account_and_logs_in(app, client):
    email = _email()
    answer = _signup(client, email=email.upper().replace("NEW", "New"))
    assert answer.status_code == 200 and "Check your inbox" in answer.get_data(as_text=True)
    assert _account(app, email) is None  # not before the link is followed

    link = link_in(last_mail(app, email), "/signup/confirm/")
    assert email in client.get(link).get_data(as_text=True)
    wrong = client.post(link, {"password": "not-what-i-chose"}, csrf_from=link)
    assert wrong.status_code == 422 and "not the password you chose" in wrong.get_data(as_text=True)
    assert _account(app, email) is None

    confirmed = client.post(link, {"password": STRONG}, csrf_from=link)
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/stores/new"
    assert client.get("/stores/new").status_code == 200
    account = _account(app, email)
    assert account.name == "Ada Merchant" and account.password_hash.startswith("scrypt:")
    assert STRONG not in account.password_hash
    assert client.get(link).status_code == 404  # single use
    assert Client(app.test_client()).post(link, {"password": STRONG}, csrf_from="/signup").status_code == 404


def test_signup_answers_the_same_for_an_email_that_has_an_account(app, client, make_account):
    existing = make_account(name="Already Here")
    before = _accounts(app)
    known = _signup(client, email=existing.email)
    new = _signup(client, email=_email())
    assert known.status_code == new.status_code == 200
    # Apart from the address itself and the CSRF tokens (signed with the time), the same page.
    strip = lambda response: re.sub(r'<strong>[^<]*</strong>|csrf_token[^>]*|"X-CSRFToken": "[^"]*"', "",
                                    response.get_data(as_text=True))
    assert strip(known) == strip(new)
    mail = last_mail(app, existing.email)
    assert "already have an account" in mail.get_content()
    assert "/login" in mail.get_content() and "/password/reset" in mail.get_content()
    assert _accounts(app) == before
    with app.app_context():  # no link to take the account over
        assert db.session.scalar(sa.select(sa.func.count(EmailLink.id))
                                 .where(EmailLink.email == existing.email)) == 0
    login_as(app, existing.email)  # the account is untouched


def test_an_expired_signup_link_is_refused(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNUP_LINK_TTL", 0)
    email = _email()
    _signup(client, email=email)
    link = link_in(last_mail(app, email), "/signup/confirm/")
    assert client.get(link).status_code == 404
    assert client.post(link, {"password": STRONG}, csrf_from="/signup").status_code == 404
    assert _account(app, email) is None


@pytest.mark.parametrize("token", ["nonsense", "A" * 43, "x" * 500])
def test_unknown_signup_links_are_404s(client, token):
    assert client.get(f"/signup/confirm/{token}").status_code == 404


@pytest.mark.parametrize("fields, message", [
    ({"email": "not-an-email"}, "valid email"),
    ({"email": "a@b"}, "valid email"),
    ({"email": "x" * 250 + "@example.com"}, "valid email"),
    ({"password": "short"}, "at least 10"),
    ({"password": "x" * 201}, "at most 200"),
    ({"password": "password12"}, "very common password"),
    ({"password": "aaaaaaaaaaaa"}, "Repeats like"),
    ({"email": "rosalindfranklin@example.com", "password": "rosalindfranklin1"}, "too easy to guess"),
    ({"name": "Grace Hopperton", "password": "gracehopperton99"}, "too easy to guess"),
    ({"name": ""}, "Your name is required"),
    ({"name": "x" * 121}, "at most 120"),
])
def test_bad_signups_are_refused_with_a_message_and_send_nothing(app, client, fields, message):
    email = fields.get("email", _email())
    before = _accounts(app)
    response = _signup(client, **{"email": email, **fields})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _accounts(app) == before
    assert mails_to(app, email) == []


def test_password_strength_uses_zxcvbn_with_the_persons_details():
    for fine in (PASSWORD, "window-shopping-2026", STRONG):
        check_password_strength(fine, email="someone@example.com", name="Some One")
    with pytest.raises(DirectoryError) as refused:
        check_password_strength("password12")
    assert "too easy to guess" in refused.value.message and "Add another word" in refused.value.message
    with pytest.raises(DirectoryError):
        check_password_strength("margaretsmith2", email="margaret.smith@example.com", name="Margaret Smith")


def test_signup_mails_are_limited_per_email_and_per_address(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_RATE_LIMIT", "2/3600")
    monkeypatch.setitem(app.config, "MAIL_ADDRESS_RATE_LIMIT", "3/3600")
    target = _email()
    for _ in range(2):
        assert _signup(client, email=target).status_code == 200
    bombed = _signup(client, email=target)
    assert bombed.status_code == 429 and int(bombed.headers["Retry-After"]) > 0
    assert "Too many emails" in bombed.get_data(as_text=True)
    assert len(mails_to(app, target)) == 2

    ip = address()
    for _ in range(3):
        assert _signup(client, ip=ip).status_code == 200
    refused = _signup(client, ip=ip)
    assert refused.status_code == 429


def test_login_logout_and_the_session_cookie(client, make_account):
    account = make_account()
    response = client.login(account.email)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/dashboard/").status_code == 302
    out = client.post("/logout", csrf_from="/stores/new")
    assert out.status_code == 302
    assert client.get("/stores/new").headers["Location"].startswith("/login")


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make_account):
    account = make_account()
    ip = address()
    wrong = client.post("/login", {"email": account.email, "password": "not-the-password"}, csrf_from="/login",
                        environ_base={"REMOTE_ADDR": ip})
    unknown = client.post("/login", {"email": "nobody@example.com", "password": PASSWORD}, csrf_from="/login",
                          environ_base={"REMOTE_ADDR": ip})
    assert wrong.status_code == unknown.status_code == 401
    message = "That email and password do not match an account."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_forms_without_a_csrf_token_are_refused(app, client):
    email = _email()
    response = client.flask.post("/signup", data={"name": "X", "email": email, "password": STRONG},
                                 headers={"Host": "localhost"})
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    assert mails_to(app, email) == []


def test_login_never_redirects_off_site(client, make_account):
    account = make_account()
    for target in ["https://evil.example.com/", "//evil.example.com/", "javascript:alert(1)", "/%5Cevil.example",
                   "/\\evil.example"]:
        response = client.post(f"/login?next={target}", {"email": account.email, "password": PASSWORD},
                               csrf_from="/login")
        assert response.status_code == 302
        location = response.headers["Location"]
        assert not re.match(r"^(https?:)?//", location) and "\\" not in location and "evil" not in location
