"""Store templates render in a sandbox with a budget: no way to Python's
internals, no runaway loops or megabyte pages, and a failing store template
falls back to the theme's own."""
from __future__ import annotations

import pytest

from app.theming.render import RENDER_FAILURES, check_override, render
from app.theming.registry import get_theme
from app.storefront.site import Routes, StoreView

ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ store.__class__ }}",
    "{{ routes.home.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ store|attr('__class__') }}",
    "{% set x = [].append(1) %}",
    "{% import 'os' as os %}{{ os }}",
    "{{ config.items() }}{{ request.environ }}{{ config.__class__ }}",
    "{{ lipsum.__globals__ }}",
]
RUNAWAYS = [
    "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}",
    "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
    "{{ 'x' * 100000000 }}",
    "{{ 'a'|center(999999999) }}{{ ('ab' * 50000)|replace('a', 'aaaaaaaaaa') }}",
    "{{ 10 ** 100000 }}",
    "{{ 10 ** 60 ** 60 ** 60 }}",
    "{% for i in range(100001) %}{% endfor %}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{% set w = 99999 * 999 %}{{ ('%' ~ w ~ 's') % 'x' }}",
    "{% set w = 99999 * 999 %}{{ ('{:>' ~ w ~ '}').format('x') }}",
    "{% set w = 99999 * 999 %}{{ ('%' ~ w ~ 's')|format('x') }}",
    "{% set n = 99999 * 999 %}{{ [1, 2]|slice(n)|list|length }}",
]


def context():
    return {"store": StoreView("Sandbox Shop", "sandbox", "USD", "en_US"), "routes": Routes(), "settings": {}}


@pytest.mark.parametrize("source", ESCAPES + RUNAWAYS)
def test_a_template_reaching_for_internals_or_running_away_is_refused(app, source):
    theme = get_theme("atelier")
    with app.test_request_context(), pytest.raises(RENDER_FAILURES):
        check_override(theme, {"page.html": source}, "page.html", context())


def test_undefined_names_render_empty_not_internals(app):
    theme = get_theme("atelier")
    with app.test_request_context():
        check_override(theme, {"page.html": "[{{ config }}{{ request }}{{ g }}{{ url_for }}]"}, "page.html", context())
        from app.theming.render import override_environment, render_with

        output = render_with(override_environment(theme, {"page.html": "[{{ config }}{{ request }}{{ g }}]"}),
                             "page.html", context())
    assert output == "[]"


def test_a_store_template_that_fails_at_render_falls_back_to_the_themes_own(app, caplog):
    theme = get_theme("atelier")
    broken = {"404.html": "{% extends 'layout.html' %}{% block main %}{{ 1 / 0 }}{% endblock %}"}
    page = {**context(), "settings": theme.default_settings(), "nav": {"collections": [], "pages": []},
            "customer": None, "cart": {"item_count": 0}, "template": "404.html", "theme_name": "atelier",
            "font_stack": lambda key: "serif", "absolute_url": lambda path: path, "htmx_src": "/h.js"}
    with app.test_request_context():
        output = render(theme, "404.html", page, overrides=broken)
    assert "Page not found" in output
    assert "store template override failed" in caplog.text


def test_the_money_filter_formats_minor_units_in_the_store_currency(app):
    theme = get_theme("atelier")
    with app.test_request_context():
        from app.theming.render import override_environment, render_with

        env = override_environment(theme, {"page.html": "{{ 123456|money }}|{{ 'x'|money }}|{{ none|money }}"})
        assert render_with(env, "page.html", context()) == "$1,234.56||"


def test_the_theme_templates_a_store_template_uses_run_in_its_sandbox(app):
    """A store without overrides renders the theme's own templates outside the sandbox; a store template
    that extends, includes or imports theme templates has them compiled (and run) by its own sandbox."""
    from jinja2.sandbox import SandboxedEnvironment

    from app.theming.render import StoreSandbox, override_environment, trusted_environment

    theme = get_theme("atelier")
    source = ("{% extends 'layout.html' %}{% from 'account/_form.html' import field %}"
              "{% block main %}{% include 'snippets/price.html' %}{{ field('n', 'Name', {}) }}{% endblock %}")
    env = override_environment(theme, {"page.html": source})
    assert isinstance(env, StoreSandbox)
    for name in ("page.html", "layout.html", "snippets/price.html", "snippets/header.html", "account/_form.html"):
        assert env.get_template(name).environment is env, name
    trusted = trusted_environment(theme)
    assert not isinstance(trusted, SandboxedEnvironment)
    assert trusted.get_template("page.html").environment is trusted
    assert trusted.loader.get_source(trusted, "page.html")[0] == theme.template_source("page.html")  # the theme's
    with app.test_request_context(), pytest.raises(RENDER_FAILURES):  # still refused when it includes theme templates
        check_override(theme, {"page.html": "{% include 'snippets/price.html' %}{{ store.__class__ }}"}, "page.html",
                       context())
