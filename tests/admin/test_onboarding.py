"""A new store's first minutes: its default location, the handle made from
its name, addresses that work as shown (port included), the setup checklist
on the dashboard home, and the way back from a page staff may not open."""
import re
import uuid

import pytest
import sqlalchemy as sa

from app import create_app
from app.catalog.models import Product
from app.extensions import db
from app.inventory.models import InventoryLevel, Location
from tenants.extension import split_port
from tenants.models import Store
from tenants.provisioning import placement_of, suggest_handle
from tests.conftest import Client, as_store, dispose_engines, flask_cli, mark_domain_verified, unique_handle
from tests.platform.helpers import add_staff

OPTION_RE = r'<select name="location_id"><option value="(\d+)">([^<]+)</option>'


def _placement(app, handle: str):
    with app.app_context():
        store = db.session.scalar(sa.select(Store).where(Store.handle == handle))
        placement = placement_of(store) if store is not None else None
        db.session.remove()
        return placement


def _store_count(app) -> int:
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count(Store.id)))
        db.session.remove()
        return count


def _locations(app, placement) -> list[str]:
    with as_store(app, placement):
        return [name for (name,) in db.session.execute(sa.select(Location.name).order_by(Location.id))]


def _create(browser: Client, **fields):
    data = {"name": "Corner Bakery", "handle": "", "currency": "USD", **fields}
    return browser.post("/stores/new", data, csrf_from="/stores/new")


def _logged_in(app, make_account) -> Client:
    account = make_account()
    browser = Client(app.test_client())
    browser.login(account.email)
    return browser


def _steps(html: str) -> dict[str, str]:
    """Checklist step -> its state (done, todo or soon), as the home page shows it."""
    return dict((step, state) for state, step in re.findall(r'<li class="(\w+)" data-step="([^"]+)">', html))


# 1. Default location

def test_a_store_made_with_the_form_starts_with_one_location_and_takes_stock_at_once(app, make_account):
    browser = _logged_in(app, make_account)
    handle = unique_handle("loc")
    created = _create(browser, handle=handle)
    assert created.status_code == 302
    store = _placement(app, handle)
    assert _locations(app, store) == ["Main location"]

    # The product editor's stock form offers it, and counting stock there works.
    product = browser.post(f"/dashboard/{handle}/products/new", {"title": "Sourdough", "price": "6.50"},
                           csrf_from=f"/dashboard/{handle}/products/new")
    assert product.status_code == 302, product.get_data(as_text=True)
    editor = browser.get(product.headers["Location"]).get_data(as_text=True)
    location_id, name = re.search(OPTION_RE, editor).groups()
    assert name == "Main location"
    variant_id = re.search(r'<select name="variant_id"><option value="(\d+)">', editor).group(1)
    counted = browser.post(product.headers["Location"] + "/stock",
                           {"variant_id": variant_id, "location_id": location_id, "mode": "set", "quantity": "12",
                            "reason": "received"}, csrf_from=product.headers["Location"])
    assert counted.status_code == 302, counted.get_data(as_text=True)
    with as_store(app, store):
        assert db.session.scalar(sa.select(InventoryLevel.on_hand)) == 12


@pytest.mark.parametrize("tier", ["pooled", "dedicated"])
def test_a_store_made_on_the_command_line_starts_with_one_location(app, service_env, tier):
    handle = unique_handle("cli")
    result = flask_cli(service_env, "tenants", "create", "--handle", handle, "--name", "Cli Store", "--tier", tier)
    assert f"created {handle} ({tier})" in result.stdout
    store = _placement(app, handle)
    assert store.tier == tier
    assert _locations(app, store) == ["Main location"]


def test_the_default_location_is_made_once(app, make_store):
    from app.inventory import service as inventory

    store = make_store()
    with as_store(app, store):
        assert inventory.ensure_default_location().name == "Main location"
    with as_store(app, store):
        assert inventory.ensure_default_location() is None
        assert inventory.default_location().name == "Main location"
    assert _locations(app, store) == ["Main location"]


# 4. A handle made from the name

@pytest.mark.parametrize("name, handle", [
    ("Café Noir & Co.", "cafe-noir-co"),
    ("  Northwind -- Coffee  ", "northwind-coffee"),
    ("Über Straße 9", "uber-strasse-9"),
    ("!!", ""),
    ("a" * 60, "a" * 40),
    ("x" * 39 + " y", "x" * 39),  # cut at 40, and no hyphen left at the end
])
def test_suggested_handles(name, handle):
    assert suggest_handle(name) == handle


def test_a_blank_handle_is_made_from_the_name(app, make_account):
    browser = _logged_in(app, make_account)
    tag = uuid.uuid4().hex[:8]
    created = _create(browser, name=f"Café Noir {tag}")
    assert created.status_code == 302
    assert created.headers["Location"].endswith(f"/dashboard/cafe-noir-{tag}/")
    assert _placement(app, f"cafe-noir-{tag}").name == f"Café Noir {tag}"


@pytest.mark.parametrize("name, status, message", [
    ("Taken", 422, "is taken"),  # the store below has it
    ("!!", 422, "Use 3–40 lowercase letters"),
    ("Admin", 422, "“admin” is reserved"),
    ("", 422, "Give the store a name"),
])
def test_a_handle_made_from_the_name_is_refused_clearly_and_nothing_is_made(app, make_account, name, status,
                                                                           message):
    browser = _logged_in(app, make_account)
    if name == "Taken":
        name = f"Taken {uuid.uuid4().hex[:8]}"
        assert _create(browser, name=name).status_code == 302
    before = _store_count(app)
    refused = _create(browser, name=name)
    page = refused.get_data(as_text=True)
    assert refused.status_code == status and message in page
    if suggest_handle(name):
        assert f'value="{suggest_handle(name)}"' in page  # shown in the form, for the merchant to change
    assert _store_count(app) == before


# 2. Addresses that work as shown

def test_addresses_carry_the_port_the_dashboard_is_reached_on(app, merchant):
    browser, _, store = merchant
    browser.host = "localhost:5000"
    home = browser.get(f"/dashboard/{store.handle}/").get_data(as_text=True)
    assert f'href="http://{store.handle}.localhost:5000/"' in home
    assert f">{store.handle}.localhost:5000</a>" in home
    assert "will be at" in browser.get("/stores/new").get_data(as_text=True)
    assert ">handle</strong>.localhost:5000." in browser.get("/stores/new").get_data(as_text=True)

    hostname = f"{unique_handle()}.example.net"
    added = browser.post(f"/dashboard/{store.handle}/domains", {"hostname": hostname},
                         csrf_from=f"/dashboard/{store.handle}/domains")
    assert added.status_code == 302
    domains = browser.get(f"/dashboard/{store.handle}/domains").get_data(as_text=True)
    # DNS has no ports: the CNAME target is the bare name; the address to visit has the port.
    assert (f"<td>CNAME</td><td data-label=\"Name\"><code>{hostname}</code></td>"
            f"<td data-label=\"Value\"><code>{store.handle}.localhost</code></td>") in domains
    assert f"visit <code>http://{hostname}:5000/</code>" in domains
    assert f'href="http://{store.handle}.localhost:5000/"' in domains

    mark_domain_verified(app, hostname)
    assert f'href="http://{hostname}:5000/"' in browser.get(f"/dashboard/{store.handle}/").get_data(as_text=True)
    # And each address answers as shown: the store on its handle and on its domain, port and all.
    assert "Test Store" in browser.get("/", host=f"{store.handle}.localhost:5000").get_data(as_text=True)
    assert "Test Store" in browser.get("/", host=f"{hostname}:5000").get_data(as_text=True)


@pytest.mark.parametrize("host, parts", [
    ("vitrine.localhost:5000", ("vitrine.localhost", "5000")),
    ("vitrine.example.com", ("vitrine.example.com", None)),
    ("localhost:", ("localhost:", None)),
    ("[::1]", ("[::1]", None)),
])
def test_split_port(host, parts):
    assert split_port(host) == parts


def test_without_a_port_addresses_have_none(merchant):
    browser, _, store = merchant
    home = browser.get(f"/dashboard/{store.handle}/").get_data(as_text=True)
    assert f'href="http://{store.handle}.localhost/"' in home and ":5000" not in home


@pytest.fixture
def ported_app(service_env):
    """The same databases, served by an app whose PLATFORM_HOST names a port."""
    ported = create_app({**service_env, "TESTING": True, "PLATFORM_HOST": "vitrine.localhost:8080"})
    yield ported
    dispose_engines(ported)


def test_a_port_in_platform_host_is_matched_without_it_and_shown_with_it(ported_app, make_account):
    account = make_account()
    browser = Client(ported_app.test_client(), host="vitrine.localhost")  # e.g. behind a proxy on port 80
    assert "<code>handle.vitrine.localhost:8080</code>" in browser.get("/").get_data(as_text=True)
    browser.login(account.email)
    handle = unique_handle("port")
    created = browser.post("/stores/new", {"name": "Ported", "handle": handle, "currency": "USD"},
                           csrf_from="/stores/new")
    assert created.status_code == 302
    home = browser.get(created.headers["Location"])
    assert f"live at {handle}.vitrine.localhost:8080" in home.get_data(as_text=True)
    assert f'href="http://{handle}.vitrine.localhost:8080/"' in home.get_data(as_text=True)
    assert "Ported" in browser.get("/", host=f"{handle}.vitrine.localhost:8080").get_data(as_text=True)


# 3. The setup checklist

def test_the_checklist_ticks_itself_as_the_store_grows(app, merchant):
    browser, _, store = merchant
    home = f"/dashboard/{store.handle}/"
    page = browser.get(home).get_data(as_text=True)
    assert _steps(page) == {"Add a product": "todo", "Set stock": "todo", "Choose a theme": "todo",
                            "Connect a domain": "todo", "Set up shipping": "todo"}
    assert "0 of 5 done" in page
    assert f'href="/dashboard/{store.handle}/products/new">Add a product' in page
    assert f'href="/dashboard/{store.handle}/inventory">Set stock' in page
    assert f'href="/dashboard/{store.handle}/domains">Connect a domain' in page
    assert f'href="/dashboard/{store.handle}/themes">Choose a theme' in page
    assert "Hosting: shared." in page

    product = browser.post(f"{home}products/new", {"title": "Mug", "price": "9"}, csrf_from=f"{home}products/new")
    assert product.status_code == 302
    assert _steps(browser.get(home).get_data(as_text=True))["Add a product"] == "done"

    with as_store(app, store):
        from app.inventory import service as inventory

        location_id = inventory.create_location("Shelf").id
        variant_id = db.session.scalar(sa.select(Product).limit(1)).variants[0].id
        inventory.set_on_hand(variant_id, location_id, 0, reason="correction", actor="t@example.com")
    assert _steps(browser.get(home).get_data(as_text=True))["Set stock"] == "todo"  # a count of 0 is no stock
    with as_store(app, store):
        inventory.set_on_hand(variant_id, location_id, 3, reason="received", actor="t@example.com")
    assert _steps(browser.get(home).get_data(as_text=True))["Set stock"] == "done"

    hostname = f"{unique_handle()}.example.net"
    browser.post(f"{home}domains", {"hostname": hostname}, csrf_from=f"{home}domains")
    assert _steps(browser.get(home).get_data(as_text=True))["Connect a domain"] == "todo"  # pending is not done
    mark_domain_verified(app, hostname)
    page = browser.get(home).get_data(as_text=True)
    assert _steps(page) == {"Add a product": "done", "Set stock": "done", "Choose a theme": "todo",
                            "Connect a domain": "done", "Set up shipping": "todo"}
    assert "3 of 5 done" in page
    published = browser.post(f"{home}themes/atelier/publish", {}, csrf_from=f"{home}themes")
    assert published.status_code in (302, 303)
    page = browser.get(home).get_data(as_text=True)
    assert _steps(page)["Choose a theme"] == "done" and "4 of 5 done" in page
    with as_store(app, store):
        from werkzeug.datastructures import MultiDict

        from app.checkout import shipping

        zone = shipping.create_zone(MultiDict({"name": "Home", "places": "US"}), actor="t@example.com")
        shipping.create_rate(zone.id, MultiDict({"name": "Post", "kind": "flat", "price": "4"}), actor="t@example.com")
    page = browser.get(home).get_data(as_text=True)
    assert _steps(page)["Set up shipping"] == "done" and "5 of 5 done" in page


def test_a_dedicated_store_says_so_in_plain_words(app, make_account, make_store):
    account = make_account()
    store = make_store(tier="dedicated", owner=account)
    browser = Client(app.test_client())
    browser.login(account.email)
    page = browser.get(f"/dashboard/{store.handle}/").get_data(as_text=True)
    assert "Hosting: dedicated." in page and "a database schema of its own" in page


# 5. The way back from a 403

def test_staff_refused_a_page_are_linked_back_to_the_store_dashboard(app, merchant, make_account):
    browser, _, store = merchant
    staff = add_staff(app, browser, store, make_account(name="Helper"))
    refused = staff.get(f"/dashboard/{store.handle}/settings")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 403
    assert f'<a href="/dashboard/{store.handle}/" class="way-back">Back to Test Store’s dashboard</a>' in page
    assert staff.get(f"/dashboard/{store.handle}/").status_code == 200


def test_stores_made_before_get_their_default_location_from_the_command(app, service_env, make_store):
    bare, stocked = make_store(), make_store(tier="dedicated")  # as stores were made before: no location
    with as_store(app, stocked):
        from app.inventory import service as inventory

        inventory.create_location("Warehouse")
    result = flask_cli(service_env, "tenants", "default-locations")
    assert "stores got their default location (Main location)" in result.stdout
    assert _locations(app, bare) == ["Main location"]
    assert _locations(app, stocked) == ["Warehouse"]  # a store with a location keeps just that
    flask_cli(service_env, "tenants", "default-locations")  # again: nothing more
    assert _locations(app, bare) == ["Main location"]
