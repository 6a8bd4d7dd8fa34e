"""Stripe's list and search pages, and `expand`."""
from __future__ import annotations

import re
from collections.abc import Callable

from app.payments.emulator import params as p
from app.payments.emulator.errors import invalid
from app.payments.emulator.state import State

CREATED = {"gt": p.integer(), "gte": p.integer(), "lt": p.integer(), "lte": p.integer()}
LIST_SPEC: p.Spec = {"limit": p.LIMIT, "starting_after": p.string(200), "ending_before": p.string(200),
                     "expand": p.EXPAND}
# What each object can expand: field -> the table its id is in.
EXPANDABLE = {
    "payment_intent": {"latest_charge": "charges", "payment_method": "payment_methods"},
    "charge": {"payment_intent": "payment_intents"},
    "refund": {"charge": "charges", "payment_intent": "payment_intents"},
}


def created_filter(name: str, raw) -> Callable[[int], bool]:
    """`created=123` or `created[gte]=...`: a test on an object's created time."""
    if isinstance(raw, str):
        exact = p.integer()(name, raw)
        return lambda value: value == exact
    bounds = p.read(raw, CREATED, name)
    tests = {"gt": lambda v, b: v > b, "gte": lambda v, b: v >= b, "lt": lambda v, b: v < b, "lte": lambda v, b: v <= b}
    return lambda value: all(tests[op](value, bound) for op, bound in bounds.items())


def page(state: State, kind: str, items: list[dict], values: dict, url: str) -> dict:
    """Newest first, `limit` of them, after `starting_after` or before `ending_before`."""
    limit = values.get("limit", 10)
    items = items[::-1]  # the tables keep creation order; ties in `created` stay in it
    ids = [obj["id"] for obj in items]
    if "starting_after" in values:
        cursor = _position(ids, values["starting_after"], "starting_after")
        chosen, has_more = items[cursor + 1:cursor + 1 + limit], len(items) > cursor + 1 + limit
    elif "ending_before" in values:
        cursor = _position(ids, values["ending_before"], "ending_before")
        start = max(0, cursor - limit)
        chosen, has_more = items[start:cursor], start > 0
    else:
        chosen, has_more = items[:limit], len(items) > limit
    expand = [path.removeprefix("data.") for path in values.get("expand", [])]
    data = [render(state, _object_name(kind), obj, expand) for obj in chosen]
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def _position(ids: list[str], object_id: str, param: str) -> int:
    try:
        return ids.index(object_id)
    except ValueError:
        raise invalid(f"No such object: '{object_id}'", param=param, code="resource_missing") from None


def _object_name(kind: str) -> str:
    return {"payment_intents": "payment_intent", "charges": "charge", "refunds": "refund"}.get(kind, kind)


def render(state: State, object_name: str, obj: dict, expand: list[str]) -> dict:
    """The object as returned, with the fields named in `expand` replaced by the objects they name."""
    if not expand:
        return obj
    fields = EXPANDABLE.get(object_name, {})
    shown = dict(obj)
    for path in expand:
        if path not in fields:
            raise invalid(f"This property cannot be expanded ({path}).", param="expand")
        target = obj.get(path)
        if target:
            shown[path] = state.table(fields[path]).get(target, target)
    return shown


# -- search: enough of Stripe's query language for metadata, status, amount, currency, created -------------------------

_CLAUSE = re.compile(r"""^(-)?(metadata\[(?:'([^']*)'|"([^"]*)")\]|[a-z_]+)\s*(:|>=|<=|>|<)\s*"""
                     r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?[0-9]+)$""")
SEARCHABLE = {"status": "text", "currency": "text", "customer": "text", "amount": "number", "created": "number"}


def search_test(query: str) -> Callable[[dict], bool]:
    """A test for objects matching `query`: clauses joined all by AND or all by OR (Stripe forbids mixing)."""
    text = query.strip()
    joiners = set(re.findall(r"\s(AND|OR)\s", text))
    if not text or len(joiners) > 1:
        raise invalid("Invalid search query: use either AND or OR to join clauses, not both."
                      if joiners else "Invalid search query: the query is empty.", param="query")
    joiner = joiners.pop() if joiners else "AND"
    tests = [_clause(part.strip()) for part in re.split(rf"\s{joiner}\s", text)]
    if len(tests) > 10:
        raise invalid("Invalid search query: at most 10 clauses are allowed.", param="query")
    combine = all if joiner == "AND" else any
    return lambda obj: combine(test(obj) for test in tests)


def _clause(part: str) -> Callable[[dict], bool]:
    match = _CLAUSE.match(part)
    if not match:
        raise invalid(f"Invalid search query: could not parse the clause `{part[:100]}`.", param="query")
    negate, field, key_single, key_double, operator, raw = match.groups()
    value = raw[1:-1].replace("\\'", "'").replace('\\"', '"') if raw[0] in "'\"" else raw
    key = key_single if key_single is not None else key_double
    if key is not None:
        if operator != ":":
            raise invalid("Invalid search query: metadata takes only `:`.", param="query")
        test = lambda obj: obj["metadata"].get(key) == value  # noqa: E731
    elif SEARCHABLE.get(field) == "text":
        if operator != ":":
            raise invalid(f"Invalid search query: {field} takes only `:`.", param="query")
        test = lambda obj: str(obj.get(field)) == value  # noqa: E731
    elif SEARCHABLE.get(field) == "number":
        test = _numeric(field, operator, value)
    else:
        raise invalid(f"Invalid search query: {field} is not a supported search field.", param="query")
    return (lambda obj: not test(obj)) if negate else test


def _numeric(field: str, operator: str, value: str) -> Callable[[dict], bool]:
    if not re.fullmatch(r"-?[0-9]{1,18}", value):
        raise invalid(f"Invalid search query: {field} takes a number.", param="query")
    number = int(value)
    compare = {":": int.__eq__, ">": int.__gt__, "<": int.__lt__, ">=": int.__ge__, "<=": int.__le__}[operator]
    return lambda obj: compare(obj[field], number)


def search_page(state: State, kind: str, items: list[dict], values: dict, url: str) -> dict:
    test = search_test(values["query"])
    found = [obj for obj in reversed(items) if test(obj)]
    offset = 0
    if "page" in values:
        token = values["page"]
        if not re.fullmatch(r"page_[0-9]{1,9}", token):
            raise invalid("Invalid page: the page token is not one this search returned.", param="page")
        offset = int(token.removeprefix("page_"))
    limit = values.get("limit", 10)
    chosen = found[offset:offset + limit]
    has_more = len(found) > offset + limit
    expand = [path.removeprefix("data.") for path in values.get("expand", [])]
    return {"object": "search_result", "data": [render(state, _object_name(kind), obj, expand) for obj in chosen],
            "has_more": has_more, "next_page": f"page_{offset + limit}" if has_more else None, "url": url}
