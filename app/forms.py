"""Form helpers shared by the platform and the dashboard.

Forms carry CSRF and raw values; validation lives in the services, whose
errors name the field at fault.
"""
from __future__ import annotations

from flask import render_template
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from app.money import CURRENCIES, LOCALES, format_input
from app.domain_errors import DomainError
from app.extensions import db

CURRENCY_CHOICES = [SelectChoice(code, f"{code} — {name}") for code, name in CURRENCIES.items()]
# Each locale with a sample amount, so the choice shows what it changes.
LOCALE_CHOICES = [SelectChoice(code, f"{name} — {format_input(123456789, 'USD', code)}")
                  for code, name in sorted(LOCALES.items(), key=lambda item: item[1])]


def attach_error(form: FlaskForm, error: DomainError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def render_invalid(template: str, form: FlaskForm, error: DomainError, **context):
    """Re-render a form with the service's message, as a 4xx. The refused
    write leaves nothing behind: the page's reads must not flush it."""
    db.session.rollback()
    attach_error(form, error)
    return render_template(template, form=form, **context), error.status
