"""Where a storefront page's links go, and what every page's template gets.

The live shop and the customizer's preview render the same pages; only the
addresses differ (the preview lives under the dashboard), so templates build
links through `routes` and never by hand.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlencode

from flask import g, request, url_for
from flask_wtf.csrf import generate_csrf

from app.customers.sessions import customer_view
from app.money import format_amount
from app.theming.registry import FONT_STACKS

from app.theming.service import LiveTheme


@dataclass(frozen=True)
class Routes:
    prefix: str = ""  # "" on the shop; the preview's base path in the customizer

    def home(self) -> str:
        return self.prefix + "/"

    def product(self, handle: str, variant: int | None = None) -> str:
        return self._with(f"/products/{handle}", variant=variant)

    def collections(self) -> str:
        return self.prefix + "/collections"

    def collection(self, handle: str, **args) -> str:
        return self._with(f"/collections/{handle}", **args)

    def search(self, **args) -> str:
        return self._with("/search", **args)

    def page(self, handle: str) -> str:
        return self.prefix + f"/pages/{handle}"

    def cart(self) -> str:
        return self.prefix + "/cart"

    def checkout(self) -> str:
        return self.prefix + "/checkout"

    def account(self, part: str = "") -> str:
        return self.prefix + "/account" + (f"/{part}" if part else "")

    def _with(self, path: str, **args) -> str:
        query = {key: value for key, value in args.items() if value not in (None, "", ())}
        return self.prefix + path + (("?" + urlencode(query, doseq=True)) if query else "")


@dataclass(frozen=True)
class StoreView:
    name: str
    handle: str
    currency: str
    locale: str


@dataclass(frozen=True)
class Site:
    """One storefront render: the store, its theme state and how links are built."""

    live: LiveTheme
    routes: Routes
    preview: bool = False

    def context(self, **page) -> dict:
        """What every template gets, plus the page's own objects."""
        store = g.store
        return {
            "store": StoreView(store.name, store.handle, store.currency, store.locale),
            "settings": self.live.settings,
            "routes": self.routes,
            "preview": self.preview,
            "customer": None if self.preview else customer_view(),
            "csrf_token": generate_csrf,
            "nav": Navigation(self.routes),
            "theme_name": self.live.theme.name,
            "htmx_src": url_for("static", filename="vendor/htmx.min.js"),
            "font_stack": font_stack,
            "absolute_url": absolute_url,
            "decimal_amount": lambda minor: format_amount(minor, store.currency),
            **page,
        }


def font_stack(key) -> str:
    return FONT_STACKS.get(key, FONT_STACKS["system"])[1]


def absolute_url(path: str) -> str:
    """An address on the current host (canonical links, Open Graph)."""
    if not isinstance(path, str) or path.startswith(("http://", "https://")):
        return path if isinstance(path, str) else ""
    return request.host_url.rstrip("/") + path


class Navigation:
    """The header's collections and the footer's pages, as (title, url) pairs,
    read when a template first asks (a fragment such as the autosuggest never
    does), and kept in the process under the page cache's generation
    (app.storefront.cache.remember): every page of the store shows the same."""

    def __init__(self, routes: Routes):
        self._routes = routes

    @cached_property
    def collections(self) -> tuple[tuple[str, str], ...]:
        from app.storefront.cache import remember
        from app.storefront.catalog import menu_collections

        return remember(("nav_collections", self._routes.prefix), lambda: tuple(
            (c.title, self._routes.collection(c.handle)) for c in menu_collections()))

    @cached_property
    def pages(self) -> tuple[tuple[str, str], ...]:
        from app.pages.service import published_pages
        from app.storefront.cache import remember

        return remember(("nav_pages", self._routes.prefix), lambda: tuple(
            (p.title, self._routes.page(p.handle)) for p in published_pages()))
