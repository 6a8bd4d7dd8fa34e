"""Demo catalog: products with variants, images, stock at two locations,
collections. Used by `seed demo`; only fills a store that has no products."""
from __future__ import annotations

import io
import random

import sqlalchemy as sa
from PIL import Image, ImageDraw

from app.catalog import collections, product_images
from app.catalog import products as catalog
from app.catalog.models import Product
from app.catalog.products import OptionSpec
from app.extensions import db
from app.inventory import service as inventory

ACTOR = "demo@vitrine.test"
OUTFITTERS = [
    # title, type, vendor, price, tags, options, colour, description
    ("Alpine Trail Jacket", "Outerwear", "Summit Co.", "189.00", "waterproof, hiking, bestseller",
     [("Size", ["S", "M", "L", "XL"]), ("Color", ["Glacier Blue", "Forest"])], (58, 110, 165),
     "<p>Three-layer waterproof shell with <strong>pit zips</strong> and a helmet-ready hood.</p>"),
    ("Merino Base Layer", "Tops", "Woolly Goat", "79.00", "merino, layering",
     [("Size", ["S", "M", "L"])], (160, 120, 90), "<p>200 g/m² merino that keeps warm when wet.</p>"),
    ("Summit Down Vest", "Outerwear", "Summit Co.", "139.00", "down, layering",
     [("Size", ["S", "M", "L"]), ("Color", ["Black", "Ember"])], (200, 80, 40),
     "<p>800-fill responsibly sourced down in a packable vest.</p>"),
    ("Canyon Hiking Boots", "Footwear", "Ridgeline", "165.00", "hiking, leather",
     [("Size", ["40", "41", "42", "43", "44"])], (120, 85, 60),
     "<p>Full-grain leather, Vibram soles and a waterproof membrane.</p>"),
    ("Trail Running Shoes", "Footwear", "Ridgeline", "129.00", "running, trail",
     [("Size", ["40", "41", "42", "43"]), ("Color", ["Lime", "Slate"])], (150, 190, 60),
     "<p>Grippy lugs and a rock plate for technical trails.</p>"),
    ("Daypack 22L", "Bags", "Packrat", "95.00", "bags, hiking",
     [("Color", ["Moss", "Sand", "Charcoal"])], (110, 130, 90), "<p>Ventilated back panel and hip-belt pockets.</p>"),
    ("Insulated Bottle 750ml", "Accessories", "Packrat", "34.00", "hydration, gift",
     [("Color", ["Steel", "Coral"])], (190, 190, 200), "<p>Keeps drinks cold for 24 hours or hot for 12.</p>"),
    ("Wool Beanie", "Accessories", "Woolly Goat", "29.00", "merino, gift, winter", [], (90, 60, 110),
     "<p>Soft rib-knit merino beanie.</p>"),
    ("Camp Mug", "Accessories", "Packrat", "18.00", "camp, gift", [], (60, 60, 70),
     "<p>Enamel steel mug that goes from stove to table.</p>"),
    ("Rain Shell Pants", "Outerwear", "Summit Co.", "119.00", "waterproof",
     [("Size", ["S", "M", "L"])], (40, 70, 90), "<p>Full-length side zips for on-and-off over boots.</p>"),
    ("Headlamp 400", "Accessories", "Lumen", "49.00", "camp, lighting", [], (240, 200, 40),
     "<p>400 lumens, USB-C rechargeable, red night mode.</p>"),
    ("Spring Collection Preview Tee", "Tops", "Woolly Goat", "39.00", "preview",
     [("Size", ["S", "M", "L"])], (230, 160, 170), "<p>Launching with the spring drop.</p>"),
]
COFFEE = [
    ("House Espresso Blend", "Coffee", "Northwind Roastery", "14.50", "espresso, bestseller",
     [("Size", ["250g", "1kg"]), ("Grind", ["Whole bean", "Espresso", "Filter"])], (90, 55, 35),
     "<p>Chocolate, hazelnut and a caramel finish.</p>"),
    ("Ethiopia Yirgacheffe", "Coffee", "Northwind Roastery", "17.00", "single origin, light roast",
     [("Size", ["250g", "1kg"])], (170, 110, 60), "<p>Jasmine, bergamot and stone fruit.</p>"),
    ("Pour-over Kettle", "Equipment", "Brewline", "59.00", "equipment, gift", [], (70, 70, 75),
     "<p>Gooseneck kettle for a steady, precise pour.</p>"),
]


def _picture(title: str, colour: tuple[int, int, int]) -> bytes:
    """A simple product tile: a gradient in the product's colour with its initials."""
    image = Image.new("RGB", (640, 640), colour)
    draw = ImageDraw.Draw(image)
    for y in range(640):
        shade = tuple(min(255, int(c * (0.75 + 0.5 * y / 640))) for c in colour)
        draw.line([(0, y), (640, y)], fill=shade)
    initials = "".join(word[0] for word in title.split()[:2]).upper()
    draw.text((320, 320), initials, fill=(255, 255, 255), anchor="mm", font_size=180)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def seed_catalog(spec: list, *, low_stock_threshold: int = 3) -> list[str]:
    if db.session.scalar(sa.select(sa.func.count(Product.id))):
        return []
    rng = random.Random(2026)  # the same demo every time
    locations = [inventory.create_location("Main warehouse", "12 Depot Road"),
                 inventory.create_location("Downtown shop", "48 Market Street")]
    location_ids = [location.id for location in locations]
    made = []
    for n, (title, kind, vendor, price, tags, options, colour, description) in enumerate(spec, 1):
        product = catalog.create_product(
            {"title": title, "product_type": kind, "vendor": vendor, "price": price, "tags": tags,
             "status": "draft" if "preview" in tags else "active", "description_html": description,
             "sku": f"{''.join(w[0] for w in title.split()).upper()}-{n:03d}",
             "low_stock_threshold": str(low_stock_threshold), "weight_grams": str(rng.randint(150, 1800))},
            options=[OptionSpec(name, values) for name, values in options], actor=ACTOR)
        for index, variant in enumerate(product.variants):
            if index:
                catalog.update_variant(product, variant.id, {
                    "price": price, "sku": variant.sku,  # made from the prefix and option values
                    "weight_grams": variant.weight_grams, "low_stock_threshold": str(low_stock_threshold),
                    "compare_at_price": "" if n % 4 else str(int(float(price)) + 20)}, actor=ACTOR)
            for location_id in location_ids:
                quantity = rng.choice([0, 2, 5, 8, 12, 20, 35])
                if quantity:
                    inventory.adjust(variant.id, location_id, quantity, reason="received",
                                     note="Opening stock", actor=ACTOR, commit=False)
        db.session.commit()
        product_images.add_image(catalog.get_product(product.id), _picture(title, colour), alt=title)
        made.append(product)
    by_type = {}
    for product in made:
        by_type.setdefault(product.product_type, []).append(product.id)
    picks = collections.create_collection({"title": "Staff picks"}, kind="manual")
    collections.set_products(picks, [made[i].id for i in (0, 3, 5) if i < len(made)])
    collections.create_collection({"title": "Gifts under 50"}, kind="automated", match_all=True,
                                  rules=[{"field": "tag", "relation": "equals", "value": "gift"},
                                         {"field": "price", "relation": "less_than", "value": "50"}])
    first_type = made[0].product_type
    collections.create_collection({"title": first_type}, kind="automated",
                                  rules=[{"field": "product_type", "relation": "equals", "value": first_type}])
    return [f"{len(made)} products, 2 locations, 3 collections"]


# A supplier's file in Shopify's current CSV layout, imported into Demo Outfitters
# by the worker, so the demo shows an import's page: decimal grams and weight
# units, costs and categories kept, a SKU two products share (a warning), a
# refused row, a column Vitrine does not keep, and images whose host cannot be
# reached (kept on the product to retry, and exported back).
DEMO_IMPORT_NAME = "supplier-spring-drop.csv"
DEMO_IMPORT = """\
Title,URL handle,Description,Vendor,Product category,Type,Tags,Status,SKU,Option1 name,Option1 value,Price,Cost per item,Charge tax,Inventory tracker,Inventory quantity,Weight value (grams),Weight unit for display,Product image URL,Image position,Image alt text,Google Shopping / Gender
Waxed Canvas Tote,waxed-canvas-tote,<p>Waxed cotton canvas with leather handles.</p>,Harbor Goods,Apparel & Accessories > Handbags,Bags,"bags, canvas",active,TOTE-OLIVE,Color,Olive,68.00,21.50,TRUE,shopify,14,680.388555,lb,https://images.demo-outfitters.invalid/tote-olive.jpg,1,Olive waxed tote,Unisex
,waxed-canvas-tote,,,,,,,TOTE-SAND,,Sand,68.00,21.50,TRUE,shopify,6,680.388555,lb,https://images.demo-outfitters.invalid/tote-sand.jpg,2,Sand waxed tote,
Gear Repair Patch Kit,gear-repair-patch-kit,Six peel-and-stick patches for tents and jackets.,Harbor Goods,Sporting Goods > Outdoor Recreation > Camping,Repair,repair,active,PATCH-KIT,,,12.00,3.10,FALSE,shopify,40,85.0486,oz,,,,
Tent Repair Bundle,tent-repair-bundle,The patch kit with a spare pole sleeve.,Harbor Goods,Sporting Goods > Outdoor Recreation > Camping,Repair,repair,active,PATCH-KIT,,,19.00,5.80,FALSE,shopify,12,141.7476,oz,,,,
Trail Stove,trail-stove,Folding titanium stove.,Harbor Goods,Sporting Goods > Outdoor Recreation > Camping,Cooking,camping,active,STOVE-1,,,twelve,,TRUE,shopify,3,0.0925,kg,,,,
"""
