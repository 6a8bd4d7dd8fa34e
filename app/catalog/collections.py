"""Collections: manual (picked and ordered by the merchant) and automated
(every product matching tag/type/vendor/price/title rules, all or any)."""
from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from app.catalog.events import collection_changed
from app.catalog.errors import CatalogError, CatalogErrorCode as Code, invalid, not_found
from app.catalog.models import Collection, CollectionProduct, Product, Variant
from app.catalog.products import HANDLE_RE, slugify
from app.catalog.sanitize import clean_html
from app.extensions import db
from app.money import MoneyError, parse_amount
from app.parse import MAX_ID
from app.store.limits import count_for_insert
from tenants.context import require_store

FIELDS = {"tag": "Tag", "product_type": "Product type", "vendor": "Vendor", "price": "Price", "title": "Title"}
RELATIONS = {
    "tag": ("equals", "not_equals"),
    "product_type": ("equals", "not_equals", "contains"),
    "vendor": ("equals", "not_equals", "contains"),
    "title": ("equals", "contains"),
    "price": ("greater_than", "less_than"),
}
MAX_RULES = 60
MAX_COLLECTIONS = 5_000  # per store; Shopify's limit for automated collections
MAX_COLLECTION_PRODUCTS = 1_000  # in one manual collection; its editor lists and posts them all


def clean_rules(rules: list[Mapping], amount_locale: str | None = None) -> list[dict]:
    """Conditions from raw input; prices are read in `amount_locale` (the
    dashboard form's locale) or, without one, in the machine form."""
    cleaned = []
    for rule in rules:
        field, relation = str(rule.get("field") or ""), str(rule.get("relation") or "")
        value = " ".join(str(rule.get("value") or "").split())
        if not field and not value:
            continue
        if field not in RELATIONS or relation not in RELATIONS[field]:
            raise invalid("Each condition needs a field and a comparison from the lists.", "rules")
        if not value:
            raise invalid(f"Give the {FIELDS[field].lower()} condition a value.", "rules")
        if field == "price":
            try:
                value = parse_amount(value, require_store().currency, amount_locale)
            except MoneyError as error:
                raise invalid(str(error), "rules") from None
        cleaned.append({"field": field, "relation": relation, "value": value})
    if len(cleaned) > MAX_RULES:
        raise invalid(f"A collection can have at most {MAX_RULES} conditions.", "rules")
    return cleaned


def _fields(data: Mapping, exclude_id: int | None = None) -> dict:
    title = " ".join(str(data.get("title") or "").split())
    if not 1 <= len(title) <= 255:
        raise invalid("Give the collection a title of 1–255 characters.", "title")
    handle = str(data.get("handle") or "").strip().lower()
    if handle and (len(handle) > 255 or not HANDLE_RE.match(handle)):
        raise invalid("A handle is lowercase letters, digits and single hyphens.", "handle")
    if handle:
        clash = db.session.scalar(sa.select(Collection.id).where(Collection.handle == handle,
                                                                 Collection.id != (exclude_id or 0)))
        if clash:
            raise CatalogError(Code.TAKEN, f"Another collection already uses the handle “{handle}”.", "handle")
    else:
        taken = set(db.session.scalars(sa.select(Collection.handle).where(Collection.id != (exclude_id or 0))))
        base = slugify(title)
        handle = base if base not in taken else next(f"{base}-{n}" for n in range(2, 10_000)
                                                     if f"{base}-{n}" not in taken)
    return {"title": title, "handle": handle, "description_html": clean_html(str(data.get("description_html") or ""))}


def get_collection(collection_id: int) -> Collection:
    collection = db.session.get(Collection, (require_store().id, collection_id))
    if collection is None:
        raise not_found("collection")
    return collection


def list_collections(page: int = 1, per_page: int = 50) -> tuple[list[Collection], int]:
    """One page of the store's collections by title, and how many there are."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Collection))
    rows = db.session.scalars(sa.select(Collection).order_by(Collection.title, Collection.id)
                              .limit(per_page).offset((page - 1) * per_page))
    return list(rows), total


def create_collection(data: Mapping, *, kind: str, match_all: bool = True, rules: list[Mapping] = ()) -> Collection:
    if kind not in ("manual", "automated"):
        raise invalid("Choose manual or automated.", "kind")
    rules = clean_rules(list(rules), _amount_locale(data)) if kind == "automated" else []
    if kind == "automated" and not rules:
        raise invalid("An automated collection needs at least one condition.", "rules")
    fields = _fields(data)
    if count_for_insert(Collection) >= MAX_COLLECTIONS:
        raise CatalogError(Code.LIMIT_REACHED, f"This store has {MAX_COLLECTIONS:,} collections, the most it "
                           "can have. Delete one to add another.", "title", status=409)
    collection = Collection(kind=kind, match_all=match_all, rules=rules, **fields)
    db.session.add(collection)
    db.session.flush()
    collection_changed(collection.id)
    db.session.commit()
    return collection


def update_collection(collection: Collection, data: Mapping, *, match_all: bool | None = None,
                      rules: list[Mapping] | None = None) -> Collection:
    for key, value in _fields(data, exclude_id=collection.id).items():
        setattr(collection, key, value)
    if collection.kind == "automated" and rules is not None:
        cleaned = clean_rules(list(rules), _amount_locale(data))
        if not cleaned:
            raise invalid("An automated collection needs at least one condition.", "rules")
        collection.rules = cleaned
        collection.match_all = bool(match_all)
    collection_changed(collection.id)
    db.session.commit()
    return collection


def _amount_locale(data: Mapping) -> str | None:
    """Dashboard forms say which locale their amounts are typed in."""
    return data.get("amount_locale") or None


def delete_collection(collection: Collection) -> None:
    collection_changed(collection.id)
    db.session.delete(collection)
    db.session.commit()


def set_products(collection: Collection, product_ids: list[int]) -> None:
    """A manual collection's products, in this order."""
    if collection.kind != "manual":
        raise invalid("Products of an automated collection follow its conditions.", "products")
    ids = list(dict.fromkeys(product_ids))
    if len(ids) > MAX_COLLECTION_PRODUCTS:
        raise invalid(f"A manual collection can have at most {MAX_COLLECTION_PRODUCTS:,} products; this would "
                      f"make it {len(ids):,}. An automated collection can hold any number.", "products")
    known = set(db.session.scalars(sa.select(Product.id).where(Product.id.in_(ids or [0]))))
    if set(ids) - known:
        raise not_found("product")
    db.session.execute(sa.delete(CollectionProduct).where(CollectionProduct.collection_id == collection.id))
    db.session.add_all(CollectionProduct(collection_id=collection.id, product_id=pid, position=i)
                       for i, pid in enumerate(ids, 1))
    collection_changed(collection.id)
    db.session.commit()


def _condition(rule: dict):
    field, relation, value = rule["field"], rule["relation"], rule["value"]
    if field == "tag":
        has = sa.select(sa.literal(1)).select_from(sa.func.unnest(Product.tags).alias("tag")).where(
            sa.func.lower(sa.column("tag")) == str(value).lower()).exists()
        return has if relation == "equals" else sa.not_(has)
    if field == "price":
        if not isinstance(value, int) or isinstance(value, bool):
            return sa.false()  # not a price (saved before rules were checked): matches nothing
        # Saved before amounts had a maximum, a value may not fit BIGINT; past
        # its ends every price compares the same way, so the ends stand in.
        value = min(max(value, -MAX_ID - 1), MAX_ID)
        priced = sa.select(Variant.id).where(Variant.store_id == Product.store_id, Variant.product_id == Product.id)
        priced = priced.where(Variant.price > value if relation == "greater_than" else Variant.price < value)
        return priced.exists()
    column = {"product_type": Product.product_type, "vendor": Product.vendor, "title": Product.title}[field]
    if relation == "contains":
        return column.ilike(f"%{value}%")
    same = sa.func.lower(column) == str(value).lower()
    return same if relation == "equals" else sa.not_(same)


def products_query(collection: Collection):
    """A select of the collection's products, in collection order."""
    if collection.kind == "manual":
        return (sa.select(Product).join(CollectionProduct, sa.and_(
            CollectionProduct.store_id == Product.store_id, CollectionProduct.product_id == Product.id))
            .where(CollectionProduct.collection_id == collection.id).order_by(CollectionProduct.position))
    conditions = [_condition(rule) for rule in collection.rules]
    combined = sa.and_(*conditions) if collection.match_all else sa.or_(*conditions)
    return sa.select(Product).where(combined).order_by(Product.title, Product.id)


def product_ids(collection: Collection) -> list[int]:
    """A manual collection's product ids, in order."""
    return list(db.session.scalars(sa.select(CollectionProduct.product_id)
                                   .where(CollectionProduct.collection_id == collection.id)
                                   .order_by(CollectionProduct.position)))


def products_in(collection: Collection, limit: int = 250) -> list[Product]:
    return list(db.session.scalars(products_query(collection).limit(limit)))
