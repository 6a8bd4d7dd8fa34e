"""The demo stores' shop fronts: pages with real words, and a published theme
with its homepage set up, so the demo opens on a shop, not "coming soon"."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.pages.models import Page
from app.pages.service import add_starter_pages
from app.theming import service as theming
from app.theming.models import StoreTheme
from app.theming.registry import get_theme

ACTOR = "demo@vitrine.test"
ABOUT = {
    "outfitters": "<p>Demo Outfitters started in a garage in 2011 with one tent and a lot of opinions. Everything "
                  "we sell has been carried up a real mountain by one of us first.</p>",
    "coffee": "<p>Northwind roasts in small batches on a 15 kg drum roaster and ships on the day of roasting.</p>",
}
LOOKS = {
    "outfitters": ("atelier", {"announcement": "Free shipping on orders over $75"},
                   {"hero": {"heading": "Trail-tested gear for every season",
                             "subheading": "Jackets, packs and base layers we carried up real mountains first.",
                             "button_label": "Shop staff picks", "button_link": "/collections/staff-picks"},
                    "featured_collection": {"heading": "Staff picks", "collection": "staff-picks"}}),
    "coffee": ("broadsheet", {"color_accent": "#7a3e12"},
               {"hero": {"heading": "Roasted on Monday, in your cup by Thursday",
                         "subheading": "Small-batch coffee from growers we know by name.",
                         "button_label": "Shop the roasts", "button_link": "/collections"}}),
}


def seed_storefront(catalog_name: str) -> list[str]:
    """Once per store: its pages and its published theme (idempotent)."""
    log = []
    if db.session.scalar(sa.select(sa.func.count(Page.id))) == 0:
        add_starter_pages(commit=False)
        about = db.session.scalar(sa.select(Page).where(Page.handle == "about"))
        about.body_html = ABOUT[catalog_name]
        db.session.commit()
        log.append("added its pages (about, contact, policies)")
    if db.session.scalar(sa.select(StoreTheme.id).where(StoreTheme.live)) is None:
        name, settings, sections = LOOKS[catalog_name]
        theme = get_theme(name) or get_theme("atelier")
        draft = theming.draft(theme)
        posted = {key: value for key, value in settings.items() if theme.setting(key) is not None}
        shaped = [{**section, "settings": {**section["settings"], **sections.get(section["type"], {})}}
                  for section in draft.sections]
        theming.save_draft(theme, posted, shaped, actor=ACTOR)
        theming.publish(theme, actor=ACTOR)
        log.append(f"published the {theme.title} theme")
    return log
