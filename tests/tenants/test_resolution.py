"""Host -> store: platform, handle subdomain, custom domain, unknown, junk."""
import pytest

from tenants.resolver import BadHost, normalize_host
from tests.conftest import mark_domain_verified


def test_platform_host_serves_the_marketing_page(client):
    page = client.get("/", host="localhost:8000")
    assert page.status_code == 200
    assert "Create your store" in page.get_data(as_text=True)


def test_handle_subdomain_serves_that_store(client, make_store):
    store = make_store(name="Alpine Gear")
    page = client.get("/", host=f"{store.handle}.localhost:8000")
    assert page.status_code == 200
    assert "Alpine Gear" in page.get_data(as_text=True)


def test_custom_domain_serves_its_store_once_verified_and_stops_when_removed(app, merchant):
    browser, _, store = merchant
    added = browser.post(f"/dashboard/{store.handle}/domains", {"hostname": "Shop.Example.com"},
                         csrf_from=f"/dashboard/{store.handle}/domains")
    assert added.status_code == 302
    assert browser.get("/", host="shop.example.com").status_code == 404  # not proven yet
    mark_domain_verified(app, "shop.example.com")
    page = browser.get("/", host="shop.example.com")
    assert page.status_code == 200 and "Test Store" in page.get_data(as_text=True)

    domains_page = browser.get(f"/dashboard/{store.handle}/domains").get_data(as_text=True)
    import re
    domain_id = re.search(r"/domains/(\d+)/delete", domains_page).group(1)
    removed = browser.post(f"/dashboard/{store.handle}/domains/{domain_id}/delete",
                           csrf_from=f"/dashboard/{store.handle}/domains")
    assert removed.status_code == 302
    assert browser.get("/", host="shop.example.com").status_code == 404


def test_unknown_host_gets_a_clear_404_page(client):
    page = client.get("/", host="nobody-here.localhost")
    assert page.status_code == 404
    assert "No store answers at nobody-here.localhost" in page.get_data(as_text=True)
    assert client.get("/", host="unknown.example.org").status_code == 404


@pytest.mark.parametrize("host", ["bad host", "exa_mple.com", "-lead.localhost", "a..b", "x" * 64 + ".com",
                                  "shop.example.com:port", "<script>"])
def test_junk_host_header_is_a_400(client, host):
    page = client.get("/", host=host)
    assert page.status_code == 400
    assert "not a valid hostname" in page.get_data(as_text=True)


def test_normalize_host():
    assert normalize_host("Demo.LocalHost:8000") == "demo.localhost"
    assert normalize_host("shop.example.com.") == "shop.example.com"
    with pytest.raises(BadHost):
        normalize_host("")


def test_platform_routes_do_not_answer_on_store_hosts(client, make_store):
    store = make_store()
    assert client.get("/login", host=f"{store.handle}.localhost").status_code == 404
    assert client.get("/dashboard/", host=f"{store.handle}.localhost").status_code == 404


def test_cached_host_follows_a_placement_change_in_another_process(app, ctx, make_store):
    """The in-process cache is dropped by the Redis broadcast, not by a TTL."""
    import threading

    from app.extensions import get_redis
    from tenants.extension import state
    from tenants.resolver import CHANNEL

    store = make_store()
    host = f"{store.handle}.localhost"
    resolver = state().resolver
    assert resolver.resolve(host).schema == store.schema
    assert host in resolver._local

    handled = threading.Event()
    original = resolver._on_message

    def handle_and_signal(message):
        original(message)
        handled.set()

    resolver._on_message = handle_and_signal
    try:
        get_redis().publish(CHANNEL, "*")  # what another process's invalidate() sends
        assert handled.wait(timeout=10)
    finally:
        del resolver._on_message
    assert host not in resolver._local


def test_a_lookup_racing_an_invalidation_is_not_cached(ctx, make_store, monkeypatch):
    from tenants.extension import state

    store = make_store()
    host = f"{store.handle}.localhost"
    resolver = state().resolver
    resolver.invalidate()
    lookup = resolver._from_redis_or_directory

    def lookup_then_invalidated_elsewhere(name):
        found = lookup(name)
        resolver._on_message({"data": "*"})  # another process changed the directory meanwhile
        return found

    monkeypatch.setattr(resolver, "_from_redis_or_directory", lookup_then_invalidated_elsewhere)
    assert resolver.resolve(host).id == store.id
    assert host not in resolver._local
    monkeypatch.undo()
    assert resolver.resolve(host).id == store.id
    assert host in resolver._local


def test_invalidate_drops_the_cached_host_everywhere(app, merchant):
    browser, _, store = merchant
    host = f"{store.handle}.localhost"
    assert browser.get("/", host=host).status_code == 200
    with app.app_context():
        from tenants.extension import state

        assert host in state().resolver._local
        state().resolver.invalidate()
        assert host not in state().resolver._local
