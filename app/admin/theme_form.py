"""The customizer's form: reading what it posts into a theme state, and the
structural edits its buttons ask for (add, remove and move sections and
blocks, clear an image).

Field names: a theme setting posts under its id (`color_accent`); a section
under `sec.<section id>.<setting id>`, its blocks under
`sec.<section id>.b<n>.<setting id>`. `section` lists the sections in order
and `sec.<id>.block` a section's blocks in order, so moving one is only a
change of order. A file input `upload.<field name>` replaces an image.

Values are checked here with the theme's own rules (app.theming.settings),
one field at a time, only to say *which field* is wrong; the service checks
everything again before it saves.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import g

from app import parse
from app.catalog.images import FORMATS, ImageRejected, PreparedImage, prepare_image
from app.parse import BadInput, bad
from app.theming.registry import Theme
from app.theming.settings import MAX_BLOCKS, MAX_SECTIONS, clean_value, new_id

SECTION_ID = re.compile(r"[a-z0-9]{1,16}")
BLOCK_INDEX = re.compile(r"[0-9]{1,2}")
# Logos and banners: the formats every browser shows (no GIF: animated banners are not what these fields are for).
IMAGE_TYPES = {FORMATS[name][0] for name in ("PNG", "JPEG", "WEBP")}
OPS = ("up", "down", "remove", "add_block", "remove_block", "block_up", "block_down", "clear")


@dataclass
class Posted:
    """A customizer form as posted: raw values, not yet cleaned."""

    settings: dict  # setting id -> raw value ("" / "1" for checkboxes)
    sections: list[dict] | None  # None: the form did not carry sections (keep the saved ones)
    errors: dict[str, str] = field(default_factory=dict)  # form field name -> message
    prepared: list[PreparedImage] = field(default_factory=list)  # uploads, checked, not yet stored


def field_id(name: str) -> str:
    """The HTML id of a form field (ids and fragment links keep to letters, digits and hyphens)."""
    return "f-" + re.sub(r"[^a-zA-Z0-9_-]", "-", name)


def read(theme: Theme, form, files) -> Posted:
    """The posted settings and sections, with uploads prepared and the op applied."""
    settings = {}
    for setting in theme.settings:
        key = setting["id"]
        if setting["type"] == "checkbox":
            if form.get("_checkboxes") == "1":
                settings[key] = "1" if parse.checkbox(form, key) else ""
        elif key in form:
            settings[key] = form.get(key)
    sections = _sections(theme, form) if form.get("_sections") == "1" else None
    posted = Posted(settings, sections)
    _uploads(theme, posted, files)
    op = form.get("op")
    if op:
        apply_op(theme, posted, op, form)
    return posted


def _sections(theme: Theme, form) -> list[dict]:
    ids = form.getlist("section")
    if len(ids) > MAX_SECTIONS or len(set(ids)) != len(ids) or not all(SECTION_ID.fullmatch(i) for i in ids):
        raise bad("The homepage sections were not posted as the page sent them; reload the page.", "sections")
    return [_section(theme, form, section_id) for section_id in ids]


def _section(theme: Theme, form, section_id: str) -> dict:
    prefix = f"sec.{section_id}."
    kind = form.get(prefix + "type", "")
    schema = theme.sections.get(kind)
    if schema is None:
        raise bad("That kind of section does not exist in this theme.", "sections")
    blocks = []
    numbers = form.getlist(prefix + "block")
    if len(numbers) > MAX_BLOCKS or not all(BLOCK_INDEX.fullmatch(n) for n in numbers):
        raise bad(f"{schema['label']}: at most {MAX_BLOCKS} blocks.", "sections")
    for number in numbers:
        block_prefix = f"{prefix}b{number}."
        block_type = form.get(block_prefix + "type", "")
        block_schema = schema.get("blocks", {}).get(block_type)
        if block_schema is None:
            raise bad(f"{schema['label']}: that kind of block does not exist.", "sections")
        blocks.append({"type": block_type, "settings": _values(block_schema.get("settings", ()), form, block_prefix)})
    return {"id": section_id, "type": kind, "settings": _values(schema.get("settings", ()), form, prefix),
            "blocks": blocks}


def _values(schema: list[dict], form, prefix: str) -> dict:
    values = {}
    for setting in schema:
        name = prefix + setting["id"]
        if setting["type"] == "checkbox":
            values[setting["id"]] = "1" if parse.checkbox(form, name) else ""
        elif name in form:
            values[setting["id"]] = form.get(name)
    return values


# -- images -----------------------------------------------------------------------------------------------------------

def image_fields(theme: Theme, posted: Posted) -> dict[str, tuple[dict, dict]]:
    """Form field name -> (the setting, the dict its value lives in), for every image field of the form."""
    found = {s["id"]: (s, posted.settings) for s in theme.settings if s["type"] == "image"}
    for section in posted.sections or ():
        schema = theme.sections[section["type"]]
        for setting in schema.get("settings", ()):
            if setting["type"] == "image":
                found[f"sec.{section['id']}.{setting['id']}"] = (setting, section["settings"])
    return found


def _uploads(theme: Theme, posted: Posted, files) -> None:
    """Check each chosen file (in memory; nothing is stored yet) and take its key as the field's value."""
    targets = image_fields(theme, posted)
    for key in files:
        upload = files.get(key)
        name = key.removeprefix("upload.")
        if not key.startswith("upload.") or name not in targets or upload is None or not upload.filename:
            continue
        setting, values = targets[name]
        try:
            prepared = prepare_image(g.store.id, upload.read(10 * 1024 * 1024 + 1))
            if prepared.columns["content_type"] not in IMAGE_TYPES:
                raise ImageRejected("Upload a PNG, JPEG or WebP image.")
        except ImageRejected as error:
            posted.errors[name] = str(error)
            continue
        posted.prepared.append(prepared)
        values[setting["id"]] = prepared.columns["storage_key"]


# -- structural edits -------------------------------------------------------------------------------------------------

def apply_op(theme: Theme, posted: Posted, op: str, form) -> None:
    """One button's edit: "add_section" (of the type chosen in `new_section`), or "<verb>:<section id>[:<n>]"."""
    if op == "add_section":
        _add_section(theme, posted, form.get("new_section", ""))
        return
    verb, _, rest = op.partition(":")
    if verb == "clear":
        _clear_image(theme, posted, rest)
        return
    section_id, _, number = rest.partition(":")
    sections = posted.sections
    index = next((i for i, s in enumerate(sections or ()) if s["id"] == section_id), None)
    if verb not in OPS or index is None:
        raise bad("That button does not belong to this form; reload the page.", "sections")
    if verb in ("up", "down", "remove"):
        _move(sections, index, verb)
        return
    blocks = sections[index]["blocks"]
    if verb == "add_block":
        _add_block(theme, sections[index], form.get(f"sec.{section_id}.new_block", ""))
        return
    if not BLOCK_INDEX.fullmatch(number) or int(number) >= len(blocks):
        raise bad("That block is not in this section any more; reload the page.", "sections")
    _move(blocks, int(number), {"block_up": "up", "block_down": "down", "remove_block": "remove"}[verb])


def _move(items: list, index: int, verb: str) -> None:
    if verb == "remove":
        items.pop(index)
    elif verb == "up" and index > 0:
        items[index - 1], items[index] = items[index], items[index - 1]
    elif verb == "down" and index < len(items) - 1:
        items[index + 1], items[index] = items[index], items[index + 1]


def _add_section(theme: Theme, posted: Posted, kind: str) -> None:
    if kind not in theme.sections:
        raise bad("Choose a kind of section to add.", "new_section")
    if posted.sections is None:
        raise bad("The homepage sections were not posted as the page sent them; reload the page.", "sections")
    if len(posted.sections) >= MAX_SECTIONS:
        raise bad(f"A homepage can have at most {MAX_SECTIONS} sections.", "new_section")
    posted.sections.append({"id": new_id(), "type": kind, "settings": {}, "blocks": []})


def _add_block(theme: Theme, section: dict, block_type: str) -> None:
    schema = theme.sections[section["type"]]
    kinds = schema.get("blocks", {})
    if len(kinds) == 1 and not block_type:
        block_type = next(iter(kinds))
    if block_type not in kinds:
        raise bad(f"{schema['label']}: choose a kind of block to add.", f"sec.{section['id']}.new_block")
    limit = schema.get("max_blocks", MAX_BLOCKS)
    if len(section["blocks"]) >= limit:
        raise bad(f"{schema['label']}: at most {limit} blocks.", f"sec.{section['id']}.new_block")
    section["blocks"].append({"type": block_type, "settings": {}})


def _clear_image(theme: Theme, posted: Posted, name: str) -> None:
    targets = image_fields(theme, posted)
    if name not in targets:
        raise bad("That image field is not part of this form; reload the page.", "sections")
    setting, values = targets[name]
    values[setting["id"]] = ""


# -- which field is wrong ---------------------------------------------------------------------------------------------

def check_fields(theme: Theme, posted: Posted) -> None:
    """Fill `posted.errors` with each field that its setting refuses, by form field name."""
    for setting in theme.settings:
        if setting["id"] in posted.settings:
            _check(setting, posted.settings[setting["id"]], setting["id"], "", posted.errors)
    for section in posted.sections or ():
        schema = theme.sections[section["type"]]
        where = schema["label"] + ": "
        for setting in schema.get("settings", ()):
            if setting["id"] in section["settings"]:
                _check(setting, section["settings"][setting["id"]], f"sec.{section['id']}.{setting['id']}", where,
                       posted.errors)
        for number, block in enumerate(section["blocks"]):
            for setting in schema["blocks"][block["type"]].get("settings", ()):
                if setting["id"] in block["settings"]:
                    _check(setting, block["settings"][setting["id"]],
                           f"sec.{section['id']}.b{number}.{setting['id']}", where, posted.errors)


def _check(setting: dict, raw, name: str, where: str, errors: dict) -> None:
    if name in errors:
        return
    try:
        value = clean_value(setting, raw, where)
    except BadInput as error:
        errors[name] = error.message
        return
    if setting["type"] == "image" and value and not value.startswith(f"{g.store.id}/"):
        errors[name] = f"{where}{setting.get('label', setting['id'])} is not an image of this store."
