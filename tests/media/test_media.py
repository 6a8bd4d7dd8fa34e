"""/media/…: a store's files on its own hosts (active products only), and on
the platform host to its members; a bare 404 everywhere else."""
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app.catalog.images import thumbnail_key
from app.catalog.models import ProductImage
from app.extensions import db
from app.media.storage import storage
from tenants.models import Membership
from tests.admin.test_catalog_dashboard import _new_product, _product_id
from tests.catalog.helpers import png_bytes
from tests.conftest import Client, as_store, mark_domain_verified, unique_handle

YEAR = "max-age=31536000"


def _add_product_with_image(app, browser, store, status: str, color) -> str:
    """A product in `status` with one image uploaded through the dashboard; returns the image's key."""
    title = f"{status.title()} {unique_handle()}"
    product_id = _product_id(_new_product(browser, store, title=title, sku=title, status=status))
    page = f"/dashboard/{store.handle}/products/{product_id}"
    assert browser.upload(f"{page}/images", {"alt": ""}, {"image": (png_bytes(color=color), "p.png")},
                          csrf_from=page).status_code == 302
    with as_store(app, store):
        return db.session.scalar(sa.select(ProductImage.storage_key).where(ProductImage.product_id == product_id))


@pytest.fixture
def shop(app, merchant, make_account, make_store):
    """Store A (active, draft and archived product images, its owner logged in
    on the platform) and store B with an image of its own."""
    browser, _, store = merchant
    keys = {status: _add_product_with_image(app, browser, store, status, color)
            for status, color in (("active", (1, 1, 1)), ("draft", (2, 2, 2)), ("archived", (3, 3, 3)))}
    other_owner = make_account()
    other = make_store(owner=other_owner)
    other_browser = Client(app.test_client())
    other_browser.login(other_owner.email)
    other_key = _add_product_with_image(app, other_browser, other, "active", (4, 4, 4))
    return SimpleNamespace(browser=browser, store=store, host=f"{store.handle}.localhost", keys=keys,
                           other=other, other_host=f"{other.handle}.localhost", other_key=other_key,
                           other_browser=other_browser)


def _get(client: Client, path: str, host: str | None = None):
    """The response with its body read and its file closed."""
    response = client.get(path, host=host)
    response.get_data()
    response.close()
    return response


def _files(key: str) -> list[str]:
    return [key, thumbnail_key(key, 160), thumbnail_key(key, 640)]


def _not_found_page(client: Client, host: str) -> bytes:
    """What a key that was never stored gets: every refusal must look exactly like it."""
    response = _get(client, f"/media/{'9' * 18}/{'0' * 32}.png", host=host)
    assert response.status_code == 404
    return response.data


def test_a_store_host_serves_its_active_products_images_for_a_year(app, shop):
    shopper = Client(app.test_client(), host=shop.host)
    for key in _files(shop.keys["active"]):
        response = _get(shopper, f"/media/{key}")
        assert response.status_code == 200, key
        assert response.headers["Cache-Control"] == f"public, {YEAR}, immutable"
        with as_store(app, shop.store):
            assert response.data == storage().read(key)


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_a_hidden_products_images_are_only_in_the_dashboard(app, shop, status):
    shopper = Client(app.test_client(), host=shop.host)
    missing = _not_found_page(shopper, shop.host)
    for key in _files(shop.keys[status]):
        refused = _get(shopper, f"/media/{key}")
        assert (refused.status_code, refused.data) == (404, missing), key
        also_refused = _get(shop.browser, f"/media/{key}", host=shop.host)  # a member, but on the storefront
        assert (also_refused.status_code, also_refused.data) == (404, missing), key
        seen = _get(shop.browser, f"/media/{key}")
        assert seen.status_code == 200, key
        assert seen.headers["Cache-Control"] == "private, no-store"


def test_another_stores_host_reveals_nothing(app, shop):
    shopper = Client(app.test_client(), host=shop.other_host)
    missing = _not_found_page(shopper, shop.other_host)
    for key in _files(shop.keys["active"]) + _files(shop.keys["draft"]):
        response = _get(shopper, f"/media/{key}")
        assert (response.status_code, response.data) == (404, missing), key
    assert _get(shopper, f"/media/{shop.other_key}").status_code == 200  # its own, of course


def test_the_platform_host_serves_only_members(app, shop, make_account):
    active = shop.keys["active"]
    visitor = Client(app.test_client())
    missing = _not_found_page(visitor, "localhost")
    for key in (active, thumbnail_key(active, 160), shop.keys["draft"]):
        logged_out = _get(visitor, f"/media/{key}")
        assert (logged_out.status_code, logged_out.data) == (404, missing), key
        stranger = _get(shop.other_browser, f"/media/{key}")
        assert (stranger.status_code, stranger.data) == (404, missing), key
    member = _get(shop.browser, f"/media/{thumbnail_key(active, 160)}")
    assert member.status_code == 200 and member.headers["Cache-Control"] == f"private, {YEAR}, immutable"
    own = _get(shop.other_browser, f"/media/{shop.other_key}")
    assert own.status_code == 200 and own.headers["Cache-Control"].startswith("private")

    staff = make_account(name="Helper")
    with app.app_context():  # staff, not the owner (joining through an invitation is tested in tests/platform)
        db.session.add(Membership(account_id=staff.id, store_id=shop.store.id, role="staff"))
        db.session.commit()
    helper = Client(app.test_client())
    helper.login(staff.email)
    assert _get(helper, f"/media/{shop.keys['draft']}").status_code == 200


def test_a_verified_custom_domain_serves_the_active_image(app, shop):
    domain = f"{unique_handle()}.example.org"
    domains_page = f"/dashboard/{shop.store.handle}/domains"
    assert shop.browser.post(domains_page, {"hostname": domain}, csrf_from=domains_page).status_code == 302
    assert _get(shop.browser, f"/media/{shop.keys['active']}", host=domain).status_code == 404  # not verified yet
    mark_domain_verified(app, domain)
    shopper = Client(app.test_client(), host=domain)
    served = _get(shopper, f"/media/{shop.keys['active']}")
    assert served.status_code == 200 and served.headers["Cache-Control"] == f"public, {YEAR}, immutable"
    assert _get(shopper, f"/media/{shop.keys['draft']}").status_code == 404
    assert _get(shopper, f"/media/{shop.other_key}").status_code == 404


def test_a_removed_image_is_gone_before_its_files_are(app, shop):
    key = shop.keys["active"]
    with as_store(app, shop.store):
        product_id, image_id = db.session.execute(sa.select(ProductImage.product_id, ProductImage.id)
                                                  .where(ProductImage.storage_key == key)).one()
    page = f"/dashboard/{shop.store.handle}/products/{product_id}"
    assert shop.browser.post(f"{page}/images/{image_id}", {"delete": "yes", "confirmed": "yes"},
                             csrf_from=page).status_code == 302
    with as_store(app, shop.store):
        assert storage().exists(key)  # a worker removes it after the commit
    assert _get(shop.browser, f"/media/{key}", host=shop.host).status_code == 404
    assert _get(shop.browser, f"/media/{key}").status_code == 404


def test_paths_that_are_not_our_keys_are_a_404(app, shop):
    store_id, name = shop.keys["active"].split("/")
    digest, extension = name.split(".")
    with as_store(app, shop.store):  # files on disk that no image row stands for
        stray = f"{store_id}/{'a' * 32}.png"
        storage().save(stray, png_bytes())
        storage().save(f"{store_id}/notes.txt", b"not for anyone")
    paths = [
        f"/media/{stray}", f"/media/{store_id}/notes.txt", "/media/secret_key", "/media/../secret_key",
        "/media/..%2fsecret_key", "/media/%2e%2e/%2e%2e/etc/passwd",
        f"/media/{store_id}/../{store_id}/{name}", f"/media/{store_id}/..%2f{store_id}/{name}",
        f"/media/{store_id}/{name}/..", f"/media/{store_id}/{name}/",
        f"/media/{store_id}\\{name}", f"/media/0{store_id}/{name}", f"/media/+{store_id}/{name}",
        f"/media/{store_id}/{digest.upper()}.{extension}", f"/media/{store_id}/{digest}.{extension.upper()}",
        f"/media/{store_id}/{digest}_320.webp", f"/media/{store_id}/{digest}.{extension}.webp",
        f"/media/{store_id}/{digest}", f"/media/{store_id}/{digest[:-1]}.{extension}",
        f"/media/{store_id}/{digest}.txt", f"/media/{'9' * 30}/{name}", f"/media/{shop.other_key}",
    ]
    for host, client in ((shop.host, Client(app.test_client(), host=shop.host)), ("localhost", shop.browser)):
        missing = _not_found_page(client, host)
        for path in paths:
            response = _get(client, path)
            assert (response.status_code, response.data) == (404, missing), (host, path)
    assert _get(shop.browser, f"/media/{store_id}/{name}%00.png").status_code == 400  # NUL: refused up front
