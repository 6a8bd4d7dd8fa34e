"""Reading input at the edge. Every number, id, flag and piece of text a
request brings is parsed here, into plain values or a clear 4xx, before a
service or a query sees it.

- Digits are ASCII only: "²" and "١٢٣" pass str.isdigit() but are not
  numbers we take.
- Numbers are bounded, so they fit the columns they are stored in.
- Text never carries NUL or other control characters (PostgreSQL refuses
  NUL; the others only ever hide things). `refuse_control_characters` checks
  a whole request (path, query, form fields, file names, JSON) up front.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from urllib.parse import urlsplit

from flask import abort, request
from werkzeug.routing import BaseConverter, ValidationError

from app.domain_errors import DomainError

MAX_ID = 2**63 - 1  # BIGINT
MAX_INT = 2**31 - 1  # INTEGER
MAX_PAGE = 100_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\t\n\r]")
_ASCII_DIGITS = re.compile(r"[0-9]+")


class InputErrorCode(str, Enum):
    INVALID = "invalid"


class BadInput(DomainError):
    """A value that is not what the field takes; nothing was changed."""


def bad(message: str, field: str | None = None, status: int = 422) -> BadInput:
    return BadInput(InputErrorCode.INVALID, message, field, status=status)


def has_control_characters(value: str, *, multiline: bool = True) -> bool:
    return bool(_CONTROL.search(value) or (not multiline and _LINE_BREAKS.search(value)))


def text(value, *, field: str, label: str, max_length: int, required: bool = False,
         multiline: bool = False) -> str:
    """Trimmed text; single-line text also has its runs of whitespace folded."""
    raw = "" if value is None else str(value)
    if has_control_characters(raw):
        raise bad(f"{label} contains a control character.", field)
    cleaned = raw.strip() if multiline else " ".join(raw.split())
    if required and not cleaned:
        raise bad(f"{label} is required.", field)
    if len(cleaned) > max_length:
        raise bad(f"{label} can be at most {max_length} characters.", field)
    return cleaned


def whole_number(value, *, field: str, label: str, minimum: int = 0, maximum: int = MAX_INT,
                 default: int | None = None, signed: bool = False) -> int | None:
    """An integer written in ASCII digits (with a sign if `signed`), within bounds;
    blank gives `default`."""
    raw = "" if value is None else str(value).strip()
    if raw == "":
        return default
    digits = raw[1:] if signed and raw[:1] in "+-" else raw
    if not _ASCII_DIGITS.fullmatch(digits):
        kind = "a whole number such as 5 or -2" if signed else "a whole number"
        raise bad(f"{label} must be {kind}.", field)
    # Too many digits is out of bounds too, found before int() reads a huge string.
    too_long = len(digits) > len(str(max(abs(minimum), abs(maximum)))) + 1
    number = None if too_long else int(raw)
    if number is None or not minimum <= number <= maximum:
        raise bad(f"{label} must be between {minimum:,} and {maximum:,}.", field)
    return number


def record_id(value, *, field: str = "id", label: str = "That choice") -> int:
    """The id of a row (1 to BIGINT's top); anything else is a 422 (ids come
    from the page's own choices, so the message says to pick one)."""
    try:
        number = whole_number(value, field=field, label=label, minimum=1, maximum=MAX_ID)
    except BadInput:
        number = None
    if number is None:
        raise bad(f"{label} is not one of the choices on the page; pick one there.", field)
    return number


def record_ids(values, *, field: str, label: str = "A selected item", limit: int = 10_000) -> list[int]:
    """Several ids (a multi-select), in order, without repeats."""
    values = list(values)
    if len(values) > limit:
        raise bad(f"Select at most {limit:,} at a time.", field)
    return list(dict.fromkeys(record_id(value, field=field, label=label) for value in values))


def checkbox(form: Mapping, name: str) -> bool:
    """A checkbox, also when the form pairs it with a hidden "off" field of
    the same name so an unticked box is still posted: any "on" wins."""
    values = form.getlist(name) if hasattr(form, "getlist") else [form.get(name)]
    return any(str(value).strip().lower() in ("on", "1", "true", "yes") for value in values if value is not None)


def page_number(args: Mapping, name: str = "page") -> int:
    """A list's page from the query string: 1 when absent; anything but a
    page number (blank included) is a 400, since only a link carries it."""
    raw = args.get(name)
    if raw is None:
        return 1
    try:
        number = whole_number(raw, field=name, label="The page", minimum=1, maximum=MAX_PAGE)
    except BadInput as error:
        raise bad(error.message, name, status=400) from None
    if number is None:
        raise bad("The page must be a whole number.", name, status=400)
    return number


class IdConverter(BaseConverter):
    """`<id:name>` in a route: a row id that fits BIGINT; anything else is a 404."""

    regex = r"[1-9][0-9]{0,18}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))


def refuse_control_characters() -> None:
    """before_request: a request whose path, query, form, file names or JSON
    carry NUL or another control character is a 400, before anything runs."""
    values = [request.path, *request.args.keys(), *request.args.values()]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if request.is_json:  # no form to parse: a JSON body carries none
            values += list(_json_strings(request.get_json(silent=True)))
        else:
            values += [*request.form.keys(), *request.form.values()]
            values += [f.filename or "" for f in request.files.values()]
    if any(has_control_characters(value) for value in values):
        abort(400, description="The request contains a control character (such as NUL) that no field accepts.")


def _json_strings(value, depth: int = 0):
    if depth > 32:
        abort(400, description="The JSON body is nested too deeply.")
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _json_strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item, depth + 1)


def same_site_path(target) -> str | None:
    """A path on this site to go back to (a login's `next`), or None: never an open redirect."""
    if not isinstance(target, str) or not target or len(target) > 2000:
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None  # browsers read "/\\evil.example" as "//evil.example"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
