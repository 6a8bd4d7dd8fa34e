"""Discount codes: checking (each refusal's message), redeeming and releasing, the total and per-customer
limits under 50 concurrent checkouts on real PostgreSQL, and the dashboard's writes."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app.checkout import discounts
from app.checkout.errors import DiscountError, DiscountErrorCode as Why, PricingError
from app.checkout.models import DiscountCode, DiscountRedemption, utcnow
from app.extensions import db
from tests.checkout.helpers import ACTOR, pricing_rows, refused_unchanged
from tests.conftest import as_store

CONCURRENT = 50


def _code(app, store, **fields) -> int:
    form = MultiDict({"code": "SAVE10", "kind": "percentage", "value": "10", "active": "on", **fields})
    with as_store(app, store):
        return discounts.create(form, actor=ACTOR).id


def _row(app, store, discount_id) -> tuple[int, int]:
    with as_store(app, store):
        row = db.session.get(DiscountCode, (store.id, discount_id))
        redemptions = db.session.scalar(sa.select(sa.func.count()).select_from(DiscountRedemption))
        return row.uses, redemptions


def _why(app, store, code, subtotal=10_000, customer="customer:1", now=None) -> DiscountError:
    with as_store(app, store):
        with pytest.raises(DiscountError) as refused:
            discounts.check(code, subtotal, customer, now)
    return refused.value


def test_a_valid_code_gives_its_terms_in_any_case(app, make_store):
    store = make_store()
    discount_id = _code(app, store, minimum_subtotal="20.00")
    with as_store(app, store):
        terms = discounts.check("  save10 ", 2_000, "customer:1")
    assert (terms.id, terms.code, terms.kind, terms.value, terms.minimum_subtotal) == (
        discount_id, "SAVE10", "percentage", 1_000, 2_000)


def test_each_refusal_says_why(app, make_store):
    store = make_store()
    now = utcnow()
    _code(app, store, code="LATER", starts_at=(now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    _code(app, store, code="OVER", starts_at=(now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
          ends_at=(now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    _code(app, store, code="MIN", minimum_subtotal="50.00")
    _code(app, store, code="OFF", active="off")
    assert _why(app, store, "NOPE").code == Why.UNKNOWN and "NOPE" in _why(app, store, "NOPE").message
    assert _why(app, store, "\x00' OR 1=1").code == Why.UNKNOWN
    assert _why(app, store, "later").code == Why.NOT_STARTED
    assert _why(app, store, "over").code == Why.EXPIRED and "expired on" in _why(app, store, "over").message
    below = _why(app, store, "min", subtotal=3_800)
    assert below.code == Why.BELOW_MINIMUM and "$50.00" in below.message and "add $12.00 more" in below.message
    assert _why(app, store, "off").code == Why.INACTIVE


def test_used_up_and_already_used_by_you(app, make_store):
    store = make_store()
    once = _code(app, store, code="ONCE", usage_limit="1")
    each = _code(app, store, code="EACH", per_customer_limit="1")
    with as_store(app, store):
        discounts.redeem(once, "customer:1", "order-1")
        discounts.redeem(each, "email:guest@example.com", "order-2")
    assert _why(app, store, "ONCE", customer="customer:2").code == Why.USED_UP
    mine = _why(app, store, "each", customer=discounts.customer_key(None, " Guest@Example.com"))
    assert mine.code == Why.ALREADY_USED and "already used EACH" in mine.message
    with as_store(app, store):
        assert discounts.check("each", 100, discounts.customer_key(7)).code == "EACH"  # someone else may


def test_redeem_is_idempotent_per_order_and_release_undoes_it_once(app, make_store):
    store = make_store()
    discount_id = _code(app, store, usage_limit="5")
    with as_store(app, store):
        discounts.redeem(discount_id, "customer:1", "order-1")
        discounts.redeem(discount_id, "customer:1", "order-1")  # a retried checkout
    assert _row(app, store, discount_id) == (1, 1)
    with as_store(app, store):
        assert discounts.release("order-1") is True
    with as_store(app, store):
        assert discounts.release("order-1") is False
        assert discounts.release("never") is False
    assert _row(app, store, discount_id) == (0, 0)
    with as_store(app, store):  # a payment retry after a failure redeems again
        discounts.redeem(discount_id, "customer:1", "order-1")
    assert _row(app, store, discount_id) == (1, 1)


def test_a_refused_redeem_leaves_the_callers_transaction_as_it_was(app, make_store):
    store = make_store()
    used_up = _code(app, store, code="GONE", usage_limit="1")
    with as_store(app, store):
        discounts.redeem(used_up, "customer:1", "order-1")
    with as_store(app, store):
        db.session.add(DiscountRedemption(discount_id=used_up, customer_key="x", order_ref="caller-row"))
        db.session.flush()
        with pytest.raises(DiscountError) as refused:
            discounts.redeem(used_up, "customer:2", "order-2")
        assert refused.value.code == Why.USED_UP
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DiscountRedemption)) == 2
        db.session.rollback()
    assert _row(app, store, used_up) == (1, 1)


def test_a_code_not_started_or_deactivated_cannot_be_redeemed(app, make_store):
    store = make_store()
    discount_id = _code(app, store)
    later = _code(app, store, code="LATER", starts_at=(utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    with as_store(app, store):
        with pytest.raises(DiscountError) as refused:
            discounts.redeem(later, "customer:1", "order-0")
        assert refused.value.code == Why.NOT_STARTED
        discounts.deactivate(discount_id, ACTOR)
    with as_store(app, store):
        with pytest.raises(DiscountError) as refused:
            discounts.redeem(discount_id, "customer:1", "order-1")
        assert refused.value.code == Why.INACTIVE
    with as_store(app, store):
        with pytest.raises(PricingError):
            discounts.redeem(10**15, "customer:1", "order-1")
    assert _row(app, store, discount_id) == (0, 0)


def _storm(app, store, discount_id, customer_of) -> list[str]:
    """CONCURRENT checkouts at once, each in its own thread, app context, session and transaction."""
    start = threading.Barrier(CONCURRENT)

    def checkout(n: int) -> str:
        start.wait()
        try:
            with as_store(app, store):
                discounts.redeem(discount_id, customer_of(n), f"order-{n}")
                db.session.commit()
            return "ok"
        except DiscountError as refused:
            return refused.code.value

    with ThreadPoolExecutor(CONCURRENT) as pool:
        return [f.result(timeout=120) for f in [pool.submit(checkout, n) for n in range(CONCURRENT)]]


def test_fifty_checkouts_at_once_use_a_ten_use_code_exactly_ten_times(app, make_store):
    store = make_store()
    discount_id = _code(app, store, usage_limit="10")
    answers = _storm(app, store, discount_id, lambda n: f"customer:{n}")
    assert answers.count("ok") == 10 and answers.count("used_up") == CONCURRENT - 10
    assert _row(app, store, discount_id) == (10, 10)


def test_one_customer_checking_out_fifty_times_at_once_uses_a_once_per_customer_code_once(app, make_store):
    store = make_store()
    discount_id = _code(app, store, per_customer_limit="1")
    answers = _storm(app, store, discount_id, lambda n: "email:racer@example.com" if n % 2 else "customer:9")
    assert answers.count("ok") == 2 and answers.count("already_used") == CONCURRENT - 2
    assert _row(app, store, discount_id) == (2, 2)
    with as_store(app, store):
        keys = db.session.scalars(sa.select(DiscountRedemption.customer_key).order_by(DiscountRedemption.customer_key))
        assert list(keys) == ["customer:9", "email:racer@example.com"]


# -- the dashboard ----------------------------------------------------------------------------------------------------

def _form(**fields) -> dict:
    return {"code": "SPRING", "kind": "percentage", "value": "15", "minimum_subtotal": "", "starts_at": "",
            "ends_at": "", "usage_limit": "", "per_customer_limit": "", "active": "on", **fields}


def test_a_merchant_adds_edits_deactivates_and_deletes_a_code(app, merchant):
    browser, _, store = merchant
    path = f"/dashboard/{store.handle}/discounts"
    page = browser.get(path)
    assert page.status_code == 200 and ">Discounts</a>" in page.get_data(as_text=True)
    assert "style=" not in page.get_data(as_text=True)
    made = browser.post(path, _form(usage_limit="100"), csrf_from=path)
    assert made.status_code == 303
    listing = browser.get(path).get_data(as_text=True)
    assert "SPRING" in listing and "15 % off" in listing and "0 / 100" in listing
    with as_store(app, store):
        discount_id = db.session.scalar(sa.select(DiscountCode.id))
    edit = f"{path}/{discount_id}"
    assert 'value="15"' in browser.get(edit).get_data(as_text=True)
    saved = browser.post(edit, _form(kind="fixed", value="5.00", minimum_subtotal="20"), csrf_from=edit)
    assert saved.status_code == 303
    with as_store(app, store):
        row = db.session.get(DiscountCode, (store.id, discount_id))
        assert (row.kind, row.value, row.minimum_subtotal, row.usage_limit) == ("fixed", 500, 2_000, None)
    assert browser.post(f"{edit}/deactivate", {}, csrf_from=edit).status_code == 303
    with as_store(app, store):
        assert db.session.get(DiscountCode, (store.id, discount_id)).active is False
    assert browser.post(f"{edit}/delete", {}, csrf_from=edit).status_code == 303
    assert browser.get(edit).status_code == 404


def test_a_used_code_cannot_be_deleted_nor_its_limit_set_below_its_uses(app, merchant):
    browser, _, store = merchant
    discount_id = _code(app, store, usage_limit="5")
    with as_store(app, store):
        discounts.redeem(discount_id, "customer:1", "o1")
        discounts.redeem(discount_id, "customer:2", "o2")
    edit = f"/dashboard/{store.handle}/discounts/{discount_id}"
    assert "has been used" in refused_unchanged(app, store, browser, f"{edit}/delete", {}, status=409, page=edit)
    body = refused_unchanged(app, store, browser, edit, _form(code="SAVE10", usage_limit="1"))
    assert "used 2 times" in body


@pytest.mark.parametrize("fields, message", [
    ({"code": ""}, "The code is required."),
    ({"code": "two words"}, "letters A–Z, digits"),
    ({"code": "x" * 41}, "at most 40 characters"),
    ({"kind": "bogus"}, "Choose what the code gives."),
    ({"value": "0"}, "more than 0"),
    ({"value": "101"}, "at most 100 %"),
    ({"value": "-5"}, "percentage such as 20"),
    ({"kind": "fixed", "value": "-5"}, "cannot be negative"),
    ({"kind": "fixed", "value": "99999999999999999999"}, "more than the largest amount"),
    ({"minimum_subtotal": "1e309"}, "The minimum subtotal"),
    ({"usage_limit": "99999999999999999999"}, "must be between 1 and"),
    ({"usage_limit": "0"}, "must be between 1 and"),
    ({"per_customer_limit": "²"}, "must be a whole number"),
    ({"starts_at": "2030-01-02T00:00", "ends_at": "2030-01-01T00:00"}, "The end must come after the start."),
    ({"starts_at": "tomorrow"}, "must be a date and time"),
])
def test_bad_input_is_a_422_with_the_fields_message_and_changes_nothing(app, merchant, fields, message):
    browser, _, store = merchant
    path = f"/dashboard/{store.handle}/discounts"
    body = refused_unchanged(app, store, browser, path, _form(**fields))
    assert message.replace("'", "&#39;") in body or message in body


def test_a_nul_byte_is_refused_before_anything_runs(app, merchant):
    browser, _, store = merchant
    path = f"/dashboard/{store.handle}/discounts"
    refused_unchanged(app, store, browser, path, _form(code="A\x00B"), status=400)


def test_a_code_is_unique_in_any_case(app, merchant):
    browser, _, store = merchant
    _code(app, store, code="Summer")
    path = f"/dashboard/{store.handle}/discounts"
    assert "already has the code SUMMER" in refused_unchanged(app, store, browser, path, _form(code="SUMMER"),
                                                                status=409)


def test_the_cap_on_codes(app, merchant, monkeypatch):
    browser, _, store = merchant
    monkeypatch.setattr(discounts, "MAX_DISCOUNTS", 2)
    _code(app, store, code="A1")
    _code(app, store, code="A2")
    path = f"/dashboard/{store.handle}/discounts"
    assert "can have 2 discount codes" in refused_unchanged(app, store, browser, path, _form(code="A3"), status=409)


def test_staff_cannot_see_or_change_discounts(app, merchant, make_account):
    from tenants.models import Membership
    from tests.conftest import Client

    browser, _, store = merchant
    helper = make_account("Helper")
    with app.app_context():
        db.session.add(Membership(account_id=helper.id, store_id=store.id, role="staff"))
        db.session.commit()
    staff = Client(app.test_client())
    staff.login(helper.email)
    path = f"/dashboard/{store.handle}/discounts"
    assert staff.get(path).status_code == 403
    before = pricing_rows(app, store)
    assert staff.post(path, _form(), csrf_from=f"/dashboard/{store.handle}/").status_code == 403
    assert pricing_rows(app, store) == before


def test_an_order_reference_out_of_bounds_is_refused(app, make_store):
    store = make_store()
    discount_id = _code(app, store)
    with as_store(app, store):
        for ref, key in (("", "customer:1"), ("o" * 101, "customer:1"), ("order-1", "e" * 321)):
            with pytest.raises(PricingError):
                discounts.redeem(discount_id, key, ref)
    assert _row(app, store, discount_id) == (0, 0)
