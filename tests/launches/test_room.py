"""The waiting room: first come first served, the admission rate, honest positions and estimates, one place per
shopper, per-address limits, passes, and closing once nothing can be reserved."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.launches import passes, room, service
from app.launches.models import Launch
from app.ratelimit import RateLimited
from tests.conftest import as_store, sql_statements
from tests.launches.conftest import T0, at, new_launch, queue_form, set_stock


def _join_all(info, count: int, now, prefix: str = "v:shopper") -> list[room.Ticket]:
    return [room.join(info, f"{prefix}{n}", f"203.0.113.{n}", now) for n in range(count)]


def _admitted(info, tickets, now) -> list[int]:
    return [t.number for t in tickets if room.state(info, t, now).phase == "admitted"]


def test_the_line_is_first_come_first_served(app, shop):
    with as_store(app, shop.store):
        info = new_launch(queue_form(shop.ids.poster, rate=6))
        # Shoppers join one after another, some in the same millisecond.
        tickets = [room.join(info, f"v:fifo{n}", f"203.0.113.{n}", at(n // 2)) for n in range(8)]
        assert [t.number for t in tickets] == list(range(1, 9))
        times = [t.admitted_at for t in tickets]
        assert times == sorted(times) and len(set(times)) == 8
        for seconds in range(0, 90, 5):  # at every moment, those admitted are exactly the earliest joiners
            admitted = _admitted(info, tickets, at(seconds))
            assert admitted == list(range(1, len(admitted) + 1))
        positions = [room.state(info, t, at(8)).position for t in tickets if room.state(info, t, at(8)).phase
                     == "waiting"]
        assert positions == list(range(1, len(positions) + 1))


def test_the_admission_rate_holds_in_every_window_and_is_not_banked(app, shop):
    with as_store(app, shop.store):
        set_stock(shop.ids.poster, 1000)
        info = new_launch(queue_form(shop.ids.poster, rate=6))  # one every 10 s
        crowd = _join_all(info, 30, at(0))
        assert len(_admitted(info, crowd, at(0))) == 1
        assert len(_admitted(info, crowd, at(59))) == 6
        assert len(_admitted(info, crowd, at(60))) == 7
        gaps = [(b.admitted_at - a.admitted_at).total_seconds() for a, b in zip(crowd, crowd[1:])]
        assert min(gaps) >= 10
        # Ten quiet minutes after the crowd went through: late joiners are still let in one per interval.
        late = _join_all(info, 5, at(30 * 10 + 600), prefix="v:late")
        assert len(_admitted(info, late, at(900))) == 1
        assert len(_admitted(info, late, at(925))) == 3
        assert room.stats(info, at(925)).joined == 35 and room.stats(info, at(925)).admitted == 33


def test_a_shopper_sees_their_position_and_an_honest_estimate(app, shop):
    with as_store(app, shop.store):
        info = new_launch(queue_form(shop.ids.poster, rate=12))  # one every 5 s
        tickets = _join_all(info, 4, at(1))
        third = room.state(info, tickets[2], at(1))
        assert (third.phase, third.position, third.wait_seconds) == ("waiting", 2, 10)  # ticket 1 is in already
        assert room.state(info, tickets[2], at(11)).phase == "admitted"
        assert room.state(info, tickets[3], at(6)).position == 2


def test_before_the_start_no_one_can_join_and_one_place_per_shopper(app, shop):
    with as_store(app, shop.store):
        info = new_launch(queue_form(shop.ids.poster))
        with pytest.raises(service.LaunchError) as refused:
            room.join(info, "v:early", "203.0.113.9", at(-1))
        assert refused.value.status == 409 and "opens at" in refused.value.message
        with pytest.raises(service.LaunchError) as cart:  # nor buy it before the launch
            service.check_admission(shop.ids.poster, None, now=at(-60))
        assert cart.value.status == 403 and "The line opens at 01 Dec 2026, 19:00 UTC" in cart.value.message
        assert room.state(info, None, at(-1)).phase == "not_open"
        first = room.join(info, "v:anonymous-seven", "203.0.113.9", at(0))
        again = room.join(info, "v:anonymous-seven", "203.0.113.10", at(3))
        logged_in = room.join(info, ["c:7", "v:anonymous-seven"], "203.0.113.10", at(4))  # then they log in
        assert again == first == logged_in and room.stats(info, at(5)).joined == 1


def test_one_address_cannot_take_many_places(app, shop):
    with as_store(app, shop.store):
        info = new_launch(queue_form(shop.ids.poster))
        for n in range(room.JOINS_PER_ADDRESS.count):
            room.join(info, f"v:same-network{n}", "198.51.100.77", at(0))
        with pytest.raises(RateLimited):
            room.join(info, "v:one-more", "198.51.100.77", at(1))
        assert room.stats(info, at(1)).joined == room.JOINS_PER_ADDRESS.count
        room.join(info, "v:same-network0", "198.51.100.77", at(2))  # rejoining one's own place is not a new one


def test_an_admitted_shopper_gets_a_pass_the_cart_accepts(app, shop):
    with as_store(app, shop.store):
        info = new_launch(queue_form(shop.ids.poster, rate=60))
        ticket = room.join(info, "v:buyer", "203.0.113.1", at(0))
        state = room.state(info, ticket, at(0))
        assert state.phase == "admitted" and state.pass_expires_at == at(600)
        service.check_admission(shop.ids.poster, state.pass_token, now=at(1))
        service.check_admission(shop.ids.sneaker, None, now=at(1))  # no launch governs it: no-op
        for token, now, words in [(None, at(1), "take a place"), (state.pass_token, at(600), "expired"),
                                  (state.pass_token + "x", at(1), "not for"), ("garbage", at(1), "not for")]:
            with pytest.raises(service.LaunchError) as refused:
                service.check_admission(shop.ids.poster, token, now=now)
            assert refused.value.status == 403 and words in refused.value.message
            assert refused.value.url == f"/launches/{info.id}"
        assert room.state(info, ticket, at(600)).phase == "expired"
        rejoined = room.join(info, "v:buyer", "203.0.113.1", at(601))  # an expired pass: back of the line
        assert rejoined.number == 2


def test_a_pass_is_for_one_launch_of_one_store(app, shop, make_store):
    with as_store(app, shop.store):
        info = new_launch(queue_form(shop.ids.poster, rate=60))
        new_launch(queue_form(shop.ids.sneaker, rate=60))
        token = room.state(info, room.join(info, "v:x", "203.0.113.1", at(0)), at(0)).pass_token
        with pytest.raises(service.LaunchError):
            service.check_admission(shop.ids.sneaker, token, now=at(1))
    elsewhere = make_store()
    with as_store(app, shop.store):
        forged_store = passes.issue(elsewhere.id, info.id, "q", 1, at(600))  # signed by us, for another store
        with pytest.raises(service.LaunchError):
            service.check_admission(shop.ids.poster, forged_store, now=at(1))


def test_the_room_closes_as_soon_as_nothing_can_be_reserved(app, shop):
    with as_store(app, shop.store):
        info = new_launch(queue_form(shop.ids.poster, rate=6))
        tickets = _join_all(info, 5, at(0))
        assert room.state(info, tickets[4], at(1)).phase == "waiting"
        set_stock(shop.ids.poster, 0)  # the last units went (sold, or reserved in carts)
        # Availability is read at most once a second: within the second already read, the answer stands.
        assert room.state(info, tickets[4], at(1.5)).phase == "waiting"
        states = {room.state(info, t, at(3)).phase for t in tickets}
        launch = db.session.scalar(sa.select(Launch).where(Launch.id == info.id))
        assert states == {"sold_out"} and launch.status == "closed" and launch.closed_at == at(3)
        fresh = service.live_launch(info.id)
        assert fresh.status == "closed"
        assert room.state(fresh, tickets[0], at(4)).phase == "sold_out"
        with pytest.raises(service.LaunchError) as refused:
            room.join(fresh, "v:latecomer", "203.0.113.200", at(5))
        assert refused.value.status == 410 and "sold out" in refused.value.message
        set_stock(shop.ids.poster, 4)  # restocked later: the room stays closed, as everyone was told
        assert room.state(service.live_launch(info.id), tickets[0], at(10)).phase == "sold_out"
        assert room.stats(fresh, at(10)).joined == 5


def test_an_ended_launch_governs_nothing(app, shop):
    with as_store(app, shop.store):
        info = new_launch(queue_form(shop.ids.poster, ends_at=(T0 + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")))
        with pytest.raises(service.LaunchError):
            service.check_admission(shop.ids.poster, None, now=at(0))
        service.check_admission(shop.ids.poster, None, now=at(3600))  # past its end time
        service.end_launch(info.id, now=at(10))
        assert service.governing(shop.ids.poster, at(11)) is None
        service.check_admission(shop.ids.poster, None, now=at(11))


def test_the_admission_check_reads_no_database_once_the_store_s_launches_are_cached(app, shop):
    with as_store(app, shop.store):
        info = new_launch(queue_form(shop.ids.poster, rate=60))
        token = room.state(info, room.join(info, "v:counted", "203.0.113.5", at(0)), at(0)).pass_token
        service.check_admission(shop.ids.sneaker, None, now=at(1))  # fills the cache if it was empty
        with sql_statements() as statements:
            for _ in range(20):
                service.check_admission(shop.ids.sneaker, None, now=at(1))
                service.check_admission(shop.ids.poster, token, now=at(1))
        assert statements == []
        service.end_launch(info.id)  # a change drops the cache after the commit
        service.check_admission(shop.ids.poster, None, now=at(2))
