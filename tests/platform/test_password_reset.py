"""Password reset: the same answer for any email, a single-use link that
expires, a strong new password, and every session ended."""
import sqlalchemy as sa

from app.extensions import db
from app.platform.models import EmailLink
from tests.conftest import PASSWORD, Client
from tests.platform.helpers import address, last_mail, link_in, login_as, mails_to

NEW_PASSWORD = "harbor-violet-compass-73"


def _ask(client: Client, email: str, ip: str | None = None):
    return client.post("/password/reset", {"email": email}, csrf_from="/password/reset",
                       environ_base={"REMOTE_ADDR": ip or address()})


def _login_status(app, email: str, password: str) -> int:
    return Client(app.test_client()).post("/login", {"email": email, "password": password}, csrf_from="/login",
                                          environ_base={"REMOTE_ADDR": address()}).status_code


def test_any_email_gets_the_same_answer_and_only_accounts_get_a_link(app, client, make_account):
    account = make_account()
    known, unknown = _ask(client, account.email), _ask(client, "nobody-here@example.com")
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True).replace(account.email, "X") == \
        unknown.get_data(as_text=True).replace("nobody-here@example.com", "X")
    assert mails_to(app, "nobody-here@example.com") == []
    assert "/password/reset/" in last_mail(app, account.email).get_content()


def test_the_link_sets_a_new_password_once_and_ends_every_session(app, client, make_account):
    account = make_account()
    elsewhere = login_as(app, account.email)
    _ask(client, account.email)
    link = link_in(last_mail(app, account.email), "/password/reset/")
    assert account.email in client.get(link).get_data(as_text=True)

    weak = client.post(link, {"new_password": "password12"}, csrf_from=link)
    assert weak.status_code == 422 and "too easy to guess" in weak.get_data(as_text=True)
    assert elsewhere.get("/stores/new").status_code == 200  # nothing changed yet

    done = client.post(link, {"new_password": NEW_PASSWORD}, csrf_from=link)
    assert done.status_code == 302
    assert client.get("/stores/new").status_code == 200  # the browser that reset it is logged in
    assert elsewhere.get("/stores/new").headers["Location"].startswith("/login")
    assert _login_status(app, account.email, PASSWORD) == 401
    assert _login_status(app, account.email, NEW_PASSWORD) == 302
    assert client.get(link).status_code == 404
    assert Client(app.test_client()).post(link, {"new_password": "another-fine-phrase-99"},
                                          csrf_from="/login").status_code == 404


def test_a_reset_link_expires(app, client, make_account, monkeypatch):
    account = make_account()
    _ask(client, account.email)
    link = link_in(last_mail(app, account.email), "/password/reset/")
    with app.app_context():  # an hour and a bit later
        db.session.execute(sa.update(EmailLink).where(EmailLink.email == account.email)
                           .values(expires_at=sa.func.now() - sa.text("interval '1 minute'")))
        db.session.commit()
    assert client.get(link).status_code == 404
    assert client.post(link, {"new_password": NEW_PASSWORD}, csrf_from="/password/reset").status_code == 404
    assert _login_status(app, account.email, PASSWORD) == 302


def test_the_link_lasts_an_hour_by_default(app, client, make_account):
    account = make_account()
    _ask(client, account.email)
    last_mail(app, account.email)
    with app.app_context():
        lifetime = db.session.scalar(sa.select(sa.func.extract("epoch", EmailLink.expires_at - EmailLink.created_at))
                                     .where(EmailLink.email == account.email))
    assert 3590 <= float(lifetime) <= 3610


def test_changing_the_password_retires_open_reset_links(app, client, make_account):
    account = make_account()
    _ask(client, account.email)
    link = link_in(last_mail(app, account.email), "/password/reset/")
    browser = login_as(app, account.email)
    assert browser.post("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                        csrf_from="/account").status_code == 302
    assert client.get(link).status_code == 404


def test_reset_requests_are_limited_and_bad_emails_refused(app, client, make_account, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_RATE_LIMIT", "2/3600")
    account = make_account()
    assert [_ask(client, account.email).status_code for _ in range(3)] == [200, 200, 429]
    assert len(mails_to(app, account.email)) == 2
    bad = _ask(client, "not an email")
    assert bad.status_code == 422 and "valid email" in bad.get_data(as_text=True)
