"""Pages for one visitor (account pages, the cart): rendered through the
live theme like any shop page, and never cached (`private, no-store`).
Before a theme is published they are 404s, like the rest of the shop."""
from __future__ import annotations

from flask import Response, abort

from app.storefront import views
from app.storefront.site import Site
from app.theming.render import render

NO_STORE = "private, no-store"


def shop_site() -> Site:
    site = views.live_site()
    if site is None:
        abort(404)  # no theme published: the shop is "coming soon"
    return site


def personal_page(template: str, status: int = 200, headers: dict | None = None, **page) -> Response:
    site = shop_site()
    body = render(site.live.theme, template, site.context(template=template, canonical=None, **page),
                  overrides=site.live.overrides)
    return private(Response(body, status=status, mimetype="text/html", headers=headers or {}))


def private(response: Response) -> Response:
    response.headers["Cache-Control"] = NO_STORE
    response.vary.add("Cookie")
    return response
