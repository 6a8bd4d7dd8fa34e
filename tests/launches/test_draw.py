"""The draw: one entry per customer in the entry window, each entrant drawn at most once, the order reproducible
from the recorded seed, passes mailed after the commit, and lapsed passes rolled to the next entrants."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.effects.models import Outbox
from app.extensions import db
from app.launches import draw, service
from app.launches.events import PASS_WON
from app.launches.models import Launch, LaunchEntry
from tests.conftest import as_store, run_effects
from tests.launches.conftest import at, draw_form, new_launch, set_stock


def _entries(launch_id: int) -> list[LaunchEntry]:
    return list(db.session.scalars(sa.select(LaunchEntry).where(LaunchEntry.launch_id == launch_id)
                                   .order_by(LaunchEntry.rank.nulls_last(), LaunchEntry.id)))


def _enter_all(info, customers, now=None) -> None:
    for customer_id in customers:
        draw.enter(info, customer_id, now or at(60))


def test_the_drawn_order_is_every_entrant_once_and_reproducible_from_the_seed():
    ids = list(range(1, 501))
    order = draw.draw_order("c0ffee", ids)
    assert sorted(order) == ids and len(set(order)) == len(ids)  # each entrant exactly once
    assert draw.draw_order("c0ffee", list(reversed(ids)) + [7, 7]) == order  # same seed, same order
    assert draw.draw_order("decaf", ids) != order
    without_one = draw.draw_order("c0ffee", [i for i in ids if i != order[0]])
    assert without_one == order[1:]  # an entry that goes later moves no one else


def test_one_entry_per_customer_and_only_in_the_window(app, shop):
    with as_store(app, shop.store):
        info = new_launch(draw_form(shop.ids.sneaker))
        with pytest.raises(service.LaunchError) as early:
            draw.enter(info, 1, at(-1))
        assert early.value.status == 409 and "Entries open" in early.value.message
        draw.enter(info, 1, at(0))
        with pytest.raises(service.LaunchError) as twice:
            draw.enter(info, 1, at(5))
        assert twice.value.status == 409 and "already entered" in twice.value.message
        with pytest.raises(service.LaunchError) as late:
            draw.enter(info, 2, at(3600))
        assert late.value.status == 410
        assert [(e.customer_id, e.status) for e in _entries(info.id)] == [(1, "entered")]


def test_the_draw_ranks_everyone_gives_winners_passes_and_can_be_audited(app, shop):
    with as_store(app, shop.store):
        info = new_launch(draw_form(shop.ids.sneaker, winners=3))
        _enter_all(info, range(1, 11))
        with pytest.raises(service.LaunchError) as too_soon:
            draw.run_draw(info.id, now=at(3599))
        assert too_soon.value.status == 409
        assert db.session.scalar(sa.select(Launch.seed).where(Launch.id == info.id)) is None
        launch = draw.run_draw(info.id, now=at(3600))
        entries = _entries(info.id)
        assert [e.rank for e in entries] == list(range(1, 11))
        # Re-drawn from the recorded seed, the order is the one on record.
        assert [e.id for e in entries] == draw.draw_order(launch.seed, [e.id for e in entries])
        assert draw.replay(launch) and launch.status == "drawn" and launch.drawn_at == at(3600)
        assert [e.status for e in entries] == ["won"] * 3 + ["entered"] * 7
        assert {e.pass_expires_at for e in entries[:3]} == {at(3600 + 30 * 60)}
        mails = db.session.scalars(sa.select(Outbox.payload).where(Outbox.topic == PASS_WON)).all()
        assert sorted(p["entry_id"] for p in mails) == sorted(e.id for e in entries[:3])
        with pytest.raises(service.LaunchError) as again:
            draw.run_draw(info.id, now=at(3700))
        assert again.value.status == 409 and db.session.get(Launch, (shop.store.id, info.id)).seed == launch.seed
        # Tampering with the record shows in the audit.
        db.session.execute(sa.update(LaunchEntry).where(LaunchEntry.id == entries[0].id).values(rank=99))
        assert not draw.replay(launch)
        db.session.rollback()


def test_a_fixed_seed_gives_the_same_winners(app, shop, make_store):
    winners = []
    for _ in range(2):
        with as_store(app, shop.store):
            info = new_launch(draw_form(shop.ids.poster, winners=2))
            _enter_all(info, [3, 1, 4, 15, 9, 2, 6])
            draw.run_draw(info.id, now=at(3600), seed="seed-for-the-audit")
            ids = {e.id: e.customer_id for e in _entries(info.id)}
            expected = [ids[i] for i in draw.draw_order("seed-for-the-audit", list(ids))][:2]
            winners.append([e.customer_id for e in _entries(info.id) if e.status == "won"])
            assert winners[-1] == expected
            service.end_launch(info.id)


def test_winners_are_mailed_their_pass_after_the_commit(app, shop):
    import pathlib

    mail_dir = pathlib.Path(app.config["VAR_DIR"]) / "mail"
    before = set(mail_dir.glob("*.eml")) if mail_dir.exists() else set()
    with as_store(app, shop.store):
        info = new_launch(draw_form(shop.ids.sneaker, winners=1))
        _enter_all(info, [5, 6])
        draw.run_draw(info.id, now=at(3600))
        run_effects("notifications")
        winner = next(e.customer_id for e in _entries(info.id) if e.status == "won")
    sent = [p.read_text() for p in set(mail_dir.glob("*.eml")) - before]
    mine = [m for m in sent if f"customer{winner}@example.com" in m]
    assert len(mine) == 1 and f"/launches/{info.id}/pass?token=" in mine[0] and "Moon Sneaker" in mine[0]


def test_lapsed_passes_roll_to_the_next_entrants_while_stock_lasts(app, shop):
    with as_store(app, shop.store):
        set_stock(shop.ids.sneaker, 3)
        info = new_launch(draw_form(shop.ids.sneaker, winners=2))
        _enter_all(info, range(1, 9))
        draw.run_draw(info.id, now=at(3600))
        first, second = _entries(info.id)[:2]
        draw.claim(service.live_launch(info.id), draw.pass_for(first), first.customer_id, at(3700))
        assert draw.roll(info.id, now=at(3600 + 29 * 60)) == 0  # nothing ran out yet
        rolled_at = at(3600 + 31 * 60)
        assert draw.drawn_launches_due(rolled_at) == [info.id]
        assert draw.roll(info.id, now=rolled_at) == 1  # the unclaimed pass went to rank 3
        assert draw.roll(info.id, now=rolled_at) == 0  # and only once
        statuses = [e.status for e in _entries(info.id)]
        assert statuses[:4] == ["claimed", "lapsed", "won", "entered"]
        # No stock left: a pass that lapses now is not passed on.
        set_stock(shop.ids.sneaker, 0)
        assert draw.roll(info.id, now=rolled_at + timedelta(minutes=31)) == 0
        assert [e.status for e in _entries(info.id)][:4] == ["claimed", "lapsed", "lapsed", "entered"]


def test_only_the_entrant_can_claim_their_pass(app, shop):
    with as_store(app, shop.store):
        info = new_launch(draw_form(shop.ids.sneaker, winners=1))
        _enter_all(info, [11, 12])
        draw.run_draw(info.id, now=at(3600))
        winner = next(e for e in _entries(info.id) if e.status == "won")
        live = service.live_launch(info.id)
        with pytest.raises(service.LaunchError) as refused:
            draw.claim(live, draw.pass_for(winner), 23 - winner.customer_id, at(3601))
        assert refused.value.status == 403
        assert db.session.get(LaunchEntry, (shop.store.id, winner.id)).status == "won"
        token = draw.pass_for(winner)
        service.check_admission(shop.ids.sneaker, token, now=at(3601))  # the winner's pass opens the cart
        with pytest.raises(service.LaunchError):
            service.check_admission(shop.ids.sneaker, token, now=at(3600 + 30 * 60))
