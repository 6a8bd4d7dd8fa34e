"""Storefront pages cached in Redis, per store, and HTTP revalidation.

A page is kept under the store's id and a digest of its host, path, query
and whether htmx asked for a fragment, together with the store's cache
generation when it was rendered. One MGET reads the current generation and
the entry: a page from an older generation is a miss. Anything a page shows
(products, stock, collections, settings, the theme, pages) emits a topic
whose listener bumps the generation after commit, so every page of that
store is redone on its next request, and only that store's. Entries also
expire (TTL), which bounds how long a bump lost to a Redis blip can leave a
page stale.

Only anonymous visits are cached: a logged-in customer or a flashed message
makes the page personal (rendered each time, `private`). With Redis away
pages are rendered from PostgreSQL; the breaker keeps that cheap.

What every page of a store reads alike (its live theme and template
overrides, the header's collections, the footer's pages) is also kept in
this process (`remember`), under the store's generation as read before
rendering (by `page`, or on first use by a route outside the page cache
or a personal page): the same bump that redoes the pages drops it, and it
is kept REMEMBER_SECONDS at most besides. Without a generation (Redis
away) it is read from PostgreSQL each time.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from flask import Response, current_app, g, request, session

from app.catalog.events import COLLECTION_CHANGED, PRODUCT_CHANGED
from app.effects import listener
from app.launches.events import LAUNCH_CHANGED
from app.launches.passes import PASS_COOKIE
from app.extensions import get_redis, redis_breaker
from app.pages.service import PAGE_CHANGED
from app.reviews.service import REVIEW_CHANGED
from app.store.service import SETTINGS_CHANGED
from app.theming.service import THEME_CHANGED

TTL = 600
REMEMBER_SECONDS = 30  # a process-kept value is read again after this, whatever the generation says
REMEMBERED = 2048  # values kept in this process (a few per store)
REVALIDATE = "public, max-age=0, must-revalidate"
PERSONAL = "private, no-cache"
_SEPARATOR = "\n"


def _generation_key(store_id: int) -> str:
    return f"vitrine:sf:{int(store_id)}:gen"


def _page_key(store_id: int) -> str:
    fragment = "1" if request.headers.get("HX-Request") else "0"
    digest = hashlib.sha256(f"{request.host}\0{request.full_path}\0{fragment}".encode()).hexdigest()[:32]
    return f"vitrine:sf:{int(store_id)}:page:{digest}"


def is_personal() -> bool:
    """A page for this visitor alone: a logged-in customer, a message flashed
    to them, or a launch pass (the product page shows its holder the buy area)."""
    return bool(session.get("customer") or session.get("_flashes") or request.cookies.get(PASS_COOKIE))


def page(render: Callable[[], str], mimetype: str = "text/html") -> Response:
    """The current request's page (or any text: sitemaps, robots.txt): from
    the store's cache when it holds it (no query at all), else rendered by
    `render()` and kept, unless the visit is personal."""
    if is_personal():
        return _answer(render(), PERSONAL, outcome="PERSONAL", mimetype=mimetype)
    store_id = g.store.id
    breaker = redis_breaker()
    key = _page_key(store_id)
    found = breaker.call(get_redis().mget, _generation_key(store_id), key)
    generation = (found[0] or "0") if found else None
    g.page_generation = generation
    if found and found[1]:
        kept_generation, etag, body = found[1].split(_SEPARATOR, 2)
        if kept_generation == generation:
            return _answer(body, REVALIDATE, etag, outcome="HIT", mimetype=mimetype)
    body = render()
    etag = _etag(body)
    if generation is not None:
        breaker.call(get_redis().set, key, _SEPARATOR.join([generation, etag, body]), ex=TTL)
    return _answer(body, REVALIDATE, etag, outcome="MISS", mimetype=mimetype)


def _etag(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:24]


def _answer(body: str, cache_control: str, etag: str | None = None, *, outcome: str,
            mimetype: str = "text/html") -> Response:
    """`outcome` goes out as X-Cache (HIT, MISS, PERSONAL), for operators and tests."""
    response = Response(body, mimetype=mimetype)
    response.headers["X-Cache"] = outcome
    response.set_etag(etag or _etag(body))
    response.headers["Cache-Control"] = cache_control
    response.vary.add("HX-Request")
    response.vary.add("Cookie")
    return response.make_conditional(request)


def invalidate(store_id: int | None) -> None:
    """Every cached page of the store is stale from now on."""
    if store_id is not None:
        redis_breaker().call(get_redis().incr, _generation_key(store_id))


for _topic in (PRODUCT_CHANGED, COLLECTION_CHANGED, SETTINGS_CHANGED, PAGE_CHANGED, THEME_CHANGED, REVIEW_CHANGED,
               LAUNCH_CHANGED):
    listener(_topic)(invalidate)


def _generation() -> str | None:
    """The store's generation as this request first read it (None: Redis is away)."""
    if "page_generation" not in g:
        away = object()
        found = redis_breaker().call(get_redis().get, _generation_key(g.store.id), default=away)
        g.page_generation = None if found is away else (found or "0")
    return g.page_generation


_remembered: OrderedDict[tuple, tuple[str, float, object]] = OrderedDict()
_remembered_lock = threading.Lock()


def remember(name: tuple | str, build: Callable[[], object]):
    """`build()`'s value for the current store, kept in this process under
    the generation `page` read before this render (see the module's doc).
    Values are shared by every request of the process: they must not be changed."""
    generation = _generation()
    if generation is None:
        return build()
    key = (id(current_app._get_current_object()), g.store.id, name)  # (an app of another directory: other stores)
    now = time.monotonic()
    with _remembered_lock:
        kept = _remembered.get(key)
        if kept is not None and kept[0] == generation and now - kept[1] < REMEMBER_SECONDS:
            _remembered.move_to_end(key)
            return kept[2]
    value = build()  # read after the generation was: a write it misses bumps the generation after this read
    with _remembered_lock:
        _remembered[key] = (generation, now, value)
        _remembered.move_to_end(key)
        while len(_remembered) > REMEMBERED:
            _remembered.popitem(last=False)
    return value
