"""Dead letters: an outbox row whose handler keeps failing (a low-stock mail
to an SMTP server on 127.0.0.1 that refuses it) backs off on its own, ends up
on the "Failed jobs" page, and once the server takes mail again a retry
delivers it once."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from app.catalog import products as catalog
from app.effects.dispatch import HandlerFailed
from app.effects.models import Outbox
from app.extensions import db
from app.inventory.events import STOCK_LOW
from app.effects import emit
from tests.conftest import as_store, flask_cli, free_port, run_effects

ACTOR = "owner@example.com"


class MailServer:
    """Refuses every message until `accepting`; counts what it was offered and what it took."""

    def __init__(self):
        self.accepting, self.offered, self.taken = False, 0, []

    async def handle_DATA(self, server, session, envelope):
        self.offered += 1
        if not self.accepting:
            return "554 5.7.1 Refused: this server is having a bad day"
        self.taken.append(envelope.content)
        return "250 OK"


@contextmanager
def smtp_server():
    mail, port = MailServer(), free_port()
    controller = Controller(mail, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mail, port
    finally:
        controller.stop()


def _rows() -> list[Outbox]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(Outbox).where(Outbox.topic == STOCK_LOW)))


def _low_stock(app, store) -> None:
    with as_store(app, store):
        product = catalog.create_product({"title": "Lonely lamp", "price": "30"}, actor=ACTOR)
        emit(STOCK_LOW, variant_id=product.variants[0].id, available=1)
        db.session.commit()


def test_a_failing_mail_backs_off_then_is_a_dead_letter_and_a_retry_sends_it_once(app, merchant, monkeypatch,
                                                                                service_env):
    browser, _, store = merchant
    with smtp_server() as (mail, port):
        smtp_url = f"smtp://127.0.0.1:{port}"
        monkeypatch.setitem(app.config, "SMTP_URL", smtp_url)
        monkeypatch.setitem(app.config, "EFFECTS_RETRY_BASE", 3600)  # a back-off no slow machine outlives
        _low_stock(app, store)
        with as_store(app, store):
            with pytest.raises(HandlerFailed):
                run_effects("notifications")
            [row] = _rows()
            assert row.attempts == 1 and "554" in row.last_error and row.next_attempt_at > datetime.now(timezone.utc)
            run_effects("notifications")  # waiting out its back-off: the server is not asked again
            assert mail.offered == 1 and _rows()[0].attempts == 1

            monkeypatch.setitem(app.config, "EFFECTS_MAX_ATTEMPTS", 3)
            monkeypatch.setitem(app.config, "EFFECTS_RETRY_BASE", 0)
            db.session.execute(sa.update(Outbox).values(next_attempt_at=None))  # as if its time had come
            db.session.commit()
            for _ in range(2):
                with pytest.raises(HandlerFailed):
                    run_effects("notifications")
            run_effects("notifications")  # a dead letter now: left aside
            [row] = _rows()
            assert row.attempts == 3 and mail.offered == 3
            row_id = row.id

        page = f"/dashboard/{store.handle}/failed-jobs"
        listed = browser.get(page).get_data(as_text=True)
        assert f'id="failed-job-{row_id}"' in listed and "554" in listed and STOCK_LOW in listed

        mail.accepting = True
        assert browser.post(f"{page}/{row_id}/retry", csrf_from=page).status_code == 303
        with as_store(app, store):
            assert _rows()[0].attempts == 0
        result = flask_cli({**service_env, "SMTP_URL": smtp_url}, "worker", "--burst", "--queue", "notifications")
        assert "Traceback" not in result.stderr, result.stderr
        assert len([m for m in mail.taken if b"Lonely lamp" in m]) == 1
        with as_store(app, store):
            assert _rows() == []
        assert f'id="failed-job-{row_id}"' not in browser.get(page).get_data(as_text=True)
        assert browser.post(f"{page}/{row_id}/retry", csrf_from=page).status_code == 404  # gone: nothing to retry


def test_a_dead_letter_can_be_discarded_and_only_dead_letters_are_touched(app, merchant, monkeypatch):
    browser, _, store = merchant
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nobody listens: refused
    monkeypatch.setitem(app.config, "EFFECTS_MAX_ATTEMPTS", 1)
    _low_stock(app, store)
    with as_store(app, store):
        with pytest.raises(HandlerFailed):
            run_effects("notifications")
        [row] = _rows()
        assert "ConnectionRefusedError" in row.last_error
        row_id = row.id
        alive = Outbox(topic=STOCK_LOW, payload={"variant_id": 1, "available": 0}, attempts=0)
        db.session.add(alive)
        db.session.commit()
        alive_id = alive.id
    page = f"/dashboard/{store.handle}/failed-jobs"
    assert browser.post(f"{page}/{alive_id}/discard", csrf_from=page).status_code == 404  # still being tried
    assert browser.post(f"{page}/{row_id}/discard", csrf_from=page).status_code == 303
    with as_store(app, store):
        assert [r.id for r in _rows()] == [alive_id]
