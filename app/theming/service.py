"""A store's themes: which one shoppers see, its settings, drafts, publishing
and template overrides. Runs inside a store context (tenants.context)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import (UNSAFE_ASYNC_GENERATOR_ATTRIBUTES, UNSAFE_COROUTINE_ATTRIBUTES, UNSAFE_FUNCTION_ATTRIBUTES,
                            UNSAFE_GENERATOR_ATTRIBUTES, UNSAFE_METHOD_ATTRIBUTES)

from app.effects import emit
from app.extensions import db
from app.parse import bad
from app.store.service import record
from app.theming.models import StoreTheme, TemplateOverride
from app.theming.render import WIDE_FORMAT
from app.theming.registry import DEFAULT_THEME, Theme, get_theme, themes
from app.theming.settings import clean_sections, clean_settings, default_state

THEME_CHANGED = "theme.changed"  # listeners only: what shoppers see of the theme changed
MAX_OVERRIDE_LENGTH = 100_000


@dataclass(frozen=True)
class LiveTheme:
    """What a storefront renders with: the theme, published settings and
    sections, and the store's template overrides of that theme."""

    theme: Theme
    settings: dict
    sections: list
    overrides: dict[str, str]
    published_at: datetime | None


def theme_or_404(name: str) -> Theme:
    # A theme's name is a folder's (and a 64-character column): longer is no theme, and no file lookup.
    theme = get_theme(name) if isinstance(name, str) and name.isidentifier() and len(name) <= 64 else None
    if theme is None:
        raise bad("No such theme.", "theme", status=404)
    return theme


def live() -> LiveTheme | None:
    """The published live theme, or None: the store shows "coming soon"."""
    row = db.session.scalar(sa.select(StoreTheme).where(StoreTheme.live))
    theme = get_theme(row.theme) if row is not None and row.published is not None else None
    if theme is None:
        return None
    return LiveTheme(theme, row.published["settings"], row.published["sections"], overrides(theme.name),
                     row.published_at)


def draft(theme: Theme) -> LiveTheme:
    """A theme as the customizer shows it: its draft (not yet saved: defaults)."""
    row = _row(theme.name)
    state = row.draft if row is not None else _starting_state(theme)
    return LiveTheme(theme, state["settings"], state["sections"], overrides(theme.name), None)


def rows() -> dict[str, StoreTheme]:
    return {row.theme: row for row in db.session.scalars(sa.select(StoreTheme))}


def _row(name: str) -> StoreTheme | None:
    return db.session.scalar(sa.select(StoreTheme).where(StoreTheme.theme == name))


def _starting_state(theme: Theme) -> dict:
    """A theme opened for the first time starts from its defaults, keeping
    what the merchant chose in the store's live theme (or last edited one):
    the shared settings they changed from that theme's defaults, such as a
    logo or brand colours. Settings left at the other theme's defaults take
    this theme's, so it keeps its own look."""
    other = db.session.scalar(sa.select(StoreTheme).order_by(StoreTheme.live.desc(), StoreTheme.updated_at.desc())
                              .limit(1))
    if other is None:
        return default_state(theme)
    settings = (other.published or other.draft)["settings"]
    other_theme = get_theme(other.theme)
    defaults = other_theme.default_settings() if other_theme is not None else {}
    chosen = {key: value for key, value in settings.items() if key not in defaults or value != defaults[key]}
    return default_state(theme, chosen)


def save_draft(theme: Theme, posted_settings: dict | None = None, sections: list | None = None, *,
               actor: str) -> StoreTheme:
    """Clean and keep a draft; shoppers see nothing of it until it is published. Commits."""
    row = _row(theme.name)
    state = row.draft if row is not None else _starting_state(theme)
    new_state = {
        "settings": clean_settings(theme, posted_settings, state["settings"]) if posted_settings is not None
        else state["settings"],
        "sections": clean_sections(theme, sections) if sections is not None else state["sections"],
    }
    if row is None:
        row = StoreTheme(theme=theme.name, draft=new_state)
        db.session.add(row)
    else:
        row.draft = new_state
    db.session.commit()
    return row


def publish(theme: Theme, *, actor: str) -> StoreTheme:
    """Make the theme's draft what shoppers see (and the theme the live one). Commits."""
    row = _row(theme.name)
    if row is None:
        row = StoreTheme(theme=theme.name, draft=_starting_state(theme))
        db.session.add(row)
    db.session.execute(sa.update(StoreTheme).where(StoreTheme.live, StoreTheme.theme != theme.name)
                       .values(live=False))
    db.session.flush()
    row.published, row.live, row.published_at = row.draft, True, sa.func.now()
    record(actor, "theme.published", f"Published the {theme.title} theme")
    emit(THEME_CHANGED)
    db.session.commit()
    return row


def offered() -> list[Theme]:
    return list(themes())


def default_theme() -> Theme:
    return get_theme(DEFAULT_THEME)


def overrides(theme_name: str) -> dict[str, str]:
    return dict(db.session.execute(sa.select(TemplateOverride.name, TemplateOverride.source)
                                   .where(TemplateOverride.theme == theme_name)).all())


def save_override(theme: Theme, name: str, source: str, context: dict, *, actor: str) -> TemplateOverride:
    """Keep the store's own version of one of the theme's templates, once it
    compiles and renders `context` within the budget (else a 422 naming the
    error; nothing is saved). Commits."""
    from app.theming.render import RENDER_FAILURES, check_override

    if name not in theme.template_names():
        raise bad("That template is not part of this theme.", "name", status=404)
    if "\x00" in source or len(source) > MAX_OVERRIDE_LENGTH:
        raise bad(f"A template can be at most {MAX_OVERRIDE_LENGTH:,} characters, without NUL.", "source")
    problem = template_problem(theme, source)
    if problem:
        raise bad(f"The template was not saved: {problem}", "source")
    try:
        check_override(theme, {**overrides(theme.name), name: source}, name, context)
    except RENDER_FAILURES as exc:
        line = getattr(exc, "lineno", None)
        raise bad(f"The template was not saved: {exc}" + (f" (line {line})" if line else ""), "source") from exc
    row = db.session.scalar(sa.select(TemplateOverride).where(TemplateOverride.theme == theme.name,
                                                              TemplateOverride.name == name))
    if row is None:
        row = TemplateOverride(theme=theme.name, name=name, source=source, updated_by=actor)
        db.session.add(row)
    else:
        row.source, row.updated_by = source, actor
    record(actor, "theme.template_edited", f"Edited {name} of the {theme.title} theme")
    emit(THEME_CHANGED)
    db.session.commit()
    return row


def delete_override(theme: Theme, name: str, *, actor: str) -> None:
    """Go back to the theme's own template. Commits."""
    db.session.execute(sa.delete(TemplateOverride).where(TemplateOverride.theme == theme.name,
                                                         TemplateOverride.name == name))
    record(actor, "theme.template_reset", f"Reset {name} of the {theme.title} theme")
    emit(THEME_CHANGED)
    db.session.commit()


def image_audience(originals: tuple[str, ...]) -> str | None:
    """Who may see an image file the store's themes use (a logo, a banner),
    like app.catalog.product_images.audience: "public" while the published
    live theme shows it, "dashboard" while only a draft or another theme
    does, None when no theme uses it."""
    wanted = set(originals)
    used_live, used = False, False
    for row in db.session.scalars(sa.select(StoreTheme)):
        for state, shown in ((row.published, row.live), (row.draft, False)):
            if state is not None and wanted & _image_keys(state):
                used = True
                used_live = used_live or shown
    return "public" if used_live else "dashboard" if used else None


def _image_keys(state: dict) -> set[str]:
    """Every string value of a state's settings, sections and blocks (image keys among them)."""
    values = list(state.get("settings", {}).values())
    for section in state.get("sections", []):
        values += list(section.get("settings", {}).values())
        values += [v for block in section.get("blocks", []) for v in block.get("settings", {}).values()]
    return {value for value in values if isinstance(value, str) and value}


# What a store template may not even mention. The sandbox would refuse or blank these at render
# time; naming them is either a probe or a mistake, so the editor says so up front.
FLASK_NAMES = frozenset({"config", "request", "session", "g", "current_app", "current_user", "url_for",
                         "get_flashed_messages", "__builtins__"})
MAX_ARGUMENT = 10_000  # the largest number passed to a filter or function (range(), center(), slice()...)
MAX_NUMBER = 1_000_000_000  # the largest number written in a template
_UNSAFE_ATTRIBUTES = (UNSAFE_FUNCTION_ATTRIBUTES | UNSAFE_METHOD_ATTRIBUTES | UNSAFE_GENERATOR_ATTRIBUTES
                      | UNSAFE_COROUTINE_ATTRIBUTES | UNSAFE_ASYNC_GENERATOR_ATTRIBUTES | {"mro", "format_map"})


def template_problem(theme: Theme, source: str) -> str | None:
    """Why a store template is refused before it is even rendered (Python
    internals, Flask's objects, numbers that only make huge output), with its
    line; None when nothing is wrong here (render-time checks still follow)."""
    from app.theming.render import theme_environment  # as save_override does

    try:
        tree = theme_environment(theme).parse(source)
    except TemplateSyntaxError:
        return None  # the render check reports it, with its line
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name, nodes.Const, nodes.Filter, nodes.Call)):
        where = f" (line {node.lineno})"
        attribute = node.attr if isinstance(node, nodes.Getattr) else \
            node.arg.value if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) else None
        if isinstance(attribute, str) and (attribute.startswith("_") or attribute in _UNSAFE_ATTRIBUTES):
            return f"“{attribute}” is not available to store templates{where}."
        if isinstance(node, nodes.Name) and node.name in FLASK_NAMES:
            return f"“{node.name}” is not available to store templates{where}."
        if isinstance(node, nodes.Const):
            value = node.value
            if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
                return f"numbers in templates are at most {MAX_NUMBER:,}{where}."
            if isinstance(value, str) and WIDE_FORMAT.search(value):
                return f"a format width of 10,000 characters or more{where}."
        if isinstance(node, nodes.Filter | nodes.Call):
            for argument in [*node.args, *(keyword.value for keyword in node.kwargs)]:
                if isinstance(argument, nodes.Const) and isinstance(argument.value, int | float) \
                        and not isinstance(argument.value, bool) and abs(argument.value) > MAX_ARGUMENT:
                    return f"numbers passed to filters and functions are at most {MAX_ARGUMENT:,}{where}."
    return None
