"""Sign-up, log-in, log-out, and what they refuse."""
import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from tenants.models import Account
from tests.conftest import PASSWORD, Client


def _accounts(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Account.id)))


def _signup(client: Client, **fields):
    data = {"name": "Ada Merchant", "email": "ada@example.com", "password": PASSWORD, **fields}
    return client.post("/signup", data, csrf_from="/signup")


def test_signup_logs_in_and_leads_to_store_creation(app, client):
    response = _signup(client, email="Ada.New@Example.com")
    assert response.status_code == 302 and response.headers["Location"] == "/stores/new"
    assert client.get("/stores/new").status_code == 200
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.email == "ada.new@example.com"))
        assert account is not None and account.password_hash.startswith("scrypt:")
        assert PASSWORD not in account.password_hash


@pytest.mark.parametrize("fields, message", [
    ({"email": "not-an-email"}, "valid email"),
    ({"email": "a@b"}, "valid email"),
    ({"email": "x" * 250 + "@example.com"}, "valid email"),
    ({"password": "short"}, "at least 10"),
    ({"password": "password123"}, "too easy"),
    ({"password": "aaaaaaaaaaaa"}, "too easy"),
    ({"email": "rosalind@example.com", "password": "rosalind-2026!"}, "email address in your password"),
    ({"name": ""}, "your name"),
])
def test_bad_signups_are_refused_with_a_message_and_create_nothing(app, client, fields, message):
    before = _accounts(app)
    response = _signup(client, **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _accounts(app) == before


def test_duplicate_email_is_refused(app, client, make_account):
    existing = make_account()
    before = _accounts(app)
    response = _signup(client, email=existing.email.upper())
    assert response.status_code == 422 and "already exists" in response.get_data(as_text=True)
    assert _accounts(app) == before


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
    wrong = client.post("/login", {"email": account.email, "password": "not-the-password"}, csrf_from="/login")
    unknown = client.post("/login", {"email": "nobody@example.com", "password": PASSWORD}, csrf_from="/login")
    assert wrong.status_code == unknown.status_code == 401
    message = "That email and password do not match an account."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_login_is_rate_limited_per_email(app, make_account):
    account = make_account()
    client = Client(app.test_client())
    for _ in range(10):
        assert client.post("/login", {"email": account.email, "password": "wrong-password!"},
                           csrf_from="/login").status_code == 401
    limited = client.post("/login", {"email": account.email, "password": PASSWORD}, csrf_from="/login")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "Too many attempts" in limited.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 302  # still not logged in
    assert client.get("/dashboard/").headers["Location"].startswith("/login")


def test_forms_without_a_csrf_token_are_refused(app, client):
    before = _accounts(app)
    response = client.flask.post("/signup", data={"name": "X", "email": "csrf@example.com", "password": PASSWORD},
                                 headers={"Host": "localhost"})
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    assert _accounts(app) == before


def test_login_never_redirects_off_site(client, make_account):
    account = make_account()
    for target in ["https://evil.example.com/", "//evil.example.com/", "javascript:alert(1)", "/%5Cevil.example",
                   "/\\evil.example"]:
        response = client.post(f"/login?next={target}", {"email": account.email, "password": PASSWORD},
                               csrf_from="/login")
        assert response.status_code == 302
        location = response.headers["Location"]
        assert not re.match(r"^(https?:)?//", location) and "\\" not in location and "evil" not in location
