"""Posting one webhook: the address checked, the body signed, the answer read.

Against server-side request forgery the host is looked up once, every
address it has must be public (app.outbound, as for image imports), and
the connection goes to a checked address, with the URL's name kept for the
Host header and TLS. A name that answers a public address to the check and
127.0.0.1 to the connection has no second lookup to win. The check runs at
registration and again at every delivery, since DNS can change in between.
WEBHOOK_ALLOW_PRIVATE_URLS lets loopback through (tests, development).

Each network wait has TIMEOUT seconds; a watchdog ends the exchange after
DEADLINE in all, however slowly a server drips its answer.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
from flask import current_app

from app import outbound
from app.parse import has_control_characters
from tenants.dns import DnsSettings

TIMEOUT = 5.0  # seconds per network wait
DEADLINE = 10.0  # seconds for the whole exchange
SNIPPET = 1000  # characters of the answer's body kept in the log
USER_AGENT = "Vitrine-Webhooks/1.0"


class Refused(Exception):
    """The URL may not be posted to (scheme, credentials, private address); the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    hostname: str  # ASCII (IDNA), no brackets
    port: int
    path: str


@dataclass(frozen=True)
class Answer:
    status_code: int | None  # None: no HTTP answer at all
    duration_ms: int
    error: str | None = None
    snippet: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def sign(body: bytes, secret: str) -> str:
    """X-Vitrine-Hmac-Sha256: base64 of the HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def private_allowed() -> bool:
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE_URLS"))


def target_of(url: str) -> Target:
    """The URL's parts, or Refused if it is not an http(s) URL we post to (no network)."""
    try:
        parts = urlsplit(url)
        port = parts.port
        hostname = parts.hostname or ""
        if not hostname.isascii():
            hostname = hostname.encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        raise Refused("It is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not hostname or not parts.netloc:
        raise Refused("It must be an http:// or https:// URL with a host name.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise Refused("It may not carry a user name or password; check the signature header instead.")
    if port == 0:
        raise Refused("Its port is not valid.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, hostname, port or (443 if parts.scheme == "https" else 80), path)


def checked_addresses(hostname: str, allow_private: bool) -> list:
    """Every address of `hostname` from one lookup; Refused if any is not public (or cannot be found)."""
    try:
        return outbound.public_addresses(hostname, DnsSettings.from_config(current_app.config),
                                         allow_loopback=allow_private)
    except outbound.HostNotFound as missing:
        raise Refused(f"The host {hostname} {missing.reason}.") from None
    except outbound.NotPublic as refused:
        raise Refused(f"The host {hostname} points to {refused.what} ({refused.address}); webhooks are only "
                      "sent to public addresses.") from None


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url`; the answer, or what stopped it. Never raises for network trouble."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = target_of(url)
        found = checked_addresses(target.hostname, private_allowed())
    except Refused as refused:
        return Answer(None, took(), error=str(refused))
    problem = "It could not be reached."
    for address in found:
        try:
            status, snippet = _exchange(target, str(address), body, headers)
            return Answer(status, took(), snippet=snippet)
        except _Unreachable as unreachable:
            problem = str(unreachable)
        except _Failed as failed:
            return Answer(None, took(), error=str(failed))
    return Answer(None, took(), error=problem)


class _Failed(Exception):
    pass


class _Unreachable(_Failed):
    """This address could not be connected to; another one may do."""


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to a checked address; the Host header keeps the URL's name."""

    def __init__(self, target: Target, address: str, timeout: float):
        super().__init__(target.hostname, target.port, timeout=timeout)
        self.address = address
        self.opened: socket.socket | None = None

    def _dial(self) -> socket.socket:
        self.opened = socket.create_connection((self.address, self.port), self.timeout)
        return self.opened

    def connect(self):
        self.sock = self._dial()


class _PinnedHTTPS(_PinnedHTTP):
    default_port = 443

    def __init__(self, target: Target, address: str, timeout: float):
        super().__init__(target, address, timeout)
        self.context = ssl.create_default_context(cafile=current_app.config.get("WEBHOOK_CA_FILE") or certifi.where())

    def connect(self):
        self.sock = self.context.wrap_socket(self._dial(), server_hostname=self.host)


def _exchange(target: Target, address: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    conn = kind(target, address, TIMEOUT)
    watchdog = threading.Timer(DEADLINE, _cut, (conn,))
    watchdog.daemon = True
    watchdog.start()
    try:
        try:
            conn.connect()
        except ssl.SSLError as error:
            raise _Failed(f"The TLS connection failed: {error.reason or error}.") from None
        except TimeoutError:
            raise _Unreachable(f"The server did not answer within {TIMEOUT:g} seconds.") from None
        except OSError:
            raise _Unreachable("The server could not be reached (connection refused or no route).") from None
        conn.request("POST", target.path, body=body, headers={
            "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
        response = conn.getresponse()
        snippet = response.read(SNIPPET * 4)[:SNIPPET * 4].decode("utf-8", "replace")
        return response.status, clean(snippet, SNIPPET)
    except TimeoutError:
        raise _Failed(f"The server did not answer within {TIMEOUT:g} seconds.") from None
    except (OSError, http.client.HTTPException):
        if not watchdog.is_alive():
            raise _Failed(f"The server took more than {DEADLINE:g} seconds in all.") from None
        raise _Failed("The connection broke before a complete answer came.") from None
    finally:
        watchdog.cancel()
        conn.close()


def _cut(conn: _PinnedHTTP) -> None:
    """The deadline passed: shut the socket, which ends whatever read is waiting on it."""
    if conn.opened is not None:
        try:
            conn.opened.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def clean(text: str | None, limit: int) -> str | None:
    """Text fit for a log column: no NUL or other control characters, at most `limit` characters."""
    if text is None:
        return None
    if has_control_characters(text):
        text = "".join(ch if ch in "\t\n\r" or not has_control_characters(ch) else "�" for ch in text)
    return text if len(text) <= limit else text[:limit - 1] + "…"
