"""Rendering a theme's templates, and a store's own versions of them, in a sandbox.

Templates see only what the view passes (plain view objects, never ORM
rows, the app, `config` or `request`) and a short list of filters and
globals (`FILTERS`, `GLOBALS`; documented in themes/README.md). Templates a
merchant wrote (`template_overrides`) are the untrusted part: a store with
any override renders every page in `StoreSandbox`, an immutable Jinja
sandbox that refuses Python internals (`__class__`, `mro`, `__globals__`...)
and checks a render budget at each attribute, item and call, so one that
runs too long or writes too much is stopped. The theme's templates a store
template includes or extends are compiled by that same sandbox (a Jinja
environment compiles and caches its own templates), so they run sandboxed
too. A store's template that fails at render is logged and the theme's own
template is rendered instead, so a bad edit never takes the shop down.

The theme's own templates ship with Vitrine: a store without overrides
renders them in `ThemeEnvironment`, a plain (not sandboxed) environment with
the same filters, tests and globals and the same budget on time (checked
between output chunks and in range()) and output, since the sandbox's checks
at every attribute were most of a page's rendering time. Its loader reads
the theme's folders only, so no store's text is ever compiled by it. The
themes must still render in the sandbox (a store's override runs them
there): tests/storefront/test_sandbox.py renders every theme page both ways.
"""
from __future__ import annotations

import hashlib
import logging
import re
import time
from collections import OrderedDict
from contextvars import ContextVar
from functools import cache, lru_cache

from jinja2 import ChoiceLoader, DictLoader, Environment, FileSystemLoader, TemplateError, pass_context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import Markup

from app.money import format_money
from app.theming.registry import Theme, fingerprint

log = logging.getLogger(__name__)

RENDER_SECONDS = 2.0  # a theme page renders in a few ms; this only stops runaway templates
MAX_OUTPUT = 2_000_000  # characters of one rendered page
MAX_RANGE = 10_000
MAX_STRING = 200_000  # the longest string a template may build with * or replace
_deadline: ContextVar[float] = ContextVar("render_deadline", default=0.0)
WIDE_FORMAT = re.compile(r"(%|\{[^{}]*:)[-+ #0,_<>^=]*[0-9]{5,}")  # "%99999s", "{:>99999}": widths of 10,000+


class RenderLimit(TemplateError):
    """The template ran too long or wrote too much."""


def _check_budget() -> None:
    deadline = _deadline.get()
    if deadline and time.monotonic() > deadline:
        raise RenderLimit(f"the template took longer than {RENDER_SECONDS:g} s to render")


def _bounded_range(*args):
    span = range(*args)
    if len(span) > MAX_RANGE:
        raise RenderLimit(f"range() is limited to {MAX_RANGE:,} numbers")
    for number in span:
        _check_budget()
        yield number


def _narrow(template_text) -> None:
    """Refuse a format string that pads to tens of thousands of characters."""
    if isinstance(template_text, str) and WIDE_FORMAT.search(template_text):
        raise RenderLimit("format widths of 10,000 characters or more are not allowed")


def _capped(text: str) -> str:
    if len(text) > MAX_STRING:
        raise RenderLimit(f"a string of more than {MAX_STRING:,} characters")
    return text


class StoreSandbox(ImmutableSandboxedEnvironment):
    """A sandbox that also keeps time: each attribute, item and call checks
    the render budget, and `*`/`**` cannot make huge strings or numbers."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context, operator, left, right):
        if operator == "%":
            _narrow(left)
            return left % right
        if operator == "**":
            if isinstance(right, int) and (abs(right) > 64 or isinstance(left, int) and
                                           left.bit_length() * abs(right) > 4096):
                raise RenderLimit("numbers that large are not allowed")
            return left ** right
        if isinstance(left, str | list) and isinstance(right, int):
            if len(left) * right > MAX_STRING:
                raise RenderLimit(f"a value of more than {MAX_STRING:,} items")
        if isinstance(right, str | list) and isinstance(left, int):
            return self.call_binop(context, operator, right, left)
        return left * right

    def format_string(self, s, args, kwargs, format_func=None):
        _narrow(s)
        return super().format_string(s, args, kwargs, format_func)

    def unsafe_undefined(self, obj, attribute):
        """Reaching for an internal fails loudly (refused at save, fallen back from at render),
        rather than printing nothing as Jinja's sandbox does."""
        raise SecurityError(f"{attribute!r} of {type(obj).__name__} is not available to templates")

    def getattr(self, obj, attribute):
        _check_budget()
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        _check_budget()
        return super().getitem(obj, argument)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's signature)
        _check_budget()
        return super().call(__context, __obj, *args, **kwargs)


@pass_context
def _money(context, amount) -> str:
    store = context.get("store")
    if amount is None or store is None or isinstance(amount, bool) or not isinstance(amount, int):
        return ""
    return format_money(amount, store.currency, store.locale)


def _replace(text, old, new, count=None):
    text, old, new = str(text), str(old), str(new)
    grows = (len(new) - len(old)) * (text.count(old) if old else len(text) + 1)
    _capped(" " * max(0, len(text) + grows))  # check the size before building it
    return text.replace(old, new, -1 if count is None else count)


def _format(value, *args, **kwargs):
    from jinja2.filters import do_format

    _narrow(value)
    return do_format(value, *args, **kwargs)


def _slice(value, slices, fill_with=None):
    from jinja2.filters import do_slice

    if not isinstance(slices, int) or not 0 < slices <= MAX_RANGE:
        raise RenderLimit(f"slice() takes 1 to {MAX_RANGE:,} slices")
    return do_slice(value, slices, fill_with)


def _center(text, width=80):
    return str(text).center(min(int(width), 1000))


def _indent(text, width=4, first=False, blank=False):
    from jinja2.filters import do_indent
    return do_indent(str(text), min(int(width), 40) if isinstance(width, int) else "", first, blank)


# The filters a theme template may use: Jinja's harmless ones, size-checked
# versions of those that can build big strings, and Vitrine's own.
_JINJA_FILTERS = ("abs", "attr", "batch", "capitalize", "default", "d", "dictsort", "escape", "e", "first",
                  "float", "forceescape", "format", "groupby", "int", "join", "last", "length", "count", "list",
                  "lower", "map", "max", "min", "reject", "rejectattr", "reverse", "round", "safe", "select",
                  "selectattr", "slice", "sort", "string", "striptags", "sum", "title", "trim", "truncate",
                  "unique", "upper", "urlencode", "wordcount", "tojson", "items")


def _filters(jinja_filters: dict) -> dict:
    chosen = {name: jinja_filters[name] for name in _JINJA_FILTERS if name in jinja_filters}
    return {**chosen, "replace": _replace, "center": _center, "indent": _indent, "format": _format,
            "slice": _slice, "money": _money,
            "image_url": image_url, "handleize": _handleize}


def image_url(image, size: int | None = None) -> str:
    """An image view's address at a width (the nearest thumbnail), or ''."""
    from app.catalog.images import url

    key = getattr(image, "key", image)
    if not isinstance(key, str) or not key:
        return ""
    return url(key, size if isinstance(size, int) and size > 0 else None)


def _handleize(text) -> str:
    from app.catalog.products import slugify

    return slugify(str(text))


class ThemeEnvironment(Environment):
    """The theme's own templates, trusted: no sandbox checks (see the module's doc)."""


def _new_environment(loader, kind: type[Environment] = StoreSandbox) -> Environment:
    env = kind(loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True, auto_reload=False,
               cache_size=400)
    env.filters = _filters(env.filters)
    env.tests = {name: env.tests[name] for name in (
        "defined", "undefined", "none", "number", "string", "mapping", "sequence", "iterable", "sameas",
        "equalto", "eq", "ne", "lt", "le", "gt", "ge", "in", "odd", "even", "divisibleby", "true", "false",
        "boolean", "integer", "float", "lower", "upper", "escaped")
        if name in env.tests}
    env.globals = {"range": _bounded_range, "dict": dict, "namespace": env.globals["namespace"],
                   "cycler": env.globals["cycler"], "joiner": env.globals["joiner"]}
    return env


def _theme_loader(theme: Theme) -> FileSystemLoader:
    return FileSystemLoader([str(d) for d in theme.template_dirs])


@cache
def theme_environment(theme: Theme) -> StoreSandbox:
    """The sandbox of a theme's own templates (and the base's), one per process:
    what store templates are parsed and checked with, and whose loader they shadow."""
    env = _new_environment(_theme_loader(theme))
    env.globals["asset_url"] = lambda name: asset_url(theme, str(name))
    return env


@cache
def trusted_environment(theme: Theme) -> ThemeEnvironment:
    """The theme's own templates (and the base's) outside the sandbox, one per
    process: pages of a store without template overrides. Only the theme's
    folders are loaded, never a store's text."""
    env = _new_environment(_theme_loader(theme), ThemeEnvironment)
    env.globals["asset_url"] = lambda name: asset_url(theme, str(name))
    return env


_OVERLAYS: OrderedDict[tuple, StoreSandbox] = OrderedDict()
MAX_OVERLAYS = 64


def override_environment(theme: Theme, overrides: dict[str, str]) -> StoreSandbox:
    """A sandbox where the store's own templates shadow the theme's; one per
    set of overrides (by content), the most recently used kept."""
    digest = hashlib.sha256(repr(sorted(overrides.items())).encode()).hexdigest()
    key = (theme.name, digest)
    env = _OVERLAYS.get(key)
    if env is None:
        base = theme_environment(theme)
        env = _new_environment(ChoiceLoader([DictLoader(dict(overrides)), base.loader]))
        env.globals["asset_url"] = base.globals["asset_url"]
        _OVERLAYS[key] = env
        while len(_OVERLAYS) > MAX_OVERLAYS:
            _OVERLAYS.popitem(last=False)
    _OVERLAYS.move_to_end(key)
    return env


def render_with(env: Environment, name: str, context: dict, globals_: dict | None = None, *,
                timed: bool = True) -> str:
    """Render within the budget: at most MAX_OUTPUT characters, and RENDER_SECONDS
    when `timed` (a store's own templates; the themes we ship cannot loop away,
    and on a busy machine a wall-clock limit would only turn slow pages into errors)."""
    token = _deadline.set(time.monotonic() + RENDER_SECONDS if timed else 0.0)
    try:
        template = env.get_template(name, globals=globals_)
        parts, size = [], 0
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise RenderLimit(f"the page is larger than {MAX_OUTPUT:,} characters")
            _check_budget()
            parts.append(chunk)
        return "".join(parts)
    finally:
        _deadline.reset(token)


RENDER_FAILURES = (TemplateError, SecurityError, RecursionError, ArithmeticError, TypeError, ValueError,
                   AttributeError, KeyError, IndexError, MemoryError, OverflowError)


def render(theme: Theme, name: str, context: dict, *, overrides: dict[str, str] | None = None,
           globals_: dict | None = None) -> str:
    """A page of the theme. With the store's overrides first, in the sandbox;
    should they fail, the theme's own templates (and the failure is logged)."""
    if overrides:
        try:
            return render_with(override_environment(theme, overrides), name, context, globals_)
        except RENDER_FAILURES as exc:
            log.warning("store template override failed in theme %s rendering %s: %s", theme.name, name, exc)
    return render_with(trusted_environment(theme), name, context, globals_, timed=False)


def check_override(theme: Theme, overrides: dict[str, str], name: str, context: dict) -> None:
    """Refuse a store template before it is saved: it must compile and render
    `context` (a page of the store's own data) within the budget. Raises one
    of RENDER_FAILURES; its message says what is wrong."""
    env = override_environment(theme, overrides)
    env.get_template(name)  # syntax errors, with their line
    render_with(env, name, context)


@lru_cache(maxsize=2048)  # shipped files change only with a release (as `fingerprint` assumes)
def asset_url(theme: Theme, name: str) -> str:
    """A theme asset's fingerprinted address (served for a year, app.theming.views)."""
    path = theme.asset_path(str(name))
    if path is None:
        return ""
    return f"/assets/{theme.name}/{fingerprint(path)}/{name}"


def safe_html(html: str) -> Markup:
    """HTML that was sanitized when it was stored (descriptions, pages)."""
    return Markup(html or "")
