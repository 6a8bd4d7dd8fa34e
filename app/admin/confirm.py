"""Asking before a destructive POST. The form's delete button posts without
`confirmed`; the answer is a page naming what would go, whose Confirm
button posts the same request again with `confirmed=yes`. With JavaScript,
static/js/editor.js asks first and adds `confirmed=yes` itself, so the page
is what a merchant without JavaScript (or a stray double post) sees."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import render_template, request

from app import parse


@dataclass
class Choice:
    """A button of the confirmation form: it posts `name=value`."""
    label: str
    name: str
    value: str
    style: str = "secondary"


@dataclass
class Confirmation:
    title: str
    message: str
    action: str  # the URL the confirmed form posts to
    cancel_url: str
    confirm: Choice
    items: list[str] = field(default_factory=list)
    more: int = 0  # items not listed
    fields: list[tuple[str, str]] = field(default_factory=list)  # hidden name/value pairs to post again
    alternatives: list[Choice] = field(default_factory=list)  # offered before the destructive choice
    image_url: str | None = None


def confirmed(form) -> bool:
    return parse.checkbox(form, "confirmed")


def confirmation_page(confirmation: Confirmation):
    """200: nothing has changed yet, the page only asks. An htmx form that
    targets one section gets the page as the whole page, not in the section."""
    headers = {"HX-Retarget": "body", "HX-Reswap": "innerHTML"} if request.headers.get("HX-Request") else {}
    return render_template("admin/confirm.html", c=confirmation), 200, headers
