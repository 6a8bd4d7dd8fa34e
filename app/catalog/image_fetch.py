"""Fetching product images by URL for CSV imports: several at a time, each
URL once per import, at most 10 MB, within a total deadline, and never from
addresses inside our own networks.

Server-side request forgery is closed as app.outbound says: the host is
looked up once, every address it has must be public, and the connection
goes to a checked address, with the URL's name kept for the Host header,
TLS SNI and the certificate check. Each redirect hop is checked the same
way. IMPORT_ALLOW_PRIVATE_URLS lets loopback through (tests, development),
nothing else.

A server that drips a byte every few seconds never trips a per-read timeout;
a watchdog closes the connection when the deadline (IMPORT_FETCH_DEADLINE)
passes, whatever the download is waiting for.

A host that is down costs an import one wait, not one per image: the first
URL of each host is fetched alone (its probe); if the host does not answer
(refused, timed out, cannot be looked up) it goes into the fetcher's
`HostMemory`, kept in Redis for the rest of the import, and every other URL
on it fails at once as "host unreachable" without being asked.
"""
from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import redis

import certifi
import urllib3
from flask import current_app, has_app_context
from requests.utils import requote_uri
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.util.ssl_match_hostname import CertificateError

from app.catalog.images import MAX_IMAGE_BYTES, ImageRejected, store_image
from app import outbound
from tenants.dns import DnsSettings, IPAddress

FETCH_TIMEOUT, FETCH_DEADLINE, FETCH_THREADS, MAX_REDIRECTS = 10, 60, 8, 5
HOST_MEMORY_SECONDS = 24 * 3600  # how long an import remembers a host that was down
REDIRECTS = (301, 302, 303, 307, 308)

def private_urls_allowed() -> bool:
    """Loopback image URLs (the worker's own machine) are refused unless
    IMPORT_ALLOW_PRIVATE_URLS is set (tests, development)."""
    return bool(current_app.config["IMPORT_ALLOW_PRIVATE_URLS"])


class FetchProblem(Exception):
    pass


class HostDown(FetchProblem):
    """The host did not answer at all (refused, timed out, no address): its
    other URLs would fare no better, so they are not asked for."""


def host_of(url: str) -> str:
    """The (lower-case) host and port a URL is fetched from; "" when it has none."""
    try:
        parts = urlsplit(url)
        return f"{(parts.hostname or '').lower()}:{parts.port or ''}" if parts.hostname else ""
    except ValueError:
        return ""


class HostMemory:
    """Hosts found down during one import (or one retry run), in Redis under
    the store's and the job's key so the import's later steps (other workers)
    skip them too; with Redis away, remembered in this process only."""

    def __init__(self, client: redis.Redis | None, key: str | None):
        self.client, self.key, self.known = client, key, set()
        if client is not None and key:
            try:
                self.known = {h if isinstance(h, str) else h.decode() for h in client.smembers(key)}
            except redis.RedisError:
                self.client = None

    def __contains__(self, host: str) -> bool:
        return host in self.known

    def add(self, host: str) -> None:
        self.known.add(host)
        if self.client is not None and self.key:
            try:
                self.client.pipeline().sadd(self.key, host).expire(self.key, HOST_MEMORY_SECONDS).execute()
            except redis.RedisError:
                pass  # remembered here still


def _connect(address: tuple[str, int], timeout: float) -> socket.socket:
    return socket.create_connection(address, timeout=timeout)


@dataclass(frozen=True)
class FetchSettings:
    deadline: float = FETCH_DEADLINE  # seconds for one URL, redirects included
    timeout: float = FETCH_TIMEOUT  # seconds for any one network wait
    dns: DnsSettings = field(default_factory=DnsSettings)
    ca_certs: str | None = None  # None: the usual certificate authorities (certifi)
    # How a TCP connection to a checked (address, port) is opened. Tests stand
    # in for the internet here, since they may only reach 127.0.0.1.
    connect: Callable[[tuple[str, int], float], socket.socket] = _connect

    @classmethod
    def from_config(cls, config) -> FetchSettings:
        return cls(deadline=float(config["IMPORT_FETCH_DEADLINE"]), dns=DnsSettings.from_config(config))


class ImageFetcher:
    """Downloads and stores image URLs, a few at a time (FETCH_THREADS), for
    one import. Each URL is fetched once, however many products use it: they
    all wait on the same future. The first URL of a host goes alone; the
    host's other URLs wait for it, and fail at once if it found the host down."""

    def __init__(self, app, store_id: int, allow_private: bool = False, down: HostMemory | None = None,
                 settings: FetchSettings | None = None):
        self.app, self.store_id, self.allow_private = app, store_id, allow_private
        self.settings = settings or FetchSettings.from_config(app.config)
        self.down = down if down is not None else HostMemory(None, None)
        self.futures: dict[str, Future] = {}
        self.probes: dict[str, threading.Event] = {}
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=FETCH_THREADS)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def fetch(self, urls: set[str]) -> None:
        """Have these URLs fetched (those not asked for before) and wait for them."""
        with self.lock:
            futures = [self.futures.get(url) or self.futures.setdefault(url, self.pool.submit(self._get, url))
                       for url in sorted(urls)]
        wait(futures)

    def result(self, url: str) -> tuple[dict | None, str | None]:
        """(ProductImage columns, None) or (None, what went wrong)."""
        future = self.futures.get(url)
        return future.result() if future else (None, "it was not fetched.")

    def _get(self, url: str) -> tuple[dict | None, str | None]:
        host = host_of(url)
        with self.lock:
            probe = self.probes.get(host)
            mine = probe is None
            if mine:
                probe = self.probes[host] = threading.Event()
        if not mine:
            probe.wait()  # the host's first URL says whether it is up
        try:
            if host in self.down:  # found down by this fetcher, or an earlier step of the import
                return None, host_unreachable(host)
            data = download(url, self.allow_private, self.settings)
            with self.app.app_context():
                return store_image(self.store_id, data), None
        except HostDown as problem:
            self.down.add(host)
            return None, str(problem)
        except (FetchProblem, ImageRejected) as problem:
            return None, str(problem)
        finally:
            if mine:
                probe.set()


def host_unreachable(host: str) -> str:
    name = host.rstrip(":")
    return f"host unreachable: {name} did not answer earlier in this import, so it was not asked again."


def check_url(url: str) -> None:
    """FetchProblem if `url` could never be fetched (not http(s), no host), before any network."""
    _target(url)


@dataclass(frozen=True)
class Target:
    scheme: str
    hostname: str  # ASCII (IDNA), no brackets
    port: int
    host_header: str
    path: str


def download(url: str, allow_private: bool = False, settings: FetchSettings | None = None) -> bytes:
    """The body at an http(s) URL: at most 10 MB, 10 s per network wait, the
    deadline in all; redirects are followed (each hop checked) up to 5."""
    if settings is None:
        settings = FetchSettings.from_config(current_app.config) if has_app_context() else FetchSettings()
    deadline = time.monotonic() + settings.deadline
    for _ in range(MAX_REDIRECTS + 1):
        target = _target(url)
        addresses = checked_addresses(target.hostname, allow_private, settings, deadline)
        _, location, body = _get(target, addresses, settings, deadline)
        if location is None:
            return body
        url = urljoin(url, location)
    raise FetchProblem("it redirects too many times.")


def _target(url: str) -> Target:
    try:
        parts = urlsplit(url)
        port = parts.port
        hostname = parts.hostname or ""
        if not hostname.isascii():
            hostname = hostname.encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        raise FetchProblem("it is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise FetchProblem("it is not an http or https URL.")
    host_header = f"[{hostname}]" if ":" in hostname else hostname
    if port is not None:
        host_header += f":{port}"
    path = requote_uri(parts.path or "/") + (f"?{requote_uri(parts.query)}" if parts.query else "")
    return Target(parts.scheme, hostname, port or (443 if parts.scheme == "https" else 80), host_header, path)


def checked_addresses(hostname: str, allow_private: bool, settings: FetchSettings,
                      deadline: float) -> list[IPAddress]:
    """Every address of `hostname`, from one lookup; FetchProblem if any may not be fetched."""
    try:
        return outbound.public_addresses(hostname, settings.dns, allow_loopback=allow_private,
                                         timeout=max(0.05, deadline - time.monotonic()))
    except outbound.HostNotFound as missing:
        raise HostDown(f"the host {hostname} {missing.reason}.") from None
    except outbound.NotPublic as refused:
        raise FetchProblem(f"it points to {refused.what}, which imports may not fetch.") from None


def _get(target: Target, addresses: list, settings: FetchSettings,
         deadline: float) -> tuple[int, str | None, bytes]:
    """(status, redirect location or None, body) from the first address that connects."""
    unreachable = None
    for address in addresses:
        try:
            return _exchange(target, address, settings, deadline)
        except _Unreachable as problem:
            unreachable = problem
    raise HostDown(str(unreachable))


class _Unreachable(HostDown):
    """This address could not be connected to; another one may do."""


class _PinnedMixin:
    """A urllib3 connection to a checked address (its `host`): only the
    socket is opened differently, so TLS (SNI, certificate) still goes by
    the URL's name. A duplicate of the socket stays with the watchdog: TLS
    replaces the connection's socket object, the connection underneath stays."""

    dial: Callable[[tuple[str, int], float], socket.socket]
    watchdog: _Watchdog

    def _new_conn(self) -> socket.socket:
        sock = self.dial((self.host, self.port), self.timeout)
        self.watchdog.watch(sock)
        return sock


class _PinnedHTTP(_PinnedMixin, HTTPConnection):
    pass


class _PinnedHTTPS(_PinnedMixin, HTTPSConnection):
    pass


def _connection(target: Target, address, settings: FetchSettings, timeout: float) -> HTTPConnection:
    if target.scheme == "https":
        conn = _PinnedHTTPS(str(address), target.port, timeout=timeout, server_hostname=target.hostname,
                            assert_hostname=target.hostname, cert_reqs="CERT_REQUIRED",
                            ca_certs=settings.ca_certs or certifi.where())
    else:
        conn = _PinnedHTTP(str(address), target.port, timeout=timeout)
    conn.dial = settings.connect
    return conn


def _exchange(target: Target, address, settings: FetchSettings, deadline: float) -> tuple[int, str | None, bytes]:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _too_slow(settings)
    conn = _connection(target, address, settings, min(settings.timeout, remaining))
    conn.watchdog = watchdog = _Watchdog(remaining)
    try:
        try:
            conn.connect()
        except (OSError, CertificateError) as error:
            if watchdog.fired:
                raise _too_slow(settings) from None
            raise _connect_problem(error, target, settings) from None
        result = _read(conn, target, settings, deadline)
        if watchdog.fired:  # a connection cut short can look like a short, complete answer
            raise _too_slow(settings)
        return result
    except (OSError, urllib3.exceptions.HTTPError, http.client.HTTPException) as error:
        if watchdog.fired:
            raise _too_slow(settings) from None
        if isinstance(error, (TimeoutError, urllib3.exceptions.TimeoutError)):
            raise HostDown(f"the server did not answer within {settings.timeout:g} seconds.") from None
        raise FetchProblem("it could not be downloaded.") from None
    finally:
        watchdog.cancel()
        conn.close()


def _read(conn: HTTPConnection, target: Target, settings: FetchSettings,
          deadline: float) -> tuple[int, str | None, bytes]:
    conn.request("GET", target.path, headers={
        "Host": target.host_header, "User-Agent": "Vitrine product import", "Accept": "image/*",
        "Accept-Encoding": "identity"}, preload_content=False, decode_content=False)
    response = conn.getresponse()
    if response.status in REDIRECTS and response.headers.get("Location"):
        return response.status, response.headers["Location"], b""
    if response.status != 200:
        raise FetchProblem(f"the server answered {response.status} {response.reason}.")
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > MAX_IMAGE_BYTES:
        raise FetchProblem("it is larger than 10 MB.")
    body = bytearray()
    while piece := response.read(65536, decode_content=False):
        body += piece
        if len(body) > MAX_IMAGE_BYTES:
            raise FetchProblem("it is larger than 10 MB.")
        if time.monotonic() > deadline:
            raise _too_slow(settings)
    return response.status, None, bytes(body)


def _connect_problem(error: Exception, target: Target, settings: FetchSettings) -> FetchProblem:
    if isinstance(error, (ssl.SSLCertVerificationError, CertificateError)):
        return FetchProblem(f"its TLS certificate is not valid for {target.hostname}.")
    if isinstance(error, ssl.SSLError):
        return FetchProblem("its TLS connection failed.")
    if isinstance(error, TimeoutError):
        return _Unreachable(f"the server did not answer within {settings.timeout:g} seconds.")
    return _Unreachable("the server could not be reached.")


def _too_slow(settings: FetchSettings) -> FetchProblem:
    return HostDown(f"it took more than {settings.deadline:g} seconds to download.")


class _Watchdog:
    """Shuts the connection down when the deadline passes, which ends
    whatever handshake or read is waiting on it."""

    def __init__(self, seconds: float):
        self.fired = False
        self.sock: socket.socket | None = None  # a duplicate: closing it leaves the connection alone
        self.lock = threading.Lock()
        self.timer = threading.Timer(seconds, self._fire)
        self.timer.daemon = True
        self.timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self.lock:
            self.sock = sock.dup()
            if self.fired:  # connected just as time ran out
                self._shut()

    def _fire(self) -> None:
        with self.lock:
            self.fired = True
            if self.sock is not None:
                self._shut()

    def _shut(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def cancel(self) -> None:
        self.timer.cancel()
        with self.lock:
            if self.sock is not None:
                self.sock.close()
                self.sock = None
