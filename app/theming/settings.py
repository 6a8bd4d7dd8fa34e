"""Cleaning theme settings and homepage sections against a theme's schema.

What the customizer posts is untrusted: every value is checked against its
setting's type (unknown ids are dropped, bad values refused with a message
naming the setting), so a template only ever sees well-formed values.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

from app.catalog.images import parse_key
from app.parse import bad, has_control_characters
from app.theming.registry import FONT_STACKS, Theme
from tenants.context import require_store

MAX_SECTIONS = 20
MAX_BLOCKS = 12
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_HANDLE = re.compile(r"[a-z0-9][a-z0-9-]{0,254}")
_SECTION_ID = re.compile(r"[a-z0-9]{1,16}")


def clean_value(setting: dict, raw, where: str = ""):
    """One setting's value from what was posted (a string, or None when absent)."""
    kind, label = setting["type"], where + setting.get("label", setting["id"])
    if kind == "checkbox":
        return raw not in (None, "", "0", "off", "false", False)
    raw = "" if raw is None else str(raw)
    if has_control_characters(raw, multiline=kind == "textarea"):
        raise bad(f"{label} contains a control character.", setting["id"])
    raw = raw.strip()
    if kind == "color":
        if not _COLOR.fullmatch(raw):
            raise bad(f"{label} must be a colour like #1a2b3c.", setting["id"])
        return raw.lower()
    if kind == "font":
        if raw not in FONT_STACKS:
            raise bad(f"Choose one of the fonts offered for {label}.", setting["id"])
        return raw
    if kind == "select":
        if raw not in [str(value) for value, _ in setting["options"]]:
            raise bad(f"Choose one of the options offered for {label}.", setting["id"])
        return raw
    if kind == "range":
        if not raw.isascii() or not raw.isdigit() or not setting["min"] <= int(raw) <= setting["max"]:
            raise bad(f"{label} must be a whole number from {setting['min']} to {setting['max']}.", setting["id"])
        return int(raw)
    if kind == "image":
        media = parse_key(raw) if raw else None
        if raw and (media is None or media.store_id != require_store().id):
            raise bad(f"{label} is not an image of this store.", setting["id"])
        return raw
    if kind == "collection":
        if raw and not _HANDLE.fullmatch(raw):
            raise bad(f"{label} is not a collection handle.", setting["id"])
        return raw
    if kind == "link":
        if raw and not (raw.startswith("/") and not raw.startswith("//") or raw.startswith("https://")):
            raise bad(f"{label} must be a path on this store (/collections/sale) or an https:// address.",
                      setting["id"])
        return raw[:500]
    limit = setting.get("max_length", 2000 if kind == "textarea" else 200)
    if len(raw) > limit:
        raise bad(f"{label} can be at most {limit} characters.", setting["id"])
    return raw if kind == "textarea" else " ".join(raw.split())


def clean_settings(theme: Theme, posted: Mapping, current: Mapping | None = None) -> dict:
    """The theme's settings from a form: values not posted keep `current`
    (or the default), so a form may show only some of them. Checkboxes are
    read as absent = off only when `posted` says it carries them."""
    current = {**theme.default_settings(), **(current or {})}
    cleaned = {}
    for setting in theme.settings:
        key = setting["id"]
        if key in posted or (setting["type"] == "checkbox" and posted.get("_checkboxes") == "1"):
            cleaned[key] = clean_value(setting, posted.get(key))
        else:
            cleaned[key] = current.get(key)
    return cleaned


def clean_section(theme: Theme, raw: Mapping) -> dict:
    """One homepage section: {"id", "type", "settings", "blocks"}."""
    kind = raw.get("type")
    schema = theme.sections.get(kind) if isinstance(kind, str) else None
    if schema is None:
        raise bad("That kind of section does not exist in this theme.", "sections")
    section_id = raw.get("id") if isinstance(raw.get("id"), str) and _SECTION_ID.fullmatch(raw["id"]) else new_id()
    where = schema["label"] + ": "
    settings = {s["id"]: clean_value(s, (raw.get("settings") or {}).get(s["id"], s.get("default")), where)
                for s in schema.get("settings", ())}
    blocks = []
    block_types = schema.get("blocks", {})
    for block in list(raw.get("blocks") or [])[:MAX_BLOCKS]:
        block_schema = block_types.get(block.get("type")) if isinstance(block, Mapping) else None
        if block_schema is None:
            raise bad(f"{where}that kind of block does not exist.", "sections")
        blocks.append({"type": block["type"], "settings": {
            s["id"]: clean_value(s, (block.get("settings") or {}).get(s["id"], s.get("default")), where)
            for s in block_schema.get("settings", ())}})
    if len(blocks) > schema.get("max_blocks", MAX_BLOCKS):
        raise bad(f"{where}at most {schema.get('max_blocks', MAX_BLOCKS)} blocks.", "sections")
    return {"id": section_id, "type": kind, "settings": settings, "blocks": blocks}


def clean_sections(theme: Theme, raw_sections) -> list[dict]:
    sections = list(raw_sections or [])
    if len(sections) > MAX_SECTIONS:
        raise bad(f"A homepage can have at most {MAX_SECTIONS} sections.", "sections")
    return [clean_section(theme, section if isinstance(section, Mapping) else {}) for section in sections]


def default_state(theme: Theme, carried: Mapping | None = None) -> dict:
    """A theme's starting draft: its defaults, with the settings it shares
    with another theme (same id and type, a value this theme accepts)
    carried over: switching theme keeps the colours, fonts and logo."""
    settings = theme.default_settings()
    for setting in theme.settings:
        if carried and setting["id"] in carried:
            try:
                settings[setting["id"]] = clean_value(setting, _as_posted(carried[setting["id"]]))
            except ValueError:
                pass  # the other theme's value means nothing here: keep this theme's default
    return {"settings": settings, "sections": clean_sections(theme, theme.homepage)}


def _as_posted(value):
    if isinstance(value, bool):
        return "1" if value else ""
    return value


def new_id() -> str:
    return uuid.uuid4().hex[:8]
