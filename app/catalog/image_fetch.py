"""Fetching product images by URL for CSV imports: several at a time, each
URL once per import, at most 10 MB, and never from private network addresses
(unless IMPORT_ALLOW_PRIVATE_URLS is set, for tests and development)."""
from __future__ import annotations

import ipaddress
import socket
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from urllib.parse import urljoin, urlsplit

import requests
from flask import current_app

from app.catalog.images import MAX_IMAGE_BYTES, ImageRejected, store_image

FETCH_TIMEOUT, FETCH_DEADLINE, FETCH_THREADS, MAX_REDIRECTS = 10, 60, 8, 5


def private_urls_allowed() -> bool:
    """Image URLs on private networks (the worker's own, a cloud metadata
    service…) are refused unless IMPORT_ALLOW_PRIVATE_URLS is set (tests,
    development)."""
    return bool(current_app.config["IMPORT_ALLOW_PRIVATE_URLS"])


class FetchProblem(Exception):
    pass


class ImageFetcher:
    """Downloads and stores image URLs, several at a time, for one import.
    Each URL is fetched once, however many rows and chunks (threads) use it:
    they all wait on the same future."""

    def __init__(self, app, store_id: int, allow_private: bool = False):
        self.app, self.store_id, self.allow_private = app, store_id, allow_private
        self.futures: dict[str, Future] = {}
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
        try:
            data = download(url, self.allow_private)
            with self.app.app_context():
                return store_image(self.store_id, data), None
        except (FetchProblem, ImageRejected) as problem:
            return None, str(problem)


def download(url: str, allow_private: bool = False) -> bytes:
    """The body at an http(s) URL: at most 10 MB, 10 s per network wait, a
    minute in all; redirects are followed (each hop checked) up to 5."""
    deadline = time.monotonic() + FETCH_DEADLINE
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchProblem("it is not an http or https URL.")
        if not allow_private:
            _check_public(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        try:
            with requests.get(url, timeout=FETCH_TIMEOUT, stream=True, allow_redirects=False,
                              headers={"User-Agent": "Vitrine product import"}) as response:
                if response.is_redirect:
                    url = urljoin(url, response.headers["Location"])
                    continue
                if response.status_code != 200:
                    raise FetchProblem(f"the server answered {response.status_code} {response.reason}.")
                length = response.headers.get("Content-Length", "")
                if length.isdigit() and int(length) > MAX_IMAGE_BYTES:
                    raise FetchProblem("it is larger than 10 MB.")
                body = bytearray()
                for piece in response.iter_content(65536):
                    body += piece
                    if len(body) > MAX_IMAGE_BYTES:
                        raise FetchProblem("it is larger than 10 MB.")
                    if time.monotonic() > deadline:
                        raise FetchProblem("it took more than a minute to download.")
                return bytes(body)
        except requests.Timeout:
            raise FetchProblem(f"the server did not answer within {FETCH_TIMEOUT} seconds.") from None
        except requests.ConnectionError:
            raise FetchProblem("the server could not be reached.") from None
        except requests.RequestException:
            raise FetchProblem("it could not be downloaded.") from None
    raise FetchProblem("it redirects too many times.")


def _check_public(host: str, port: int) -> None:
    """Refuse hosts that resolve to loopback, private, link-local or other
    non-public addresses (server-side request forgery). A host that changes
    its DNS answer between this check and the request could still slip
    through; the network should also keep workers off internal services."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise FetchProblem(f"the host {host} cannot be found.") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            raise FetchProblem("it points to a private network address, which imports may not fetch.")
