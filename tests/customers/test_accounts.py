"""Customer accounts on the storefront: register, log in and out, password
reset by mail, the account pages; bad input refused with nothing changed."""
from __future__ import annotations

import uuid

import pytest

from tests.conftest import Client
from tests.customers.helpers import (OTHER_SECRET, browser, log_in, make_shop, register, rows, shopper,
                                     store_mail, store_mails)
from tests.platform.helpers import link_in


@pytest.fixture
def shop(app, make_store):
    return make_shop(app, make_store)


def email() -> str:
    return f"ada-{uuid.uuid4().hex[:8]}@example.com"


def customers(app, shop, address: str) -> list:
    return rows(app, shop, "SELECT id, name, password_hash, session_version FROM customers WHERE email = :e",
                e=address)


def test_register_logs_in_and_shows_the_account(app, shop):
    address = email()
    client = browser(app, shop)
    response = register(client, address.upper(), name="Ada Lovelace")
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    page = client.get("/account")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Ada Lovelace" in body and address in body
    assert page.headers["Cache-Control"] == "private, no-store"
    assert len(customers(app, shop, address)) == 1  # kept lowercased
    home = client.get(f"/products/{shop.handles['Linen Tee']}").get_data(as_text=True)
    assert 'href="/account">Account</a>' in home


def test_log_out_then_log_in_again(app, shop):
    address = email()
    client = shopper(app, shop, address)
    out = client.post("/account/logout", csrf_from="/account")
    assert out.status_code == 303
    assert client.get("/account").status_code == 303
    wrong = log_in(client, address, "not-the-password-at-all")
    assert wrong.status_code == 401 and "do not match an account" in wrong.get_data(as_text=True)
    unknown = log_in(client, email())
    assert unknown.status_code == 401 and "do not match an account" in unknown.get_data(as_text=True)
    right = log_in(client, address, next="/account/wishlist")
    assert right.status_code == 303 and right.headers["Location"] == "/account/wishlist"


def test_account_pages_send_visitors_to_log_in_and_back(app, shop):
    client = browser(app, shop)
    for path in ("/account", "/account/orders", "/account/addresses", "/account/wishlist"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["Location"] == f"/account/login?next={path}"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x",
                                    "account"])
def test_log_in_never_redirects_off_site(app, shop, target):
    address = email()
    client = shopper(app, shop, address)
    client.post("/account/logout", csrf_from="/account")
    response = log_in(client, address, next=target)
    assert response.status_code == 303 and response.headers["Location"] == "/account"


def test_the_session_changes_at_log_in(app, shop):
    """Session fixation: whatever the session held before log-in (a planted
    cookie's CSRF token, say) is gone after it."""
    address = email()
    client = shopper(app, shop, address)
    client.post("/account/logout", csrf_from="/account")
    before = client.csrf_token("/account/login")
    response = log_in(client, address)
    assert response.status_code == 303
    after = client.csrf_token("/account")
    assert after != before
    stale = client.post("/account/logout", {"csrf_token": before})
    assert stale.status_code == 400  # the old session's token died with it


def test_order_history_is_empty_for_now(app, shop):
    client = shopper(app, shop, email())
    page = client.get("/account/orders")
    assert page.status_code == 200 and "No orders yet" in page.get_data(as_text=True)


@pytest.mark.parametrize("fields, field, message", [
    ({"email": ""}, "email", "Email is required"),
    ({"email": "not-an-email"}, "email", "valid email"),
    ({"name": ""}, "name", "Your name is required"),
    ({"name": "x" * 500}, "name", "at most 120"),
    ({"password": "short"}, "password", "at least 10"),
    ({"password": "password123"}, "password", "too easy to guess"),
    ({"password": "y" * 5000}, "password", "at most 200"),
    ({"email": "a" * 300 + "@example.com"}, "email", "at most 254"),
])
def test_bad_registrations_are_refused_with_the_reason_and_change_nothing(app, shop, fields, field, message):
    client = browser(app, shop)
    fields = {"email": email(), "name": "Ada Shopper", **fields}
    response = register(client, fields.pop("email"), **fields)
    body = response.get_data(as_text=True)
    assert response.status_code == 422, body[:500]
    assert message in body
    assert f'id="error-{field}"' in body and 'class="form-errors"' in body
    if field != "name":
        assert 'value="Ada Shopper"' in body  # what was typed stays
    assert rows(app, shop, "SELECT count(*) FROM customers")[0][0] == 0


def test_a_nul_byte_is_refused_and_changes_nothing(app, shop):
    client = browser(app, shop)
    response = register(client, email(), name="Ada\x00")
    assert response.status_code == 400
    assert rows(app, shop, "SELECT count(*) FROM customers")[0][0] == 0


def test_a_taken_email_says_log_in_or_reset(app, shop):
    address = email()
    shopper(app, shop, address)
    again = register(browser(app, shop), address, name="Someone Else", password=OTHER_SECRET)
    body = again.get_data(as_text=True)
    assert again.status_code == 409 and "already exists" in body and "/account/reset" in body
    assert [row.name for row in customers(app, shop, address)] == ["Ada Shopper"]


def test_the_same_email_is_a_separate_account_at_another_store(app, make_store, shop):
    other = make_shop(app, make_store)
    address = email()
    shopper(app, shop, address)
    assert register(browser(app, other), address).status_code == 303


def test_password_reset_by_mail(app, shop):
    address = email()
    client = shopper(app, shop, address)
    elsewhere = browser(app, shop)
    assert log_in(elsewhere, address).status_code == 303
    asked = browser(app, shop).post("/account/reset", {"email": address}, csrf_from="/account/reset")
    assert asked.status_code == 200 and "If an account exists" in asked.get_data(as_text=True)
    mail = store_mail(app, shop, address)
    assert f"http://{shop.host}/account/reset/" in mail.get_content()
    link = link_in(mail, "/account/reset/")
    visitor = browser(app, shop)
    assert visitor.get(link).status_code == 200
    weak = visitor.post(link, {"password": "password"}, csrf_from=link)
    assert weak.status_code == 422 and "at least 10" in weak.get_data(as_text=True)
    done = visitor.post(link, {"password": OTHER_SECRET}, csrf_from=link)
    assert done.status_code == 303 and visitor.get("/account").status_code == 200
    # every earlier session has ended, the old password is gone, the link is used up
    assert client.get("/account").status_code == 303 and elsewhere.get("/account").status_code == 303
    assert log_in(browser(app, shop), address).status_code == 401
    assert log_in(browser(app, shop), address, OTHER_SECRET).status_code == 303
    again = browser(app, shop)
    used = again.get(link)
    assert used.status_code == 404 and "expired or was already used" in used.get_data(as_text=True)
    assert again.post(link, {"password": "another-lengthy-secret-88"}, csrf_from="/account/reset").status_code == 404


def test_a_reset_for_an_unknown_email_answers_the_same_and_mails_nothing(app, shop):
    nobody = email()
    answer = browser(app, shop).post("/account/reset", {"email": nobody}, csrf_from="/account/reset")
    assert answer.status_code == 200 and "If an account exists" in answer.get_data(as_text=True)
    assert store_mails(app, shop, nobody) == []


def test_a_bad_reset_email_is_a_422(app, shop):
    answer = browser(app, shop).post("/account/reset", {"email": "nope"}, csrf_from="/account/reset")
    assert answer.status_code == 422 and "valid email" in answer.get_data(as_text=True)


def test_reset_requests_are_rate_limited_per_email(app, shop):
    address = email()
    shopper(app, shop, address)
    limit = int(app.config["MAIL_RATE_LIMIT"].split("/")[0])
    answers = [Client(app.test_client(), host=shop.host).post("/account/reset", {"email": address},
                                                               csrf_from="/account/reset").status_code
               for _ in range(limit + 1)]
    assert answers == [200] * limit + [429]
    assert len(store_mails(app, shop, address)) == limit


def test_log_in_is_rate_limited(app, shop):
    address = email()
    client = shopper(app, shop, address)
    client.post("/account/logout", csrf_from="/account")
    limit = int(app.config["LOGIN_RATE_LIMIT"].split("/")[0])
    answers = [log_in(client, address, "wrong-password-guess").status_code for _ in range(limit + 1)]
    assert answers == [401] * limit + [429]
    refused = log_in(client, address)  # even the right password waits now
    assert refused.status_code == 429 and "Retry-After" in refused.headers


def test_registrations_are_rate_limited_per_client_address(app, shop):
    client = browser(app, shop)
    limit = int(app.config.get("REGISTER_RATE_LIMIT", "30/3600").split("/")[0])
    answers = [register(client, "not-an-email").status_code for _ in range(limit)]
    assert answers == [422] * limit
    refused = register(client, email())
    assert refused.status_code == 429 and "Too many attempts" in refused.get_data(as_text=True)
    assert rows(app, shop, "SELECT count(*) FROM customers")[0][0] == 0
