"""Custom domains proven by DNS, against a real DNS server on 127.0.0.1.

A domain is added pending; a check (after it is added, on "Check now", and
periodically) looks for the TXT challenge or a CNAME to the store's own
address, and only a verified domain serves the store.
"""
from datetime import timedelta, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app.effects.dispatch import drain
from app.effects.models import PlatformOutbox
from app.extensions import db
from app.jobs import rq_connection
from app.scheduler import build_scheduler
from tenants.domain_jobs import GIVE_UP_AFTER, OFFLINE_AFTER, check_domain, due_domains, recheck_domains
from tenants.domains import validate_domain
from tenants.errors import DirectoryError, DirectoryErrorCode
from tenants.models import Domain, Membership
from tenants.provisioning import validate_handle
from tests.conftest import Client, flask_cli, unique_handle
from tests.tenants.dns_server import DnsServer


@pytest.fixture
def dns(app, monkeypatch):
    """The loopback DNS server, as the app's only resolver."""
    with DnsServer() as server:
        monkeypatch.setitem(app.config, "DNS_RESOLVERS", [server.address])
        monkeypatch.setitem(app.config, "DNS_TIMEOUT", 1.0)
        yield server


def add(browser, store, hostname: str):
    path = f"/dashboard/{store.handle}/domains"
    return browser.post(path, {"hostname": hostname}, csrf_from=path)


def new_host() -> str:
    return f"{unique_handle('shop-')}.example.com"


def domain(app, hostname: str) -> SimpleNamespace:
    with app.app_context():
        row = db.session.scalar(sa.select(Domain).where(Domain.hostname == hostname))
        found = SimpleNamespace(**{c.name: getattr(row, c.name) for c in Domain.__table__.columns})
        db.session.remove()
        return found


def run_checks(app) -> int:
    """What the platform's dispatch job does after a commit, in-process."""
    with app.app_context():
        handled = drain(PlatformOutbox, "default", None)
        db.session.remove()
        return handled


def prove_with_txt(dns, app, hostname: str) -> None:
    dns.set(f"_vitrine-challenge.{hostname}", "TXT", f"vitrine-verification={domain(app, hostname).verification_token}")


def age(app, hostname: str, **since) -> None:
    """Let time pass for a domain: its last check (and, with created=…, its creation) moves back."""
    created = since.pop("created", None)
    values = {"checked_at": Domain.checked_at - timedelta(**since)}
    if created is not None:
        values["created_at"] = Domain.created_at - created
    with app.app_context():
        db.session.execute(sa.update(Domain).where(Domain.hostname == hostname).values(**values))
        db.session.commit()


def serves(browser, hostname: str) -> bool:
    page = browser.get("/", host=hostname)
    assert page.status_code in (200, 404), page.status_code
    return page.status_code == 200 and "Test Store" in page.get_data(as_text=True)


def test_a_txt_record_proves_a_domain_and_only_then_it_serves_the_store(app, merchant, dns):
    browser, _, store = merchant
    host = new_host()
    assert add(browser, store, host).status_code == 302
    assert domain(app, host).status == "pending"
    assert not serves(browser, host)

    prove_with_txt(dns, app, host)
    assert run_checks(app) >= 1
    found = domain(app, host)
    assert (found.status, found.failed_checks, found.last_error) == ("verified", 0, "")
    assert found.verified_at is not None and found.checked_at is not None
    assert dns.asked(f"_vitrine-challenge.{host}", "TXT") == 1
    assert serves(browser, host)


def test_a_cname_to_the_stores_own_address_proves_a_domain(app, merchant, dns):
    browser, _, store = merchant
    host = new_host()
    dns.set(host, "CNAME", f"{store.handle}.localhost")
    assert add(browser, store, host).status_code == 302
    run_checks(app)
    assert domain(app, host).status == "verified"
    assert serves(browser, host)


def test_a_wrong_token_or_a_cname_to_another_store_proves_nothing(app, merchant, make_store, dns):
    browser, _, store = merchant
    other = make_store()
    host = new_host()
    dns.set(f"_vitrine-challenge.{host}", "TXT", "vitrine-verification=0123456789abcdef0123456789abcdef")
    dns.set(host, "CNAME", f"{other.handle}.localhost")
    add(browser, store, host)
    run_checks(app)
    found = domain(app, host)
    assert (found.status, found.failed_checks) == ("pending", 1)
    assert f"not vitrine-verification={found.verification_token}" in found.last_error
    assert f"CNAME for {other.handle}.localhost, not for {store.handle}.localhost" in found.last_error
    assert not serves(browser, host)


def test_a_name_that_does_not_exist_stays_pending_and_says_why(app, merchant, dns):
    browser, _, store = merchant
    host = new_host()
    add(browser, store, host)
    run_checks(app)
    found = domain(app, host)
    assert (found.status, found.failed_checks) == ("pending", 1)
    assert found.last_error == (f"There is no TXT record at _vitrine-challenge.{host}; "
                                f"{host} does not exist in DNS.")
    page = browser.get(f"/dashboard/{store.handle}/domains").get_data(as_text=True)
    assert found.last_error in page and "Pending" in page


def test_a_dns_server_that_does_not_answer_proves_nothing_and_counts_no_failure(app, merchant, dns, monkeypatch):
    monkeypatch.setitem(app.config, "DNS_TIMEOUT", 0.3)
    browser, _, store = merchant
    host = new_host()
    dns.silent.update({host, f"_vitrine-challenge.{host}"})
    add(browser, store, host)
    run_checks(app)
    found = domain(app, host)
    assert (found.status, found.failed_checks) == ("pending", 0)
    assert found.checked_at is not None and "did not answer" in found.last_error

    # A verified domain is not taken offline by DNS servers that stay silent.
    dns.silent.clear()
    prove_with_txt(dns, app, host)
    with app.app_context():
        check_domain(found.id)
        db.session.commit()
        dns.silent.update({host, f"_vitrine-challenge.{host}"})
        for _ in range(OFFLINE_AFTER + 1):
            check_domain(found.id)
            db.session.commit()
        db.session.remove()
    found = domain(app, host)
    assert (found.status, found.failed_checks) == ("verified", 0)
    assert serves(browser, host)


def test_a_domain_goes_live_through_a_real_worker(app, merchant, dns, service_env):
    browser, _, store = merchant
    host = new_host()
    dns.set(host, "CNAME", f"{store.handle}.localhost.")
    assert add(browser, store, host).status_code == 302
    flask_cli({**service_env, "DNS_RESOLVERS": dns.address, "DNS_TIMEOUT": "1"},
              "worker", "--burst", "--queue", "default")
    assert domain(app, host).status == "verified"
    assert serves(browser, host)


def test_check_now_looks_again_at_once(app, merchant, dns):
    browser, _, store = merchant
    host = new_host()
    add(browser, store, host)
    run_checks(app)
    found = domain(app, host)
    assert found.status == "pending"

    prove_with_txt(dns, app, host)
    path = f"/dashboard/{store.handle}/domains"
    for _ in range(2):  # a second press while the check waits adds nothing
        assert browser.post(f"{path}/{found.id}/check", csrf_from=path).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PlatformOutbox).where(
            PlatformOutbox.payload.contains({"domain_id": found.id}))) == 1
        db.session.remove()
    assert run_checks(app) >= 1
    assert domain(app, host).status == "verified"
    page = browser.get(path).get_data(as_text=True)
    assert "Verified · live" in page and "Last check:" not in page


def test_the_domains_page_gives_the_exact_records_and_the_last_check(app, merchant, dns):
    browser, _, store = merchant
    host = new_host()
    add(browser, store, host)
    path = f"/dashboard/{store.handle}/domains"
    token = domain(app, host).verification_token
    page = browser.get(path).get_data(as_text=True)
    assert "Not yet" in page
    for text in ("<td>TXT</td>", f"<code>_vitrine-challenge.{host}</code>", f"<code>vitrine-verification={token}</code>",
                 "<td>CNAME</td>", f"<code>{host}</code>", f"<code>{store.handle}.localhost</code>"):
        assert text in page, text

    run_checks(app)
    checked_at = domain(app, host).checked_at
    page = browser.get(path).get_data(as_text=True)
    assert checked_at.astimezone(timezone.utc).strftime("%d %b %Y, %H:%M UTC") in page
    assert f"Last check: There is no TXT record at _vitrine-challenge.{host}" in page


def test_a_verified_domain_goes_offline_after_repeated_failed_rechecks_and_comes_back(app, merchant, dns):
    browser, _, store = merchant
    host = new_host()
    add(browser, store, host)
    prove_with_txt(dns, app, host)
    run_checks(app)
    assert serves(browser, host)

    dns.set(f"_vitrine-challenge.{host}", "TXT")  # the merchant's record is gone
    with app.app_context():
        assert domain(app, host).id not in due_domains()  # checked just now: not due again for a day
    statuses = []
    for _ in range(OFFLINE_AFTER):
        age(app, host, days=1, minutes=1)
        with app.app_context():
            recheck_domains()
            db.session.remove()
        found = domain(app, host)
        statuses.append((found.status, found.failed_checks))
        if found.status == "verified":
            assert serves(browser, host)
    assert statuses == [("verified", 1), ("verified", 2), ("failed", 3)]
    assert f"Offline after {OFFLINE_AFTER} failed checks in a row" in found.last_error
    assert not serves(browser, host)

    prove_with_txt(dns, app, host)
    age(app, host, days=1, minutes=1)
    with app.app_context():
        recheck_domains()
        db.session.remove()
    assert domain(app, host).status == "verified"
    assert serves(browser, host)


def test_a_pending_domain_is_rechecked_every_few_minutes_and_fails_after_a_week(app, merchant, dns):
    browser, _, store = merchant
    host = new_host()
    add(browser, store, host)
    run_checks(app)
    domain_id = domain(app, host).id
    with app.app_context():
        assert domain_id not in due_domains()
    age(app, host, minutes=6)
    with app.app_context():
        assert domain_id in due_domains()

    age(app, host, minutes=0, created=GIVE_UP_AFTER)
    with app.app_context():
        recheck_domains()
        db.session.remove()
    found = domain(app, host)
    assert found.status == "failed" and "Not proven within 7 days" in found.last_error
    assert "Failed · offline" in browser.get(f"/dashboard/{store.handle}/domains").get_data(as_text=True)


def test_the_recheck_is_scheduled(app):
    with app.app_context():
        jobs = build_scheduler(rq_connection()).get_jobs()
    assert ("tenants.domain_jobs.recheck_domains", "default", 60) in [
        (j.func_name, j.queue_name, j.interval) for j in jobs]


def test_staff_cannot_add_remove_or_check_domains(app, merchant, make_account):
    browser, _, store = merchant
    host = new_host()
    add(browser, store, host)
    helper = make_account(name="Helper")
    with app.app_context():  # on the staff (however people join: invitations are tested with the platform)
        db.session.add(Membership(account_id=helper.id, store_id=store.id, role="staff"))
        db.session.commit()
        db.session.remove()
    path = f"/dashboard/{store.handle}"
    staff = Client(app.test_client())
    staff.login(helper.email)

    def snapshot():
        with app.app_context():
            rows = db.session.execute(sa.select(Domain.hostname, Domain.status, Domain.checked_at)
                                      .where(Domain.store_id == store.id)).all()
            waiting = db.session.scalar(sa.select(sa.func.count()).select_from(PlatformOutbox))
            db.session.remove()
            return sorted(rows), waiting

    before = snapshot()
    domain_id = domain(app, host).id
    assert staff.get(f"{path}/domains").status_code == 403
    for url, data in [(f"{path}/domains", {"hostname": new_host()}),
                      (f"{path}/domains/{domain_id}/check", {}),
                      (f"{path}/domains/{domain_id}/delete", {})]:
        assert staff.post(url, data, csrf_from=f"{path}/").status_code == 403, url
    assert snapshot() == before


def test_check_now_on_another_stores_domain_is_a_404(app, merchant, make_account, make_store):
    browser, _, store = merchant
    rival_account = make_account()
    rival_store = make_store(owner=rival_account)
    rival = Client(app.test_client())
    rival.login(rival_account.email)
    host = new_host()
    add(rival, rival_store, host)
    path = f"/dashboard/{store.handle}/domains"
    assert browser.post(f"{path}/{domain(app, host).id}/check", csrf_from=path).status_code == 404


BAD_NAMES = [
    # public suffixes, ICANN and private sections alike
    "com", "co.uk", "github.io", "s3.amazonaws.com", "ngrok-free.app", "blogspot.com",
    # addresses in disguise
    "0x7f.1", "127.1", "2130706433", "10.0.0.1", "shop.10", "shop.0x1f",
    "127.0.0.1.nip.io", "app.10.0.0.1.sslip.io", "1.2.3.4.example.com", "shop.169.254.169.254.example.org",
    "127-0-0-1.sslip.io", "app-10-0-0-1.nip.io", "7f000001.nip.io", "anything.localtest.me", "lvh.me",
    "x.traefik.me", "192-168-1-1.example.com",
    # names no one can register
    "shop.test", "shop.example", "printer.local", "router.internal", "shop.invalid", "intranet",
    # under the platform
    "localhost", "shop.localhost",
]


@pytest.mark.parametrize("hostname", BAD_NAMES)
def test_names_that_cannot_be_a_merchants_domain_are_refused(ctx, hostname):
    with pytest.raises(DirectoryError) as refused:
        validate_domain(hostname)
    assert refused.value.field == "hostname" and refused.value.status == 422


@pytest.mark.parametrize("hostname, expected", [
    ("Shop.Example.com", "shop.example.com"), ("my-shop.github.io", "my-shop.github.io"),
    ("example.co.uk", "example.co.uk"), ("www.xn--bcher-kva.de", "www.xn--bcher-kva.de"),
    ("1password.com", "1password.com"), ("shop.cafe", "shop.cafe"), ("v1.2.example.com", "v1.2.example.com"),
])
def test_real_domains_are_accepted(ctx, hostname, expected):
    assert validate_domain(hostname) == expected


def test_the_handle_localhost_is_reserved():
    with pytest.raises(DirectoryError) as refused:
        validate_handle("localhost")
    assert refused.value.code == DirectoryErrorCode.RESERVED
