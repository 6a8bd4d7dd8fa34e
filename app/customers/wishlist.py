"""A customer's wishlist ("Save for later"): products of the same store,
each at most once; deleting a product takes it off every wishlist (ON
DELETE CASCADE)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from app.customers.errors import CustomerError, CustomerErrorCode as Code, not_found
from app.customers.models import Customer, WishlistItem
from app.extensions import db
from tenants.context import require_store

MAX_ITEMS = 200


def product_ids(customer_id: int) -> list[int]:
    """Saved products, the most recently saved first."""
    return list(db.session.scalars(sa.select(WishlistItem.product_id).where(WishlistItem.customer_id == customer_id)
                                   .order_by(WishlistItem.created_at.desc(), WishlistItem.id.desc())
                                   .limit(MAX_ITEMS)))


def add(customer: Customer, product_id: int) -> None:
    """Save a product (commits); saving it again changes nothing."""
    lock_customer(customer)
    count = db.session.scalar(sa.select(sa.func.count()).where(WishlistItem.customer_id == customer.id))
    if count >= MAX_ITEMS:
        db.session.rollback()
        raise CustomerError(Code.FULL, f"Your wishlist holds at most {MAX_ITEMS} products. Remove one first.",
                            status=422)
    try:
        db.session.execute(insert(WishlistItem).values(store_id=require_store().id, customer_id=customer.id,
                                                       product_id=product_id, created_at=sa.func.now())
                           .on_conflict_do_nothing(index_elements=["store_id", "customer_id", "product_id"]))
        db.session.commit()
    except sa.exc.IntegrityError:  # the product was deleted meanwhile
        db.session.rollback()
        raise not_found("No such product.") from None


def lock_customer(customer: Customer) -> None:
    """Hold the customer's row until commit: their writes (counted against a cap) go one at a time."""
    db.session.scalar(sa.select(Customer.id).where(Customer.id == customer.id).with_for_update())


def remove(customer: Customer, product_id: int) -> None:
    """Unsave a product (commits); removing one not saved changes nothing."""
    db.session.execute(sa.delete(WishlistItem).where(WishlistItem.customer_id == customer.id,
                                                     WishlistItem.product_id == product_id))
    db.session.commit()
