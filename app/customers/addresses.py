"""A customer's address book: add, delete, choose the default. Another
customer's address (or an unknown id) is a 404, never a hint that it exists."""
from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from babel import Locale

from app.customers.errors import CustomerError, CustomerErrorCode as Code, collect, not_found
from app.customers.models import Customer, CustomerAddress
from app.extensions import db
from app.parse import bad, text

MAX_ADDRESSES = 50
FIELDS = ("name", "line1", "line2", "city", "region", "postal_code", "country", "phone")
_LIMITS = {"name": ("Full name", 120, True), "line1": ("Address", 200, True),
           "line2": ("Apartment, suite, etc.", 200, False), "city": ("City", 120, True),
           "region": ("State / region", 120, False), "postal_code": ("Postal code", 20, False),
           "phone": ("Phone", 40, False)}
# Babel's territories include regions ("001"), and codes that are no country.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"}


@cache
def countries() -> tuple[tuple[str, str], ...]:
    """(ISO 3166-1 alpha-2 code, English name), by name."""
    names = Locale("en").territories
    return tuple(sorted(((code, name) for code, name in names.items()
                         if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES),
                        key=lambda pair: pair[1]))


def _country(raw) -> str:
    code = str(raw or "").strip().upper()
    if code not in dict(countries()):
        raise bad("Choose a country from the list.", "country")
    return code


def clean_address(form) -> dict:
    """The posted fields as an address; FormErrors listing every bad field."""
    checks = {name: (lambda name=name, spec=spec: text(form.get(name), field=name, label=spec[0],
                                                        max_length=spec[1], required=spec[2]))
              for name, spec in _LIMITS.items()}
    checks["country"] = lambda: _country(form.get("country"))
    return collect(checks)


def addresses(customer: Customer) -> list[CustomerAddress]:
    """The default first, then the newest."""
    return list(db.session.scalars(sa.select(CustomerAddress).where(CustomerAddress.customer_id == customer.id)
                                   .order_by(CustomerAddress.is_default.desc(), CustomerAddress.id.desc())))


def default_address(customer: Customer) -> CustomerAddress | None:
    return db.session.scalar(sa.select(CustomerAddress).where(CustomerAddress.customer_id == customer.id,
                                                              CustomerAddress.is_default))


def add_address(customer: Customer, values: dict, *, make_default: bool = False) -> CustomerAddress:
    """Add a cleaned address (commits); the first one is the default."""
    _lock(customer)
    count = db.session.scalar(sa.select(sa.func.count()).where(CustomerAddress.customer_id == customer.id))
    if count >= MAX_ADDRESSES:
        raise CustomerError(Code.FULL, f"You can keep at most {MAX_ADDRESSES} addresses. Delete one first.",
                            status=422)
    if make_default or count == 0:
        _clear_default(customer)
    address = CustomerAddress(customer_id=customer.id, is_default=make_default or count == 0,
                              **{name: values[name] for name in FIELDS})
    db.session.add(address)
    db.session.commit()
    return address


def _lock(customer: Customer) -> None:
    """One address-book write of a customer at a time: two "first" addresses
    cannot both become the default, nor a count race past the cap."""
    db.session.scalar(sa.select(Customer.id).where(Customer.id == customer.id).with_for_update())


def _own(customer: Customer, address_id: int, *, lock: bool = False) -> CustomerAddress:
    query = sa.select(CustomerAddress).where(CustomerAddress.id == address_id,
                                             CustomerAddress.customer_id == customer.id)
    address = db.session.scalar(query.with_for_update() if lock else query)
    if address is None:
        db.session.rollback()  # let go of the customer's lock at once
        raise not_found("No such address.")
    return address


def _clear_default(customer: Customer) -> None:
    db.session.execute(sa.update(CustomerAddress).where(CustomerAddress.customer_id == customer.id,
                                                        CustomerAddress.is_default).values(is_default=False))
    db.session.flush()  # the partial unique index allows one default: clear before setting


def delete_address(customer: Customer, address_id: int) -> None:
    """Delete one of the customer's addresses (commits); the newest left becomes the default if it was."""
    _lock(customer)
    address = _own(customer, address_id, lock=True)
    was_default = address.is_default
    db.session.delete(address)
    db.session.flush()
    if was_default:
        newest = db.session.scalar(sa.select(CustomerAddress).where(CustomerAddress.customer_id == customer.id)
                                   .order_by(CustomerAddress.id.desc()).limit(1))
        if newest is not None:
            newest.is_default = True
    db.session.commit()


def set_default(customer: Customer, address_id: int) -> None:
    _lock(customer)
    address = _own(customer, address_id, lock=True)
    _clear_default(customer)
    address.is_default = True
    db.session.commit()
