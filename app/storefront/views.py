"""Shopper-facing pages. Until themes land, a store shows a "coming soon" page."""
from flask import g, render_template

from app.store.service import get_settings


def home():
    response = render_template("storefront/coming_soon.html", store=g.store, settings=get_settings())
    return response, 200, {"Cache-Control": "public, max-age=60"}
