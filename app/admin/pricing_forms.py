"""What the pricing pages (shipping, taxes, discounts) share: a refusal shown
on its page again, and amounts and rates written back into their forms."""
from __future__ import annotations

from flask import g, render_template, request

from app.checkout.errors import FormErrors
from app.domain_errors import DomainError
from app.extensions import db
from app.money import format_input


def errors_of(error: DomainError | None) -> dict[str, str]:
    """field -> message of a refusal (its one field, or "form"), for the pricing pages' templates."""
    if error is None:
        return {}
    return dict(error.errors) if isinstance(error, FormErrors) else {error.field or "form": error.message}


def refused(template: str, error: DomainError, **context):
    """The page again with the refusal's messages, as its 4xx: the refused write is rolled back first."""
    db.session.rollback()
    return render_template(template, errors=errors_of(error), form=request.form, **context), error.status


def amount_text(minor: int | None) -> str:
    return "" if minor is None else format_input(minor, g.store.currency, g.store.locale)


def percent_text(basis_points: int) -> str:
    whole, part = divmod(basis_points, 100)
    return f"{whole}.{part:02d}".rstrip("0").rstrip(".")
