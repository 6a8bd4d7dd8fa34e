"""Security headers on every answer: a strict Content-Security-Policy for the
platform and the dashboard (no inline scripts or styles, no framing), one
suited to themes for storefronts, and the usual hardening headers."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, g, request

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), usb=(), interest-cohort=()",
}
# The platform and the dashboard: only our own files run or style the page; never framed (clickjacking).
PLATFORM_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
                "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                "base-uri 'self'; object-src 'none'")
# Storefronts: themes may take images, fonts and styles from CDNs and use inline styles; scripts stay
# our own, forms post to the store itself, and no other site may frame the shop.
STOREFRONT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline' https:; "
                  "img-src 'self' data: https:; font-src 'self' data: https:; connect-src 'self'; "
                  "form-action 'self'; frame-ancestors 'self'; base-uri 'self'; object-src 'none'")
# JSON and files: nothing in them may run or be framed.
DATA_CSP = "default-src 'none'; frame-ancestors 'none'"


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
    # The checkout's card form sends the card straight to the PSP's API (never to us).
    psp = urlsplit(app.config.get("STRIPE_API_BASE", ""))
    if psp.scheme and psp.netloc:
        app.config["STOREFRONT_CSP"] = STOREFRONT_CSP.replace("connect-src 'self'",
                                                              f"connect-src 'self' {psp.scheme}://{psp.netloc}")


def add_security_headers(response):
    for name, value in COMMON.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Content-Security-Policy", _policy(response))
    if _on_platform():
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def _policy(response) -> str:
    if response.mimetype != "text/html":
        return DATA_CSP
    return PLATFORM_CSP if _on_platform() else current_app.config.get("STOREFRONT_CSP", STOREFRONT_CSP)


def _on_platform() -> bool:
    """The platform host (and any answer given before the host was known)."""
    return g.get("on_platform", True)
