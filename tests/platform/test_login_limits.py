"""Log-in limits: per (email, address) a lock-out, per address a generous
cap, per email only a slow-down, so nobody can lock a merchant out."""
import socket
import threading
import uuid

from app.platform import accounts
from tests.conftest import PASSWORD, Client
from tests.platform.helpers import address, poll


def _attempt(client: Client, email: str, password: str, ip: str, token: str | None = None):
    data = {"email": email, "password": password, "csrf_token": token or client.csrf_token("/login")}
    return client.post("/login", data, environ_base={"REMOTE_ADDR": ip})


def test_parallel_guesses_from_one_address_check_exactly_the_limit(app, make_account, monkeypatch):
    checked = []  # a spy on werkzeug's hash check (it still checks): how many guesses were tried
    real_check = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda *args: checked.append(1) or real_check(*args))
    account = make_account()
    ip = address()
    clients = [Client(app.test_client()) for _ in range(30)]
    tokens = [c.csrf_token("/login") for c in clients]
    start = threading.Barrier(30)
    statuses, retry_afters = [], []

    def guess(client, token):
        start.wait()
        response = _attempt(client, account.email, "wrong-password-guess", ip, token)
        statuses.append(response.status_code)
        retry_afters.append(response.headers.get("Retry-After"))

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checked) == 10
    assert sorted(statuses) == [401] * 10 + [429] * 20
    assert all(int(value) > 0 for status, value in zip(statuses, retry_afters) if status == 429)


def test_the_pair_is_locked_but_the_owner_gets_in_from_elsewhere(app, make_account):
    account = make_account()
    attacker, owner = Client(app.test_client()), Client(app.test_client())
    attacker_ip, owner_ip = address(), address()
    for _ in range(10):
        assert _attempt(attacker, account.email, "wrong-password-guess", attacker_ip).status_code == 401
    locked = _attempt(attacker, account.email, PASSWORD, attacker_ip)  # even the right password, from there
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "Too many attempts" in locked.get_data(as_text=True)
    assert attacker.get("/dashboard/").headers["Location"].startswith("/login")

    signed_in = _attempt(owner, account.email, PASSWORD, owner_ip)
    assert signed_in.status_code == 302
    assert owner.get("/stores/new").status_code == 200


def test_a_successful_login_resets_the_pair(app, make_account):
    account = make_account()
    client, ip = Client(app.test_client()), address()
    for _ in range(9):
        assert _attempt(client, account.email, "wrong-password-guess", ip).status_code == 401
    assert _attempt(client, account.email, PASSWORD, ip).status_code == 302
    for _ in range(9):  # a fresh allowance: the owner's own typos never add up to a lock-out
        assert _attempt(client, account.email, "wrong-password-guess", ip).status_code == 401


def test_many_addresses_only_slow_an_email_down(app, make_account, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_SLOWDOWN", "5/3600")
    monkeypatch.setitem(app.config, "LOGIN_SLOWDOWN_MAX_DELAY", 2)
    account = make_account()
    client = Client(app.test_client())
    for _ in range(5):  # a botnet: every guess from another address
        assert _attempt(client, account.email, "wrong-password-guess", address()).status_code == 401
    slowed = _attempt(client, account.email, "wrong-password-guess", address())
    slowed = slowed if slowed.status_code == 429 else _attempt(client, account.email, "another-guess", address())
    assert slowed.status_code == 429 and 1 <= int(slowed.headers["Retry-After"]) <= 2
    assert "Too many attempts" in slowed.get_data(as_text=True)

    owner_ip = address()
    answer = poll(lambda: _attempt(client, account.email, PASSWORD, owner_ip), lambda r: r.status_code != 429,
                  deadline=10, wait=lambda r: int(r.headers["Retry-After"]))
    assert answer.status_code == 302  # slowed down, never locked out


def test_an_address_that_logged_in_before_skips_the_slow_down(app, make_account, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_SLOWDOWN", "3/3600")
    monkeypatch.setitem(app.config, "LOGIN_SLOWDOWN_MAX_DELAY", 60)
    account = make_account()
    owner, attacker = Client(app.test_client()), Client(app.test_client())
    home = address()
    assert _attempt(owner, account.email, PASSWORD, home).status_code == 302
    statuses = [_attempt(attacker, account.email, "wrong-password-guess", address()).status_code for _ in range(6)]
    assert 429 in statuses
    assert _attempt(Client(app.test_client()), account.email, PASSWORD, home).status_code == 302


def test_one_address_is_capped_across_emails(app, make_account, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_RATE_LIMIT", "5/300")
    client, ip = Client(app.test_client()), address()
    for _ in range(5):  # credential stuffing: one address, many emails
        assert _attempt(client, f"{uuid.uuid4().hex[:8]}@example.com", "some-password-1", ip).status_code == 401
    refused = _attempt(client, make_account().email, PASSWORD, ip)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_while_redis_is_away_each_process_limits_on_its_own(service_env, app):
    from app import create_app
    from tests.conftest import dispose_engines

    with socket.socket() as sock:  # a port nothing listens on: Redis is away
        sock.bind(("127.0.0.1", 0))
        dead_redis = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    isolated = create_app({**service_env, "TESTING": True, "REDIS_URL": dead_redis})
    try:
        with app.app_context():
            from app.platform.accounts import create_account

            email = f"{uuid.uuid4().hex[:10]}@example.com"
            create_account(email=email, name="Offline Owner", password=PASSWORD)
        client, ip = Client(isolated.test_client()), address()
        for _ in range(10):
            assert _attempt(client, email, "wrong-password-guess", ip).status_code == 401
        locked = _attempt(client, email, PASSWORD, ip)
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
        assert _attempt(Client(isolated.test_client()), email, PASSWORD, address()).status_code == 302
    finally:
        dispose_engines(isolated)
