"""Helpers for tests of accounts, sessions and invitations: client
addresses, the platform's mails (read from the .eml files it writes), and
an invited staff member."""
from __future__ import annotations

import email
import email.policy
import re
import time
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

from tests.conftest import PASSWORD, Client, client_address as address

PASSPHRASE = "a-long-passphrase-2026"  # for sign-ups in the browser


def poll(fn, until, *, deadline: float, wait=lambda result: 0.2):
    """Call fn() until until(result) holds or `deadline` seconds pass; `wait`
    says how long to wait between calls (e.g. a Retry-After)."""
    end = time.monotonic() + deadline
    while True:
        result = fn()
        if until(result) or time.monotonic() > end:
            return result
        time.sleep(min(wait(result), max(0.0, end - time.monotonic())))


def run_platform_mail(app) -> int:
    """Hand the platform outbox's notification rows to their handlers, in-process."""
    from app.effects.dispatch import drain
    from app.effects.models import PlatformOutbox
    from app.extensions import db

    with app.app_context():
        try:
            return drain(PlatformOutbox, "notifications", None)
        finally:
            db.session.remove()


def mails_to(app, recipient: str) -> list[EmailMessage]:
    """Every mail sent to `recipient` so far (oldest first), after running the outbox."""
    run_platform_mail(app)
    found = []
    for path in Path(app.config["VAR_DIR"], "mail").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == recipient:
            found.append((path.stat().st_mtime_ns, message))  # file names only go to the second
    return [message for _, message in sorted(found, key=lambda each: each[0])]


def last_mail(app, recipient: str) -> EmailMessage:
    mails = mails_to(app, recipient)
    assert mails, f"no mail to {recipient}"
    return mails[-1]


def link_in(message: EmailMessage, prefix: str) -> str:
    """The path of the first link in a mail whose path starts with `prefix`."""
    body = message.get_content()
    for url in re.findall(r"https?://\S+", body):
        path = urlsplit(url).path
        if path.startswith(prefix):
            return path
    raise AssertionError(f"no {prefix} link in:\n{body}")


def login_as(app, email_address: str, password: str = PASSWORD, ip: str | None = None) -> Client:
    client = Client(app.test_client())
    response = client.post("/login", {"email": email_address, "password": password}, csrf_from="/login",
                           environ_base={"REMOTE_ADDR": ip or address()})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def add_staff(app, owner: Client, store, account, role: str = "staff", password: str = PASSWORD) -> Client:
    """Invite `account` to `store` from the owner's browser and accept as
    them; returns the new member's logged-in client."""
    staff_page = f"/dashboard/{store.handle}/staff"
    invited = owner.post(staff_page, {"email": account.email, "role": role}, csrf_from=staff_page)
    assert invited.status_code == 302, invited.get_data(as_text=True)
    link = link_in(last_mail(app, account.email), "/invitations/")
    member = login_as(app, account.email, password)
    accepted = member.post(link, csrf_from=link)
    assert accepted.status_code == 302, accepted.get_data(as_text=True)
    return member


def sign_up(app, page, port: int, name: str, email: str, password: str = PASSPHRASE) -> None:
    """In the browser (Playwright): sign up, then follow the confirmation
    link from the mail; the page ends on "Create a store"."""
    from playwright.sync_api import expect

    page.goto(f"http://localhost:{port}/signup")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    page.goto(f"http://localhost:{port}{link_in(last_mail(app, email), '/signup/confirm/')}")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Confirm account").click()
    expect(page.get_by_role("heading", name="Create a store")).to_be_visible()
