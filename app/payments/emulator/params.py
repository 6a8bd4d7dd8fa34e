"""Reading Stripe's form encoding: `metadata[order]=1`, `expand[]=x`,
`expand[0]=x`, `card[number]=...`, into nested dicts, then checking them
against an endpoint's spec with Stripe's own refusals (unknown parameter,
invalid integer, invalid boolean, invalid enum value, string too long).

A spec maps each accepted name to a reader (a function of the parameter's
full name and its raw value) or to a nested spec (a hash parameter).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from app.payments.emulator.errors import invalid, unknown_parameters

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_INTEGER = re.compile(r"^-?[0-9]{1,18}$")  # ASCII digits, within int64
MAX_STRING = 5000
MAX_LIST = 100

Reader = Callable[[str, Any], Any]
Spec = dict[str, "Reader | Spec"]


def nest(pairs: Iterable[tuple[str, str]]) -> dict:
    """Flat form pairs into nested dicts; `[]` segments get the next index as key."""
    root: dict = {}
    for key, value in pairs:
        match = _KEY.match(key)
        path = [key] if not match else [match.group(1), *_SEGMENT.findall(match.group(2))]
        _place(root, path, value, key)
    return root


def _place(root: dict, path: list[str], value: str, key: str) -> None:
    node = root
    for depth, segment in enumerate(path):
        if segment == "":
            segment = str(len(node))
        if depth == len(path) - 1:
            if isinstance(node.get(segment), dict):
                raise invalid(f"Invalid hash: {key} is given both as a hash and as a value", param=key)
            node[segment] = value
            return
        child = node.setdefault(segment, {})
        if not isinstance(child, dict):
            raise invalid(f"Invalid hash: {key} is given both as a hash and as a value", param=key)
        node = child


def read(params: dict, spec: Spec, prefix: str = "") -> dict:
    """The parameters `spec` knows, coerced; unknown names refused the way Stripe words it."""
    unknown = [_name(prefix, key) for key in params if key not in spec]
    if unknown:
        raise unknown_parameters(unknown)
    values = {}
    for key, raw in params.items():
        name, reader = _name(prefix, key), spec[key]
        if isinstance(reader, dict):
            if raw == "":  # an empty hash parameter unsets it, as in Stripe
                values[key] = {}
                continue
            if not isinstance(raw, dict):
                raise invalid("Invalid object", param=name)
            values[key] = read(raw, reader, name)
        else:
            values[key] = reader(name, raw)
    return values


def _name(prefix: str, key: str) -> str:
    return f"{prefix}[{key}]" if prefix else key


def _scalar(name: str, raw: Any, kind: str) -> str:
    if not isinstance(raw, str):
        raise invalid(f"Invalid {kind}: {name} must be a single value, not a hash or an array", param=name)
    if "\x00" in raw:
        raise invalid(f"Invalid {kind}: the value contains a NUL character", param=name)
    return raw


def integer(minimum: int | None = None, maximum: int | None = None) -> Reader:
    def reader(name: str, raw: Any) -> int:
        text = _scalar(name, raw, "integer").strip()
        if not _INTEGER.match(text):
            raise invalid(f"Invalid integer: {text[:100]}", param=name, code="parameter_invalid_integer")
        value = int(text)
        if minimum is not None and value < minimum:
            raise invalid(f"This value must be greater than or equal to {minimum}.", param=name,
                          code="parameter_invalid_integer")
        if maximum is not None and value > maximum:
            raise invalid(f"This value must be less than or equal to {maximum}.", param=name,
                          code="parameter_invalid_integer")
        return value
    return reader


def boolean(name: str, raw: Any) -> bool:
    text = _scalar(name, raw, "boolean")
    if text not in ("true", "false"):
        raise invalid(f"Invalid boolean: {text[:100]}", param=name)
    return text == "true"


def string(max_length: int = MAX_STRING) -> Reader:
    def reader(name: str, raw: Any) -> str:
        text = _scalar(name, raw, "string")
        if len(text) > max_length:
            raise invalid(f"Invalid string: {text[:20]}...; must be at most {max_length} characters", param=name)
        return text
    return reader


def enum(*choices: str) -> Reader:
    def reader(name: str, raw: Any) -> str:
        text = _scalar(name, raw, "string")
        if text not in choices:
            listed = ", ".join(choices[:-1]) + f", or {choices[-1]}" if len(choices) > 1 else choices[0]
            raise invalid(f"Invalid {name}: must be one of {listed}", param=name)
        return text
    return reader


def string_list(max_length: int = MAX_STRING) -> Reader:
    item = string(max_length)

    def reader(name: str, raw: Any) -> list[str]:
        if raw == "":
            return []
        if not isinstance(raw, dict) or not all(key.isascii() and key.isdigit() for key in raw):
            raise invalid("Invalid array", param=name)
        if len(raw) > MAX_LIST:
            raise invalid(f"Invalid array: {name} can have at most {MAX_LIST} items", param=name)
        return [item(f"{name}[{key}]", raw[key]) for key in sorted(raw, key=int)]
    return reader


def metadata(name: str, raw: Any) -> dict[str, str]:
    """Stripe's limits: 50 keys, keys up to 40 characters, values up to 500. An empty value unsets a key."""
    if raw == "":
        return {}
    if not isinstance(raw, dict):
        raise invalid("Invalid object", param=name)
    if len(raw) > 50:
        raise invalid("Invalid metadata: metadata cannot have more than 50 keys", param=name)
    values = {}
    for key, value in raw.items():
        if len(key) > 40:
            raise invalid(f"Invalid metadata: keys can be at most 40 characters long ({key[:40]}...)",
                          param=f"{name}[{key[:40]}]")
        values[key] = string(500)(f"{name}[{key}]", value)
    return values


def merge_metadata(current: dict[str, str], update: dict[str, str], whole: Any) -> dict[str, str]:
    """Stripe's update semantics: `metadata=` clears all, `metadata[k]=` removes k, others set."""
    if whole == "":
        return {}
    merged = {**current, **update}
    return {key: value for key, value in merged.items() if value != ""}


EXPAND = string_list(200)
LIMIT = integer(1, 100)
