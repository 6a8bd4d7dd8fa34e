"""Launches on the shop: the product page's call to join or enter (cached for all), the waiting room page and its
polling fragment, the pass cookie that shows its holder the buy area, the draw page, and the 503 without Redis."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.launches import draw, passes, service
from app.launches.models import Launch, LaunchEntry
from tests.conftest import Client, as_store, wait_until
from tests.launches.conftest import ACTOR, draw_form, queue_form
from tests.outages.test_outages import redis_app  # noqa: F401  (a fixture: a Redis this test may stop)
from tests.reviews.conftest import shopper


def _now():
    return service.utcnow()


def _launch(app, shop, form) -> int:
    with as_store(app, shop.store):
        return service.create_launch(form, actor=ACTOR).id


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_the_product_page_sends_shoppers_to_the_line_and_stays_cached(app, shop):
    browser = Client(app.test_client(), host=shop.host)
    page = f"/products/{shop.ids.poster_handle}"
    assert "Join the line" not in _text(browser.get(page))
    launch_id = _launch(app, shop, queue_form(shop.ids.poster, starts=_now() + timedelta(hours=2)))
    first = browser.get(page)  # the launch's creation dropped the store's cached pages
    assert first.headers["X-Cache"] == "MISS" and "Join the line" in _text(first)
    assert f'href="/launches/{launch_id}"' in _text(first)
    assert browser.get(page).headers["X-Cache"] == "HIT"
    with as_store(app, shop.store):
        service.end_launch(launch_id)
    assert "Join the line" not in _text(browser.get(page))


def test_a_shopper_joins_waits_and_is_admitted_with_a_pass(app, shop):
    launch_id = _launch(app, shop, queue_form(shop.ids.poster, starts=_now() - timedelta(minutes=1), rate=1))
    room_path = f"/launches/{launch_id}"
    first, second = (Client(app.test_client(), host=shop.host) for _ in range(2))
    open_room = first.get(room_path)
    assert open_room.status_code == 200 and "Join the line" in _text(open_room)
    assert open_room.headers["Cache-Control"] == "private, no-store"
    joined = first.post(f"{room_path}/join", {}, csrf_from=room_path)
    assert joined.status_code == 303 and joined.headers["Location"] == room_path
    admitted = first.get(room_path)  # the first in line is admitted at once
    assert "It is your turn" in _text(admitted)
    assert passes.PASS_COOKIE in admitted.headers.get("Set-Cookie", "")
    product = first.get(f"/products/{shop.ids.poster_handle}")
    assert "Your pass lets you buy this" in _text(product) and "Join the line" not in _text(product)
    assert product.headers["X-Cache"] == "PERSONAL"
    token = second.csrf_token(room_path)
    assert second.post(f"{room_path}/join", {"csrf_token": token}).status_code == 303
    waiting = second.get(room_path)
    assert "You are in line" in _text(waiting) and "You are next." in _text(waiting)
    assert f'hx-get="{room_path}"' in _text(waiting) and "every 5s" in _text(waiting)
    fragment = second.get(room_path, headers={"HX-Request": "true"})
    assert _text(fragment).lstrip().startswith('<section id="launch-room"') and "<html" not in _text(fragment)
    assert second.post(f"{room_path}/join", {"csrf_token": token}).status_code == 303  # the same place again
    with app.app_context():
        assert app.extensions["redis"].get(f"vitrine:launch:{shop.store.id}:{launch_id}:seq") == "2"


def test_the_room_says_sold_out_and_refuses_new_places(app, shop):
    from tests.launches.conftest import set_stock

    launch_id = _launch(app, shop, queue_form(shop.ids.poster, starts=_now() - timedelta(minutes=1), rate=1))
    browser = Client(app.test_client(), host=shop.host)
    token = browser.csrf_token(f"/launches/{launch_id}")
    with as_store(app, shop.store):
        set_stock(shop.ids.poster, 0)
    # Availability is read at most once a second: within a second, every poll says sold out.
    wait_until(lambda: "Sold out" in _text(browser.get(f"/launches/{launch_id}")), "the room to close", seconds=5)
    refused = browser.post(f"/launches/{launch_id}/join", {"csrf_token": token})
    assert refused.status_code == 410 and "has sold out" in _text(refused)
    assert "Sold out" in _text(browser.get(f"/products/{shop.ids.poster_handle}"))


def test_bad_requests_to_the_room_are_4xx(app, shop):
    launch_id = _launch(app, shop, queue_form(shop.ids.poster, starts=_now() + timedelta(hours=1)))
    browser = Client(app.test_client(), host=shop.host)
    assert browser.get("/launches/999999999").status_code == 404
    assert browser.get("/launches/abc").status_code == 404
    token = browser.csrf_token("/account/login")  # (the room has no form before it opens)
    early = browser.post(f"/launches/{launch_id}/join", {"csrf_token": token})
    assert early.status_code == 409 and "The line opens at" in _text(early)
    assert browser.flask.post(f"/launches/{launch_id}/join", headers={"Host": shop.host}).status_code == 400  # no CSRF
    assert browser.post(f"/launches/{launch_id}/enter", {"csrf_token": token}).status_code == 404
    with app.app_context():
        assert app.extensions["redis"].get(f"vitrine:launch:{shop.store.id}:{launch_id}:seq") is None


def test_a_customer_enters_the_draw_once_and_uses_a_mailed_pass(app, shop):
    now = _now()
    launch_id = _launch(app, shop, draw_form(shop.ids.sneaker, starts=now - timedelta(minutes=5),
                                             closes=now + timedelta(hours=1), winners=1))
    path = f"/launches/{launch_id}"
    visitor = Client(app.test_client(), host=shop.host)
    assert "Log in to enter the draw" in _text(visitor.get(path))
    assert visitor.post(f"{path}/enter", {}, csrf_from="/account/login").status_code == 403
    customer = shopper(app, shop, customer_id=7)
    assert customer.post(f"{path}/enter", {}, csrf_from=path).status_code == 303
    assert "You are in the draw" in _text(customer.get(path))
    twice = customer.post(f"{path}/enter", {}, csrf_from="/account")
    assert twice.status_code == 409 and "already entered" in _text(twice)
    product = _text(visitor.get(f"/products/{shop.ids.sneaker_handle}"))
    assert "Enter the draw" in product
    with as_store(app, shop.store):  # the window closes, the merchant draws
        db.session.execute(sa.update(Launch).where(Launch.id == launch_id).values(
            starts_at=_now() - timedelta(minutes=10), entry_ends_at=_now() - timedelta(seconds=1)))
        db.session.commit()
        service.forget_live(shop.store.id)
        draw.run_draw(launch_id)
        entry = db.session.scalar(sa.select(LaunchEntry).where(LaunchEntry.launch_id == launch_id))
        token, entry_id = draw.pass_for(entry), entry.id
    link = f"{path}/pass?token={token}"
    assert "Log in to use your pass" in _text(visitor.get(link))
    stranger = shopper(app, shop, customer_id=8)
    assert stranger.post(f"{path}/pass", {"token": token}, csrf_from=link).status_code == 403
    assert customer.get(f"{path}/pass?token=forged").status_code == 403
    used = customer.post(f"{path}/pass", {"token": token}, csrf_from=link)
    assert used.status_code == 303 and used.headers["Location"] == f"/products/{shop.ids.sneaker_handle}"
    assert "Your pass lets you buy this" in _text(customer.get(used.headers["Location"]))
    with as_store(app, shop.store):
        assert db.session.get(LaunchEntry, (shop.store.id, entry_id)).status == "claimed"


def test_the_room_answers_503_while_redis_is_away(app, redis_app, shop):
    from app import embedded

    launch_id = _launch(app, shop, queue_form(shop.ids.poster, starts=_now() - timedelta(minutes=1)))
    browser = Client(redis_app.test_client(), host=shop.host)
    assert browser.get(f"/launches/{launch_id}").status_code == 200
    token = browser.csrf_token(f"/launches/{launch_id}")
    embedded.stop_redis(redis_app.redis_data)
    page = browser.get(f"/launches/{launch_id}")
    assert page.status_code == 503 and page.headers["Retry-After"]
    joined = browser.post(f"/launches/{launch_id}/join", {"csrf_token": token})
    assert joined.status_code == 503 and joined.headers["Retry-After"]
