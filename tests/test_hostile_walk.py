"""Every route in the URL map, walked with hostile input.

As the store's owner, every GET and POST route gets a corpus of hostile
values in every query parameter, every field of its forms (found by
reading the dashboard's own pages), every URL argument, and in huge
collections. No answer may be a 5xx, and a refused request (4xx) must have
changed nothing: the store's rows and its directory rows are fingerprinted
around every request. Besides: a POST without a CSRF token is refused and
changes nothing, and staff are refused every owner/admin-only write.

New routes are covered automatically: the walk reads the URL map, and the
parameter names from the code and the templates.
"""
from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import urlencode, urlsplit

import pytest
import sqlalchemy as sa

from app.catalog import collections, products as catalog
from app.catalog.models import ImportJob, PendingImage
from app.catalog.products import OptionSpec
from app.config import ROOT
from app.effects.models import Outbox
from app.extensions import db
from app.inventory import service as inventory
from app.launches import service as launches
from app.platform.models import Invitation
from app.platform.tokens import digest, new_token, now
from app.webhooks import service as webhook_service
from app.webhooks.models import WebhookEndpoint
from tenants.models import Domain, Membership
from tenants.session import tenant_engine
from tenants.tenant_model import data_tables
from tests.catalog.helpers import png_bytes
from app.orders.models import Order
from tests.checkout.helpers import Shopper, add_pricing_rules
from tests.conftest import TEST_VAR, Client, as_store

ACTOR = "walker@example.com"
# Tried in every field and parameter on its own (the rest of the form left as the page has it).
HOSTILE = ["\x00", "²", "١٢٣", "１２", "-1", "99999999999999999999", "3000000000", "", "x" * 20_000,
           "<script>alert(1)</script>"]
# Tried in every field at once, and in URL arguments.
HOSTILE_ALL = [*HOSTILE, "0", "1e309", "NaN", " ", "../../etc/passwd", "'; DROP TABLE products; --",
               "\u202e🙂", "%_\\", "true", "[]"]
HUGE = 5_000  # values posted for one field: a huge collection
PLATFORM_ENDPOINTS = ("admin.", "platform.", "root.", "media.", "static", "payment_webhooks.")
STORE_ENDPOINTS = ("api.", "storefront.", "root.", "media.")
SKIP = {"static"}  # werkzeug's file serving


# -- what the code reads: parameter and field names -------------------------------------------------------------------

# How code reads a parameter or field: request.args.get("x"), form["x"], _parameter(args, "x"), name="x".
READ_PATTERNS = [r"""(?:args|form|request\.args|request\.form|request\.files|data)\.(?:get|getlist)\(\s*["'](\w+)""",
                 r"""(?:args|form)\[\s*["'](\w+)""", r"""_parameter\(\s*\w+,\s*["'](\w+)""",
                 r"""name=["'](\w+)["']"""]


def _names_read_in(text: str) -> set[str]:
    return {name for pattern in READ_PATTERNS for name in re.findall(pattern, text)} - {"csrf_token"}


def _names_read_by_the_code() -> list[str]:
    names = set()
    for path in [*(ROOT / "app").rglob("*.py"), *(ROOT / "app" / "templates").rglob("*.html")]:
        names |= _names_read_in(path.read_text())
    return sorted(names)


def _names_read_by_the_module_of(app, endpoint: str) -> list[str]:
    """For a route without a form on the dashboard (the shop's cart forms, JSON-less posts): the names its
    own module reads, each walked on its own, rather than every name the app reads."""
    import inspect

    return sorted(_names_read_in(inspect.getsource(inspect.getmodule(app.view_functions[endpoint]))))


PARAMETERS = _names_read_by_the_code()


# -- forms, read off the dashboard's own pages ------------------------------------------------------------------------

@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> value the page fills in
    files: list[str] = field(default_factory=list)


class _Forms(HTMLParser):
    def __init__(self, page_path: str):
        super().__init__(convert_charrefs=True)
        self.page_path, self.forms, self.current, self.select = page_path, [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "get").lower() == "post":
            self.current = Form(urlsplit(a.get("action") or self.page_path).path)
            self.forms.append(self.current)
        elif self.current is None or not a.get("name"):
            return
        elif tag == "input" and a.get("type") == "file":
            self.current.files.append(a["name"])
        elif tag == "input":  # checkboxes too, ticked or not: every field gets the hostile values
            self.current.fields.setdefault(a["name"], a.get("value") or "")
        elif tag in ("textarea", "button") and a.get("name"):
            self.current.fields.setdefault(a["name"], a.get("value") or "")
        elif tag == "select":
            self.select = a["name"]
        if tag == "option" and self.select and ("selected" in a or self.select not in self.current.fields):
            self.current.fields[self.select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def _forms_on(browser: Client, paths: list[str]) -> dict[str, Form]:
    found: dict[str, Form] = {}
    for path in paths:
        page = browser.get(path)
        if page.status_code == 200 and page.mimetype == "text/html":
            parser = _Forms(path)
            parser.feed(page.get_data(as_text=True))
            for form in parser.forms:
                found.setdefault(form.action, form)
        page.close()  # a file answer (the CSV export) holds its file until closed
    return found


def _form_for(browser: Client, pages: list[str], action: str) -> Form | None:
    """The form that posts to `action`, looked for on the pages nearest to it first (most forms
    post to their own page or a sibling), so a route's walk does not load every page."""
    def shared(page: str) -> int:
        return len(os.path.commonprefix([page, action]))

    for page in sorted(pages, key=shared, reverse=True):
        form = _forms_on(browser, [page]).get(action)
        if form is not None:
            return form
    return None


# -- a store with something of everything ----------------------------------------------------------------------------

def _world(app, make_account, make_store):
    owner, helper, invitee = make_account("Owner"), make_account("Helper"), make_account("Invitee")
    store = make_store(owner=owner, name="Walked Store")
    with as_store(app, store):
        product = catalog.create_product({"title": "Walked hat", "price": "12.50", "status": "active"},
                                         options=[OptionSpec("Size", ["S", "M"])], actor=ACTOR)
        from app.catalog.product_images import add_image

        add_image(product, png_bytes(), alt="A hat")
        location = inventory.create_location("Shop floor")
        inventory.set_on_hand(product.variants[0].id, location.id, 7, reason="received", actor=ACTOR)
        manual = collections.create_collection({"title": "Picks"}, kind="manual")
        collections.set_products(manual, [product.id])
        job = ImportJob(token=uuid.uuid4().hex, filename="done.csv", status="done", actor=ACTOR, report=[
            {"row": n, "handle": f"h{n}", "message": f"Problem {n}"} for n in range(2, 80)])
        db.session.add(job)
        failed = PendingImage(product_id=product.id, source_url="http://images.invalid/hat.png", position=2,
                              status="failed", attempts=1, last_error="the host images.invalid cannot be found.")
        db.session.add(failed)
        db.session.flush()
        ids = SimpleNamespace(product_id=product.id, variant_id=product.variants[0].id,
                              image_id=product.images[0].id, collection_id=manual.id, location_id=location.id,
                              token=job.token, key=product.images[0].storage_key, pending_id=failed.id)
        launch = launches.create_launch({"kind": "queue", "product_id": str(product.id), "rate_per_minute": "60",
                                         "starts_at": launches.utcnow().strftime("%Y-%m-%dT%H:%M")}, actor=ACTOR)
        ids.launch_id = launch.id
        ids.zone_id, ids.shipping_rate_id, ids.tax_rate_id, ids.discount_id = add_pricing_rules(ACTOR)
        endpoint = WebhookEndpoint(url="http://127.0.0.1:9/hooks", topics=["orders/create"], secret="whsec_walk",
                                   created_by=ACTOR)  # as registered in development (production refuses loopback)
        db.session.add(endpoint)
        db.session.flush()
        delivery = webhook_service.new_delivery(endpoint.id, "orders/create", {"order": {"id": "walk"}}, now())
        delivery.status, delivery.attempts, delivery.next_attempt_at = "failed", 19, None
        dead = Outbox(topic="stock.low", payload={"variant_id": product.variants[0].id, "available": 1}, attempts=25,
                      last_error="SMTPDataError: (554, b'Refused')", last_attempt_at=now())
        db.session.add_all([delivery, dead])
        db.session.commit()
        ids.endpoint_id, ids.delivery_id, ids.outbox_id = endpoint.id, delivery.id, dead.id
        scarf = catalog.create_product({"title": "Walked scarf", "price": "8.00", "status": "active"}, actor=ACTOR)
        inventory.set_on_hand(scarf.variants[0].id, location.id, 5, reason="received", actor=ACTOR)
        scarf_id = scarf.variants[0].id
    # An order (placed through the API, paid manually, so no PSP is needed): its page's forms are walked.
    shop = SimpleNamespace(host=f"{store.handle}.localhost", variants={"scarf": scarf_id},
                           rate=str(ids.shipping_rate_id))
    token = Shopper(app, shop).order({"scarf": 1}, card=None)["token"]
    with as_store(app, store):
        ids.order_id = db.session.scalar(sa.select(Order.id).where(Order.token == token))
    with app.app_context():
        db.session.add(Membership(account_id=helper.id, store_id=store.id, role="staff"))
        domain = Domain(hostname=f"{store.handle}.walk-test.com", store_id=store.id)
        invitation = Invitation(store_id=store.id, email=invitee.email, role="staff", token_hash=digest(new_token()[0]),
                                expires_at=now() + timedelta(days=7))
        db.session.add_all([domain, invitation])
        db.session.commit()
        ids.domain_id, ids.invitation_id, ids.account_id = domain.id, invitation.id, helper.id
        db.session.remove()
    browser = Client(app.test_client())
    browser.login(owner.email)
    return SimpleNamespace(store=store, owner=owner, helper=helper, ids=ids, browser=browser,
                           handle=store.handle, store_host=f"{store.handle}.localhost")


def _fingerprint(app, store) -> dict:
    """A digest of every row the store owns, in its tenant schema and in the directory."""
    tables = [t.name for t in data_tables()]
    with as_store(app, store):
        rows = db.session.execute(sa.text(" UNION ALL ".join(
            f"SELECT '{name}', md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM {name} t"
            for name in tables)), bind_arguments={"bind": tenant_engine(db)}).all()
    with app.app_context():
        directory = db.session.execute(sa.text("""
            SELECT 'stores', md5(string_agg(s::text, '|')) FROM stores s WHERE s.id = :id
            UNION ALL SELECT 'domains', md5(coalesce(string_agg(d::text, '|' ORDER BY d.id), ''))
                      FROM domains d WHERE d.store_id = :id
            UNION ALL SELECT 'memberships', md5(coalesce(string_agg(m::text, '|' ORDER BY m.account_id), ''))
                      FROM memberships m WHERE m.store_id = :id
            UNION ALL SELECT 'invitations', md5(coalesce(string_agg(i::text, '|' ORDER BY i.id), ''))
                      FROM invitations i WHERE i.store_id = :id
            UNION ALL SELECT 'accounts', md5(coalesce(string_agg(a.id || a.name || a.email || a.password_hash, '|'
                      ORDER BY a.id), '')) FROM accounts a JOIN memberships m ON m.account_id = a.id
                      WHERE m.store_id = :id"""), {"id": store.id}).all()
        db.session.remove()
    return dict(rows + directory)


# -- requests ---------------------------------------------------------------------------------------------------------

def _host(endpoint: str, world) -> list[str]:
    hosts = []
    if endpoint.startswith(PLATFORM_ENDPOINTS):
        hosts.append("localhost")
    if endpoint.startswith(STORE_ENDPOINTS):
        hosts.append(world.store_host)
    return hosts


def _url(rule, world, **override) -> str:
    values = {"handle": world.handle, **vars(world.ids), **override}
    path = rule.rule
    for argument in rule.arguments:
        path = re.sub(rf"<(?:\w+:)?{argument}>", str(values.get(argument, "1")), path)
    return path


def _hostile_urls(rule, world) -> list[str]:
    urls = []
    for argument in rule.arguments - {"handle"}:
        for value in ("0", "99999999999999999999", "²", "%00", "..%2F..%2Fetc", "x" * 300):
            urls.append(_url(rule, world, **{argument: value}))
    if "handle" in rule.arguments:
        urls += [_url(rule, world, handle=value) for value in ("no-such-store", "%00", "x" * 300)]
    return urls


class Walk:
    """Requests as one client, checking each answer against the store's fingerprint."""

    def __init__(self, app, world, browser: Client):
        self.app, self.world, self.browser = app, world, browser
        self.before = _fingerprint(app, world.store)
        self.answers = 0
        self.token = None
        self.problems: list[str] = []

    def check(self, response, what: str) -> None:
        response.close()  # a file answer (media, export) holds its file open until closed
        self.answers += 1
        if response.status_code >= 500:
            self.problems.append(f"{what} answered {response.status_code}")
        after = _fingerprint(self.app, self.world.store)
        if 400 <= response.status_code < 500:
            changed = [table for table in after if after[table] != self.before.get(table)]
            if changed:
                self.problems.append(f"{what} was refused ({response.status_code}) but changed {changed}")
        self.before = after

    def done(self) -> None:
        """Every problem found, each endpoint's first few, at once."""
        assert self.answers > 0
        assert self.problems == [], "\n".join(self.problems[:40])

    def send(self, request, what: str):
        """The answer, or None when the app raised (TESTING propagates what would be a 500)."""
        try:
            return request()
        except Exception as error:  # recorded, so every problem of the walk is listed at once
            self.problems.append(f"{what} raised {type(error).__name__}: {str(error)[:160]}")
            return None

    def get(self, path: str, host: str, query: dict | None = None):
        url = path + ("?" + urlencode(query, doseq=True) if query else "")
        what = f"GET {url[:160]} on {host}"
        response = self.send(lambda: self.browser.get(url, host=host), what)
        if response is not None:
            self.check(response, what)

    def post(self, path: str, host: str, data, files: dict | None = None, csrf: bool = True):
        if isinstance(data, dict):
            data = list(data.items())
        if csrf:
            self.token = self.token or self.browser.csrf_token("/login", host="localhost")
            data = [("csrf_token", self.token), *data]
        body, content_type = _encode(data, files)
        what = f"POST {path[:160]} on {host} with {[(k, str(v)[:30]) for k, v in data][1:6]}"
        response = self.send(lambda: self.browser.flask.post(path, data=body, content_type=content_type,
                                                             headers={"Host": host}), what)
        if response is None:
            self.token = None
            return
        if "Set-Cookie" in response.headers:
            self.token = None  # the session changed (a log-in or log-out): the next post needs a new token
        self.check(response, what)


def _encode(pairs, files) -> tuple[bytes, str]:
    """The body built in memory (the test client would spool a large one to a
    temporary file it never closes); file fields get a hostile little file."""
    if not files:
        return urlencode(pairs).encode(), "application/x-www-form-urlencoded"
    import io

    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    values = MultiDict(pairs)
    for name in files:
        values[name] = FileStorage(io.BytesIO(b"Handle,Title\n\x00,\xff\xfe"), filename="hostile.csv")
    boundary, body = encode_multipart(values)
    return body, f"multipart/form-data; boundary={boundary}"


# -- the walks --------------------------------------------------------------------------------------------------------

def _rules(app, methods: set[str]):
    return [rule for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
            if rule.endpoint not in SKIP and rule.methods & methods]


def _pages(app, world) -> list[str]:
    """Every GET page of the dashboard and the platform with valid arguments: where the forms are."""
    return [_url(rule, world) for rule in _rules(app, {"GET"}) if rule.endpoint.startswith(("admin.", "platform."))]


def test_every_get_route_answers_hostile_parameters_without_a_5xx(app, make_account, make_store):
    world = _world(app, make_account, make_store)
    walk = Walk(app, world, world.browser)
    for rule in _rules(app, {"GET"}):
        for host in _host(rule.endpoint, world):
            walk.get(_url(rule, world), host)
            for value in HOSTILE_ALL:
                walk.get(_url(rule, world), host, dict.fromkeys(PARAMETERS, value))
            walk.get(_url(rule, world), host, {"page": ["1"] * HUGE})
            for url in _hostile_urls(rule, world):
                walk.get(url, host)
    walk.done()


def _post_endpoints() -> list[str]:
    """Read at collection time from an app that connects to nothing (so no server starts)."""
    from app import create_app

    listing = create_app({"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none", "REDIS_URL": "redis://127.0.0.1:9/0",
                          "VAR_DIR": str(TEST_VAR), "SECRET_KEY": "listing", "TESTING": True})
    return [rule.endpoint for rule in _rules(listing, {"POST"})]


@pytest.mark.parametrize("endpoint", _post_endpoints())
def test_every_post_route_refuses_hostile_fields_cleanly(app, make_account, make_store, endpoint):
    world = _world(app, make_account, make_store)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    walk = Walk(app, world, world.browser)
    for host in _host(endpoint, world):
        path = _url(rule, world)
        form = _form_for(world.browser, _pages(app, world), path)
        fields = dict(form.fields) if form else dict.fromkeys(_names_read_by_the_module_of(app, endpoint), "")
        fields.pop("csrf_token", None)
        files = dict.fromkeys(form.files) if form and form.files else None
        for name in fields:
            for value in HOSTILE:
                walk.post(path, host, {**fields, name: value}, files)
            walk.post(path, host, [(k, v) for k, v in fields.items() if k != name] + [(name, "1")] * HUGE, files)
        for value in HOSTILE_ALL:
            walk.post(path, host, dict.fromkeys(fields or PARAMETERS, value), files)
        for url in _hostile_urls(rule, world):
            walk.post(url, host, fields, files)
    walk.done()


# Cart writes carry no CSRF token: their forms sit on pages cached for every shopper alike. The cart
# cookie is SameSite=Lax and a cross-site Origin is refused (tests/cart); the API takes JSON only.
WITHOUT_CSRF = ("storefront.add_to_cart", "storefront.change_line", "storefront.remove_line", "api.")


def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(app, make_account, make_store):
    world = _world(app, make_account, make_store)
    forms = _forms_on(world.browser, _pages(app, world))
    walk = Walk(app, world, world.browser)
    for rule in _rules(app, {"POST"}):
        if rule.endpoint.startswith(WITHOUT_CSRF):
            continue
        for host in _host(rule.endpoint, world):
            path = _url(rule, world)
            fields = {k: v for k, v in (forms[path].fields if path in forms else {}).items() if k != "csrf_token"}
            response = walk.send(lambda: world.browser.flask.post(path, data=fields, headers={"Host": host}), path)
            if response is not None:
                if response.status_code not in (400, 404):
                    walk.problems.append(f"POST {path} without a CSRF token answered {response.status_code}")
                walk.check(response, f"POST {path} without a CSRF token")
    walk.done()


MANAGER_ONLY = re.compile(
    r"^/dashboard/<handle>/(settings|domains|staff|shipping|taxes|discounts|webhooks|failed-jobs)\b")


def test_staff_are_refused_every_owner_or_admin_only_write(app, make_account, make_store):
    world = _world(app, make_account, make_store)
    owner_forms = _forms_on(world.browser, _pages(app, world))
    staff = Client(app.test_client())
    staff.login(world.helper.email)
    walk = Walk(app, world, staff)
    guarded = [rule for rule in _rules(app, {"POST"}) if MANAGER_ONLY.match(rule.rule)]
    assert len(guarded) >= 6
    for rule in guarded:
        path = _url(rule, world)
        fields = {k: v for k, v in (owner_forms[path].fields if path in owner_forms else {}).items()
                  if k != "csrf_token"}
        response = staff.post(path, fields, csrf_from=f"/dashboard/{world.handle}/")
        assert response.status_code == 403, f"staff POST {path}: {response.status_code}"
        walk.check(response, f"staff POST {path}")


# Every kind of wrong a JSON body can be: each value in each field, wrong types, depth, size, not JSON at all.
HOSTILE_JSON = [None, True, -1, 0, 2**63, 10**40, 1.5, float("1e308"), "1", "\x00", "²", "x" * 20_000, [], {},
                [1] * HUGE, {"a": {"b": {"c": {"d": 1}}}}]


def test_every_api_write_refuses_hostile_json_cleanly(app, make_account, make_store):
    import json

    world = _world(app, make_account, make_store)
    walk = Walk(app, world, world.browser)
    host = world.store_host
    for rule in _rules(app, {"POST", "PATCH", "DELETE"}):
        if not rule.endpoint.startswith("api."):
            continue
        for method in sorted(rule.methods & {"POST", "PATCH", "DELETE"}):
            for url in [_url(rule, world), *_hostile_urls(rule, world)]:
                bodies = [{name: value} for name in ("variant_id", "quantity") for value in HOSTILE_JSON]
                bodies += [{"variant_id": world.ids.variant_id, "quantity": value} for value in HOSTILE_JSON]
                bodies += [dict.fromkeys(PARAMETERS, "\x00"), [world.ids.variant_id] * HUGE, "text", 12]
                for body in bodies:
                    what = f"{method} {url[:120]} with {json.dumps(body)[:60]}"
                    response = walk.send(lambda: world.browser.flask.open(
                        url, method=method, data=json.dumps(body), content_type="application/json",
                        headers={"Host": host}), what)
                    if response is not None:
                        walk.check(response, what)
                for raw, kind in ((b"{not json", "application/json"), (b"\xff\xfe", "application/json"),
                                  (b"variant_id=1", "application/x-www-form-urlencoded")):
                    what = f"{method} {url[:120]} with {raw!r} as {kind}"
                    response = walk.send(lambda: world.browser.flask.open(
                        url, method=method, data=raw, content_type=kind, headers={"Host": host}), what)
                    if response is not None:
                        walk.check(response, what)
    walk.done()
