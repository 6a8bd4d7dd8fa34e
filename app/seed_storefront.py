"""The demo stores' shop fronts: pages with real words, and a published theme
with its homepage set up, so the demo opens on a shop, not "coming soon"."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.pages.models import Page
from app.pages.service import add_starter_pages
from app.seed_checkout import seed_checkout
from app.seed_selling import seed_selling
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
    return log + seed_reviews() + seed_shopper() + seed_selling(DEMO_SHOPPER[0]) + seed_checkout()


# (product, reviewer, stars, title, text, approved): some published, one waiting for moderation.
DEMO_REVIEWS = [
    ("Alpine Trail Jacket", "Maya R.", 5, "Dry after six hours of rain",
     "Wore it on a wet ridge walk all day and stayed dry. The pit zips are a gift on the climbs.", True),
    ("Alpine Trail Jacket", "Tom B.", 4, "Great shell, a little snug", "Size up if you wear a fleece underneath.", True),
    ("Alpine Trail Jacket", "Sam P.", 2, "Hood too tight with a helmet", "The hood pinches over my climbing helmet.",
     False),
    ("Canyon Hiking Boots", "Ines K.", 5, "No break-in needed", "Comfortable from the first mile.", True),
    ("Merino Base Layer", "Priya S.", 4, "Warm, and no smell after three days", "Runs slightly long in the body.",
     True),
    ("House Espresso Blend", "Lena W.", 5, "Our everyday espresso", "Sweet and round, even with milk.", True),
    ("Pour-over Kettle", "Jonas F.", 4, "", "Steady pour; the handle gets warm.", False),
]
# Orders placed together, so "Customers also bought" has co-purchases to show before checkout exists.
DEMO_ORDERS = [["Alpine Trail Jacket", "Merino Base Layer"], ["Alpine Trail Jacket", "Merino Base Layer", "Wool Beanie"],
               ["Canyon Hiking Boots", "Daypack 22L"], ["House Espresso Blend", "Pour-over Kettle"]]


def seed_reviews() -> list[str]:
    """Once per store: reviews of its products (most approved) and co-purchases."""
    from app.catalog.models import Product
    from app.reviews import recommendations
    from app.reviews import service as reviews
    from app.reviews.models import Review

    if db.session.scalar(sa.select(sa.func.count(Review.id))):
        return []
    by_title = {p.title: p for p in db.session.scalars(sa.select(Product).where(Product.status == "active"))}
    made = 0
    for title, name, stars, headline, body, approved in DEMO_REVIEWS:
        if title in by_title:
            review = reviews.submit_review(by_title[title], None, {"rating": str(stars), "author_name": name,
                                                                   "title": headline, "body": body})
            if approved:
                reviews.moderate(review.id, "approve", ACTOR)
            made += 1
    orders = [[by_title[t].id for t in titles if t in by_title] for titles in DEMO_ORDERS]
    for product_ids in orders:
        recommendations.record_order(product_ids)
    db.session.commit()
    return [f"{made} reviews and the co-purchases of {sum(1 for ids in orders if len(ids) > 1)} orders"] if made else []


DEMO_SHOPPER = ("shopper@vitrine.test", "Riley Shopper")
DEMO_SHOPPER_PASSWORD = "plum-kettle-orbit-42"
DEMO_ADDRESS = {"name": "Riley Shopper", "line1": "221 Alder Street", "line2": "Apt 4", "city": "Portland",
                "region": "OR", "postal_code": "97204", "country": "US", "phone": ""}


def seed_shopper() -> list[str]:
    """Once per store: a customer account with an address and two saved products."""
    from app.catalog.models import Product
    from app.customers import addresses, service as customers, wishlist

    email, name = DEMO_SHOPPER
    if customers.by_email(email) is not None:
        return []
    shopper = customers.register(email=email, name=name, password=DEMO_SHOPPER_PASSWORD, address="seed")
    addresses.add_address(shopper, addresses.clean_address(DEMO_ADDRESS))
    for product_id in db.session.scalars(sa.select(Product.id).where(Product.status == "active")
                                         .order_by(Product.id).limit(2)):
        wishlist.add(shopper, product_id)
    return [f"a customer account ({email} / {DEMO_SHOPPER_PASSWORD}) with an address and a wishlist"]
