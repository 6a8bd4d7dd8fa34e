"""Online store in the dashboard: the theme gallery, the customizer (a draft
shown in the preview, not on the shop until published), switching theme,
template edits refused by the sandbox, and who may change what."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from markupsafe import escape
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app.catalog import collections
from app.catalog import products as catalog
from app.extensions import db
from app.pages.service import add_starter_pages
from app.theming import service as theming
from app.theming.models import StoreTheme, TemplateOverride
from app.theming.registry import get_theme, themes
from tenants.models import Membership
from tests.catalog.helpers import image_bytes, png_bytes
from tests.conftest import Client, as_store, store_host

ACTOR = "owner@example.com"


# -- helpers ----------------------------------------------------------------------------------------------------------

class _FormFields(HTMLParser):
    """The fields of the customizer form as a browser would post them (no button pressed)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self.inside = False
        self.select: str | None = None
        self.textarea: str | None = None
        self.chosen: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "customizer-form":
            self.inside = True
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("file", "submit"):
            if a.get("type") != "checkbox" or "checked" in a:
                self.fields.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self.select = name
            self.fields.append((name, ""))
        elif tag == "option" and self.select is not None:
            index = max(i for i, (n, _) in enumerate(self.fields) if n == self.select)
            if "selected" in a or self.select not in self.chosen:
                self.fields[index] = (self.select, a.get("value") or "")
                self.chosen[self.select] = "selected" if "selected" in a else ""
        elif tag == "textarea" and name:
            self.textarea = name
            self.fields.append((name, ""))

    def handle_data(self, data):
        if self.textarea is not None:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def customizer_fields(browser: Client, store, theme: str = "atelier") -> MultiDict:
    page = browser.get(f"/dashboard/{store.handle}/themes/{theme}/customize")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    parser = _FormFields()
    parser.feed(page.get_data(as_text=True))
    return MultiDict(parser.fields)


def section_id(fields: MultiDict, kind: str) -> str:
    return next(sid for sid in fields.getlist("section") if fields.get(f"sec.{sid}.type") == kind)


def post_draft(browser: Client, store, fields: MultiDict, theme: str = "atelier", headers: dict | None = None,
               files: dict | None = None):
    path = f"/dashboard/{store.handle}/themes/{theme}/draft"
    data = MultiDict(fields)
    data.setlist("csrf_token", [browser.csrf_token(f"/dashboard/{store.handle}/themes")])
    if files:
        from io import BytesIO

        for name, (body, filename) in files.items():
            data.add(name, (BytesIO(body), filename))
    return browser.flask.post(path, data=data, headers={"Host": "localhost", **(headers or {})},
                              content_type="multipart/form-data" if files else None)


def saved_state(app, store, theme: str = "atelier"):
    with as_store(app, store):
        row = db.session.scalar(sa.select(StoreTheme).where(StoreTheme.theme == theme))
        return None if row is None else {"draft": row.draft, "published": row.published, "live": row.live}


@pytest.fixture
def shop(app, merchant):
    browser, account, store = merchant
    with as_store(app, store):
        tee = catalog.create_product({"title": "Linen Tee", "price": "25.00", "status": "active"}, actor=ACTOR)
        summer = collections.create_collection({"title": "Summer"}, kind="manual")
        collections.set_products(summer, [tee.id])
        add_starter_pages()
        handles = {"tee": tee.handle, "collection": summer.handle}
    return browser, account, store, handles


# -- the gallery ------------------------------------------------------------------------------------------------------

def test_the_gallery_lists_every_theme_with_its_preview_and_says_which_is_live(app, shop):
    browser, _, store, _ = shop
    page = browser.get(f"/dashboard/{store.handle}/themes").get_data(as_text=True)
    assert len(themes()) >= 1
    for theme in themes():
        assert theme.title in page and theme.description in page
        assert f"/themes/{theme.name}/customize" in page
        if theme.preview:
            assert re.search(rf'src="/assets/{theme.name}/[0-9a-f]{{12}}/{re.escape(theme.preview)}"', page)
    assert "No theme is published yet" in page
    published = browser.post(f"/dashboard/{store.handle}/themes/atelier/publish", {"next": "gallery"},
                             csrf_from=f"/dashboard/{store.handle}/themes")
    assert published.status_code == 302 and published.headers["Location"].endswith("/themes")
    page = browser.get(f"/dashboard/{store.handle}/themes").get_data(as_text=True)
    assert "Published the Atelier theme" in page
    assert "<strong>Atelier</strong> is what shoppers see, published" in page


# -- the customizer and its preview -----------------------------------------------------------------------------------

def test_a_draft_shows_in_the_preview_and_reaches_the_shop_only_once_published(app, shop):
    browser, _, store, handles = shop
    theming_publish(app, store, "atelier")  # the shop shows the theme's defaults
    shop_browser = Client(app.test_client(), host=store_host(app, store))
    assert "Lighthouse sale" not in shop_browser.get("/").get_data(as_text=True)

    fields = customizer_fields(browser, store)
    hero = section_id(fields, "hero")
    fields["color_accent"] = "#ff6600"
    fields[f"sec.{hero}.heading"] = "Lighthouse sale"
    saved = post_draft(browser, store, fields)
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/themes/atelier/customize")

    preview = browser.get(f"/dashboard/{store.handle}/themes/atelier/preview/")
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Lighthouse sale" in body and "--color-accent: #ff6600" in body and "Preview: shoppers" in body
    assert f'href="/dashboard/{store.handle}/themes/atelier/preview/products/{handles["tee"]}"' in body
    live = shop_browser.get("/").get_data(as_text=True)
    assert "Lighthouse sale" not in live and "#ff6600" not in live

    published = browser.post(f"/dashboard/{store.handle}/themes/atelier/publish", {},
                             csrf_from=f"/dashboard/{store.handle}/themes/atelier/customize")
    assert published.status_code == 302
    live = shop_browser.get("/").get_data(as_text=True)
    assert "Lighthouse sale" in live and "--color-accent: #ff6600" in live and "Preview: shoppers" not in live


def theming_publish(app, store, name: str) -> None:
    with as_store(app, store):
        theming.publish(get_theme(name), actor=ACTOR)


def test_with_htmx_a_change_saves_and_asks_the_preview_to_reload(app, shop):
    browser, _, store, _ = shop
    fields = customizer_fields(browser, store)
    fields["announcement"] = "Free shipping this week"
    saved = post_draft(browser, store, fields, headers={"HX-Request": "true"})
    assert saved.status_code == 200
    assert saved.headers["HX-Trigger"] == "preview-reload"
    assert "Draft saved at" in saved.get_data(as_text=True) and "<form" not in saved.get_data(as_text=True)
    assert saved_state(app, store)["draft"]["settings"]["announcement"] == "Free shipping this week"


def test_every_preview_page_renders_the_draft_with_the_storefront_policy_framed_by_the_dashboard(app, shop):
    browser, _, store, handles = shop
    base = f"/dashboard/{store.handle}/themes/atelier/preview"
    for path, expected in {"/": "Linen Tee", "/collections": "Summer", f"/collections/{handles['collection']}":
                           "Linen Tee", f"/products/{handles['tee']}": "Linen Tee", "/pages/about": "About us"}.items():
        response = browser.get(base + path)
        assert response.status_code == 200, path
        assert expected in response.get_data(as_text=True)
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'self'" in policy and "'unsafe-inline'" in policy and "script-src 'self'" in policy
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    missing = browser.get(base + "/products/no-such-thing")
    assert missing.status_code == 404 and "Page not found" in missing.get_data(as_text=True)
    customizer = browser.get(f"/dashboard/{store.handle}/themes/atelier/customize")
    assert "frame-ancestors 'none'" in customizer.headers["Content-Security-Policy"]
    assert f'src="{base}/"' in customizer.get_data(as_text=True)
    assert browser.get(f"/dashboard/{store.handle}/themes/nosuchtheme/preview/").status_code == 404
    assert browser.get(f"/dashboard/{store.handle}/themes/base/customize").status_code == 404


@pytest.mark.parametrize("field, value, message", [
    ("color_accent", "red", "must be a colour like #1a2b3c"),
    ("font_heading", "comic-sans", "Choose one of the fonts"),
    ("products_per_row", "7", "Choose one of the options"),
    ("logo_width", "9999", "must be a whole number from 60 to 320"),
    ("logo_width", "²", "must be a whole number"),
    ("announcement", "x" * 141, "at most 140 characters"),
    ("logo", "../../etc/passwd", "is not an image of this store"),
    ("logo", "1/0123456789abcdef0123456789abcdef.png", "is not an image of this store"),
    ("hero.button_link", "javascript:alert(1)", "must be a path on this store"),
    ("hero.heading", "x" * 201, "at most 200 characters"),
    ("testimonials.b0.quote", "y" * 501, "at most 500 characters"),
])
def test_a_bad_value_is_refused_beside_its_field_and_nothing_is_saved(app, shop, field, value, message):
    browser, _, store, _ = shop
    fields = customizer_fields(browser, store)
    kind, _, rest = field.partition(".")
    name = f"sec.{section_id(fields, kind)}.{rest}" if rest else field
    fields["announcement"] = "This must not be saved either"
    fields[name] = value
    before = saved_state(app, store)
    for headers in ({}, {"HX-Request": "true"}):
        refused = post_draft(browser, store, fields, headers=headers)
        body = refused.get_data(as_text=True)
        assert refused.status_code == 422, body[:300]
        field_id = "f-" + re.sub(r"[^a-zA-Z0-9_-]", "-", name)
        error = re.search(rf'<small class="error" id="{re.escape(field_id)}-error">([^<]*)</small>', body)
        assert error and message in error.group(1).replace("&#39;", "'"), body[:2000]
        assert 'aria-describedby="' in body and f'href="#{field_id}"' in body
        assert saved_state(app, store) == before
    if headers:
        assert refused.headers["HX-Retarget"] == "#customizer-form"


def test_sections_and_blocks_are_added_moved_and_removed(app, shop):
    browser, _, store, _ = shop
    fields = customizer_fields(browser, store)
    order = [fields.get(f"sec.{sid}.type") for sid in fields.getlist("section")]
    assert order == [s["type"] for s in get_theme("atelier").homepage]

    def press(op: str, **extra):
        current = customizer_fields(browser, store)
        for name, value in {**extra, "op": op}.items():
            current[name] = value  # replaces (MultiDict.update would add a second value)
        response = post_draft(browser, store, current)
        assert response.status_code == 302, response.get_data(as_text=True)[:800]
        return saved_state(app, store)["draft"]["sections"]

    sections = press("add_section", new_section="image_with_text")
    assert [s["type"] for s in sections] == order + ["image_with_text"]
    added = sections[-1]["id"]
    sections = press(f"up:{added}")
    assert [s["type"] for s in sections][-2:] == ["image_with_text", order[-1]]
    first = sections[0]["id"]
    sections = press(f"down:{first}")
    assert [s["type"] for s in sections][:2] == [order[1], order[0]]
    sections = press(f"remove:{added}")
    assert "image_with_text" not in [s["type"] for s in sections]

    quotes = next(s for s in sections if s["type"] == "testimonials")
    count = len(quotes["blocks"])
    sections = press(f"add_block:{quotes['id']}")
    blocks = next(s for s in sections if s["id"] == quotes["id"])["blocks"]
    assert len(blocks) == count + 1
    current = customizer_fields(browser, store)
    current[f"sec.{quotes['id']}.b{count}.author"] = "Newest reviewer"
    assert post_draft(browser, store, current).status_code == 302
    sections = press(f"block_up:{quotes['id']}:{count}")
    blocks = next(s for s in sections if s["id"] == quotes["id"])["blocks"]
    assert blocks[count - 1]["settings"]["author"] == "Newest reviewer"
    sections = press(f"remove_block:{quotes['id']}:{count - 1}")
    blocks = next(s for s in sections if s["id"] == quotes["id"])["blocks"]
    assert len(blocks) == count and "Newest reviewer" not in str(blocks)

    preview = browser.get(f"/dashboard/{store.handle}/themes/atelier/preview/").get_data(as_text=True)
    types = re.findall(r'class="section section-(\w+)"', preview)
    assert types == [s["type"] for s in sections]


@pytest.mark.parametrize("op, extra", [
    ("add_section", {"new_section": "no_such_section"}),
    ("up:zzzz", {}), ("remove_block:{testimonials}:9", {}), ("explode:{hero}", {}),
    ("clear:color_accent", {}), ("add_block:{hero}", {}),
])
def test_a_stale_or_forged_button_is_refused_and_changes_nothing(app, shop, op, extra):
    browser, _, store, _ = shop
    fields = customizer_fields(browser, store)
    op = op.format(testimonials=section_id(fields, "testimonials"), hero=section_id(fields, "hero"))
    for name, value in {**extra, "op": op}.items():
        fields[name] = value
    before = saved_state(app, store)
    refused = post_draft(browser, store, fields)
    assert refused.status_code == 422
    assert 'class="error-summary"' in refused.get_data(as_text=True)
    assert saved_state(app, store) == before


def test_a_logo_upload_is_kept_shown_in_the_preview_and_served_on_the_shop_once_published(app, shop):
    browser, _, store, _ = shop
    fields = customizer_fields(browser, store)
    saved = post_draft(browser, store, fields, files={"upload.logo": (png_bytes(120, 40), "logo.png")},
                       headers={"HX-Request": "true"})
    assert saved.status_code == 200 and saved.headers["HX-Retarget"] == "#customizer-form"
    key = saved_state(app, store)["draft"]["settings"]["logo"]
    assert re.fullmatch(rf"{store.id}/[0-9a-f]{{32}}\.png", key)
    assert f'src="/media/{key}"' in browser.get(f"/dashboard/{store.handle}/themes/atelier/preview/").get_data(
        as_text=True)
    on_dashboard = browser.get(f"/media/{key}")
    on_dashboard.close()
    assert on_dashboard.status_code == 200
    shop_browser = Client(app.test_client(), host=store_host(app, store))
    draft_only = shop_browser.get(f"/media/{key}")
    draft_only.close()
    assert draft_only.status_code == 404  # not on the shop while only a draft uses it
    theming_publish(app, store, "atelier")
    public = shop_browser.get(f"/media/{key}")
    public.close()
    assert public.status_code == 200 and "public" in public.headers["Cache-Control"]

    fields = customizer_fields(browser, store)
    fields["op"] = "clear:logo"
    assert post_draft(browser, store, fields).status_code == 302
    assert saved_state(app, store)["draft"]["settings"]["logo"] == ""


@pytest.mark.parametrize("body, filename", [
    (image_bytes("GIF"), "logo.gif"), (b"not an image at all", "logo.png"), (png_bytes()[:40], "cut.png"),
])
def test_an_upload_that_is_not_a_usable_image_is_refused(app, shop, body, filename):
    browser, _, store, _ = shop
    fields = customizer_fields(browser, store)
    before = saved_state(app, store)
    refused = post_draft(browser, store, fields, files={"upload.logo": (body, filename)})
    assert refused.status_code == 422
    assert 'id="f-logo-error"' in refused.get_data(as_text=True)
    assert saved_state(app, store) == before


# -- switching theme --------------------------------------------------------------------------------------------------

def test_publishing_another_theme_switches_the_shop_keeping_shared_settings_and_the_catalog(app, shop):
    if len(themes()) < 2:
        pytest.skip("one theme is shipped so far")
    browser, _, store, handles = shop
    fields = customizer_fields(browser, store)
    fields["color_accent"] = "#123456"
    assert post_draft(browser, store, fields).status_code == 302
    theming_publish(app, store, "atelier")
    other = next(t for t in themes() if t.name != "atelier")
    assert 'value="#123456"' in browser.get(f"/dashboard/{store.handle}/themes/{other.name}/customize").get_data(
        as_text=True)
    browser.post(f"/dashboard/{store.handle}/themes/{other.name}/publish", {},
                 csrf_from=f"/dashboard/{store.handle}/themes")
    shop_browser = Client(app.test_client(), host=store_host(app, store))
    home = shop_browser.get("/").get_data(as_text=True)
    assert f"theme-{other.name}" in home and "#123456" in home
    assert shop_browser.get(f"/products/{handles['tee']}").status_code == 200
    assert saved_state(app, store)["live"] is False and saved_state(app, store, other.name)["live"] is True


# -- template edits ---------------------------------------------------------------------------------------------------

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ product.__class__ }}",
    "{{ config }}",
    "{{ request }}",
    "{{ g }}{{ session }}",
    "{% import 'os' as os %}{{ os }}",
    "{{ self.__init__.__globals__ }}",
    "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}",
    "{{ 'x' * 100000000 }}",
    "{{ 'a'|center(999999999) }}",
    "{{ range(99)|slice(999999999)|list }}",
    "{{ '%999999999s'|format('x') }}",
    "{{ product['__class__'] }}",
    "{{ product.selected_image.__func__ }}",
    "{{ settings.__class__.__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os }}",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_a_template_that_escapes_the_sandbox_or_blows_its_budget_is_refused_and_not_saved(app, shop, source):
    browser, _, store, _ = shop
    path = f"/dashboard/{store.handle}/themes/atelier/code/product.html"
    refused = browser.post(path, {"source": source}, csrf_from=path)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422, body[:500]
    assert "The template was not saved" in body and 'id="template-source-error"' in body
    with as_store(app, store):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TemplateOverride)) == 0


def test_a_syntax_error_is_refused_with_its_line(app, shop):
    browser, _, store, _ = shop
    path = f"/dashboard/{store.handle}/themes/atelier/code/index.html"
    refused = browser.post(path, {"source": "{% extends 'layout.html' %}\n{% block main %}\n{% if %}\n{% endblock %}"},
                           csrf_from=path)
    assert refused.status_code == 422
    assert "(line 3)" in refused.get_data(as_text=True)


def test_a_saved_template_reaches_the_shop_and_reset_brings_back_the_themes_own(app, shop):
    browser, _, store, handles = shop
    theming_publish(app, store, "atelier")
    shop_browser = Client(app.test_client(), host=store_host(app, store))
    path = f"/dashboard/{store.handle}/themes/atelier/code/snippets/footer.html"
    source = browser.get(path).get_data(as_text=True)
    assert "site-footer" in source and "Theme’s own" not in source
    edited = ('<footer class="site-footer"><p>Handmade in {{ store.name }} · '
              '{{ product.title if product else "" }}</p></footer>')
    saved = browser.post(path, {"source": edited}, csrf_from=path)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:800]
    assert "Handmade in" in shop_browser.get(f"/products/{handles['tee']}").get_data(as_text=True)
    listing = browser.get(f"/dashboard/{store.handle}/themes/atelier/code").get_data(as_text=True)
    assert re.search(r"snippets/footer\.html</code></a></td>\s*<td data-label=\"Version\"><span class=\"badge", listing)

    asks = browser.post(path, {"reset": "yes"}, csrf_from=path)
    assert asks.status_code == 200 and "Reset snippets/footer.html to the theme’s own?" in asks.get_data(as_text=True)
    with as_store(app, store):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TemplateOverride)) == 1
    reset = browser.post(path, {"reset": "yes", "confirmed": "yes"}, csrf_from=path)
    assert reset.status_code == 302
    assert "Handmade in" not in shop_browser.get(f"/products/{handles['tee']}").get_data(as_text=True)


def test_templates_are_tried_on_the_stores_own_pages_and_an_empty_store_is_told_what_to_add(app, merchant):
    browser, _, store = merchant

    def save(name: str, extra: str = "\n{# mine #}"):
        path = f"/dashboard/{store.handle}/themes/atelier/code/{name}"
        page = browser.get(path).get_data(as_text=True)
        theme_own = get_theme("atelier").template_source(name)
        assert str(escape(theme_own))[:60] in page
        return browser.post(path, {"source": theme_own + extra}, csrf_from=path)

    for name in ("index.html", "404.html", "collections.html", "layout.html", "snippets/footer.html",
                 "sections/hero.html", "sections/image_with_text.html"):
        assert save(name).status_code == 302, name
    for name, needs in (("product.html", "an active product"), ("collection.html", "a collection"),
                        ("page.html", "a published page")):
        refused = save(name)
        assert refused.status_code == 422 and f"add {needs} first" in refused.get_data(as_text=True), name
    with as_store(app, store):
        tee = catalog.create_product({"title": "Tried Tee", "price": "5.00", "status": "active"}, actor=ACTOR)
        collections.set_products(collections.create_collection({"title": "Tried"}, kind="manual"), [tee.id])
        add_starter_pages()
    for name in ("product.html", "collection.html", "page.html", "snippets/product_card.html"):
        assert save(name).status_code == 302, name
    # The product page's own objects are there: a template that needs them saves, one that misuses them does not.
    path = f"/dashboard/{store.handle}/themes/atelier/code/product.html"
    for body, status in (("{{ product.variants[0].price|money }} {{ canonical }}", 302),
                         ("{{ product.title.nope() }}", 422), ("{{ no_such_thing.title }}", 422)):
        source = "{% extends 'layout.html' %}{% block main %}" + body + "{% endblock %}"
        assert browser.post(path, {"source": source}, csrf_from=path).status_code == status, body
    assert save("snippets/product_card.html", "{{ item.title|upper }}").status_code == 302
    assert save("snippets/product_card.html", "{{ item.title.nope() }}").status_code == 422


def test_a_stored_template_that_fails_at_render_never_takes_the_shop_down(app, shop):
    browser, _, store, handles = shop
    theming_publish(app, store, "atelier")
    with as_store(app, store):  # stored directly, past the check (an older release, a hand edit)
        db.session.add(TemplateOverride(theme="atelier", name="snippets/header.html", updated_by=ACTOR,
                                        source="{{ ''.__class__.__mro__ }}{% for i in range(10000) %}"
                                               "{% for j in range(10000) %}x{% endfor %}{% endfor %}"))
        db.session.commit()
    shop_browser = Client(app.test_client(), host=store_host(app, store))
    for path in ("/", f"/products/{handles['tee']}", "/pages/about"):
        response = shop_browser.get(path)
        assert response.status_code == 200 and "site-header" in response.get_data(as_text=True), path
    preview = browser.get(f"/dashboard/{store.handle}/themes/atelier/preview/")
    assert preview.status_code == 200 and "site-header" in preview.get_data(as_text=True)


def test_an_unknown_template_or_theme_is_a_404(app, shop):
    browser, _, store, _ = shop
    base = f"/dashboard/{store.handle}/themes"
    for path in (f"{base}/atelier/code/no-such.html", f"{base}/atelier/code/../../pyproject.toml",
                 f"{base}/nosuch/code", f"{base}/__init__/code/index.html"):
        assert browser.get(path).status_code == 404, path
    refused = browser.post(f"{base}/atelier/code/no-such.html", {"source": "x"}, csrf_from=base)
    assert refused.status_code == 404


# -- who may change what ----------------------------------------------------------------------------------------------

def test_staff_may_look_but_every_theme_write_is_refused(app, shop, make_account):
    browser, _, store, _ = shop
    helper = make_account("Helper")
    with app.app_context():
        db.session.add(Membership(account_id=helper.id, store_id=store.id, role="staff"))
        db.session.commit()
        db.session.remove()
    staff = Client(app.test_client())
    staff.login(helper.email)
    base = f"/dashboard/{store.handle}/themes"
    gallery = staff.get(base)
    assert gallery.status_code == 200 and "/publish" not in gallery.get_data(as_text=True)
    customizer = staff.get(f"{base}/atelier/customize").get_data(as_text=True)
    assert "<fieldset class=\"plain\" disabled>" in customizer and "hx-post" not in customizer
    assert staff.get(f"{base}/atelier/preview/").status_code == 200
    fields = customizer_fields(browser, store)
    fields["color_accent"] = "#000001"
    del fields["csrf_token"]  # the staff member's own token is posted
    for path, data in ((f"{base}/atelier/draft", fields.to_dict()), (f"{base}/atelier/publish", {}),
                       (f"{base}/atelier/code/index.html", {"source": "hello"}),
                       (f"{base}/atelier/code/index.html", {"reset": "yes", "confirmed": "yes"})):
        refused = staff.post(path, data, csrf_from=base)
        assert refused.status_code == 403, (path, refused.get_data(as_text=True)[:3000])
    assert saved_state(app, store) is None
    with as_store(app, store):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TemplateOverride)) == 0


HOSTILE = ["²", "-1", "99999999999999999999", "", "x" * 20_000, "<script>alert(1)</script>", "[]", "../../etc/passwd",
           "#GGGGGG", "1e309"]


def test_every_customizer_field_takes_hostile_values_without_a_5xx_and_a_refusal_changes_nothing(app, shop):
    """The hostile walk of tests/test_hostile_walk.py, on a real theme (the walk only knows made-up theme names)."""
    browser, _, store, _ = shop
    fields = customizer_fields(browser, store)
    assert post_draft(browser, store, fields).status_code == 302  # a draft row to compare against
    before = saved_state(app, store)
    problems = []
    names = [name for name in dict.fromkeys(fields.keys()) if name != "csrf_token"] + ["op", "upload.logo"]
    for name in names:
        for number, value in enumerate(HOSTILE):
            data = MultiDict(fields)
            data[name] = value
            for headers in [{"HX-Request": "true"} if number % 2 else {}]:  # with and without htmx, in turn
                response = post_draft(browser, store, data, headers=headers)
                after = saved_state(app, store)
                if response.status_code >= 500:
                    problems.append(f"{name}={value[:20]!r}: {response.status_code}")
                elif response.status_code >= 400 and after != before:
                    problems.append(f"{name}={value[:20]!r}: refused ({response.status_code}) but changed the draft")
                before = after
    assert problems == []


def test_the_template_editor_takes_hostile_values_without_a_5xx_and_a_refusal_changes_nothing(app, shop):
    browser, _, store, _ = shop
    path = f"/dashboard/{store.handle}/themes/atelier/code/snippets/footer.html"
    token = browser.csrf_token(path)

    def overrides():
        with as_store(app, store):
            return theming.overrides("atelier")

    before = overrides()
    for field in ("source", "reset", "confirmed"):
        for value in [*HOSTILE, "{% for %}", "{{ x.y.z() }}", "{% include 'nope.html' %}", "{% extends 'footer' %}"]:
            response = browser.flask.post(path, data={"csrf_token": token, "source": "<p>ok</p>", field: value},
                                          headers={"Host": "localhost"})
            after = overrides()
            assert response.status_code < 500, (field, value[:20])
            if response.status_code >= 400:
                assert after == before, (field, value[:20])
            before = after
