"""Orders in the dashboard: the list (filters, pages, CSV export), an order's
page with its actions. Staff can view, fulfil, add tracking, mark delivered
and write notes; moving money (refunds, cancellations, marking a manual
payment paid) is for owners and admins."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Response, flash, g, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user

from app import parse
from app.admin import bp
from app.domain_errors import DomainError
from app.extensions import db
from app.money import MoneyError, parse_amount
from app.orders import lifecycle, reports
from app.orders import service as orders
from app.orders.models import FULFILMENT_STATUSES, PAYMENT_STATUSES, STATUSES, Refund, Shipment
from tenants.context import store_context
from tenants.directory import require_manager
from tenants.provisioning import placement_of

MAX_LINE_FIELDS = 1000


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


@bp.get("/<handle>/orders")
def orders_list():
    page_number = parse.page_number(request.args)
    filters = reports.OrderFilter.from_args(request.args)
    context = {"page": reports.orders_page(filters, page_number), "filters": filters, "statuses": STATUSES,
               "payment_statuses": PAYMENT_STATUSES, "fulfilment_statuses": FULFILMENT_STATUSES, "label": _label}
    if request.headers.get("HX-Target") == "order-results":
        return render_template("admin/orders/_results.html", **context)
    return render_template("admin/orders/list.html", **context)


@bp.get("/<handle>/orders/export.csv")
def orders_export():
    filters = reports.OrderFilter.from_args(request.args)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
    placement = placement_of(g.member.store)

    def rows():  # streamed after the view returned: the store's context is entered again for the reads
        with store_context(placement):
            yield from reports.export_rows(filters)
            db.session.commit()

    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="orders-{stamp}.csv"'})


@bp.get("/<handle>/orders/<id:order_id>")
def order_page(order_id: int):
    return _page(order_id)


def _page(order_id: int, *, errors: dict | None = None, form=None, status: int = 200):
    order = orders.get(order_id)
    lines = orders.lines_of(order.id)
    context = {
        "order": order, "lines": lines, "payments": orders.payments_of(order.id),
        "shipments": list(db.session.scalars(sa.select(Shipment).where(Shipment.order_id == order.id)
                                             .order_by(Shipment.id))),
        "refunds": list(db.session.scalars(sa.select(Refund).where(Refund.order_id == order.id)
                                           .order_by(Refund.id))),
        "events": orders.events_of(order.id), "titles": {line.id: line.title for line in lines},
        "refundable": lifecycle.refundable(order), "payment": lifecycle.current_payment(order.id),
        "can_manage": g.member.role in ("owner", "admin"), "errors": errors or {}, "form": form or {},
        "refund_key": str(uuid.uuid4()), "label": _label,
        "left_to_ship": {line.id: max(0, line.quantity - line.fulfilled - line.refunded) for line in lines},
    }
    return render_template("admin/orders/order.html", **context), status


def _act(order_id: int, action, done: str):
    """Run one verb; a refusal shows the order again with its message (nothing was changed)."""
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        if error.status == 404:
            raise
        return _page(order_id, errors={error.field or "form": error.message}, form=request.form, status=error.status)
    flash(done)
    return redirect(url_for("admin.order_page", order_id=order_id), 303)


def _units(form) -> dict[int, int]:
    """{order line id: units} from the units_<line id> fields (blank: none)."""
    names = [name for name in form.keys() if name.startswith("units_")]
    if len(names) > MAX_LINE_FIELDS:
        raise parse.bad("Too many lines in one go.", "lines")
    units = {}
    for name in names:
        line_id = parse.record_id(name.removeprefix("units_"), field="lines", label="That line")
        value = parse.whole_number(form.get(name), field=name, label="The units", default=0)
        if value:
            units[line_id] = value
    return units


def _tracking(form) -> dict[str, str]:
    return {name: form.get(name, "") for name in ("carrier", "tracking_number", "tracking_url")}


@bp.post("/<handle>/orders/<id:order_id>/fulfil")
def fulfil_order(order_id: int):
    orders.get(order_id)  # another store's id is a 404 before anything is read

    def act():
        chosen = _units(request.form) if any(k.startswith("units_") for k in request.form) else None
        lifecycle.fulfil(order_id, chosen, **_tracking(request.form), actor=current_user.email,
                         notify=parse.checkbox(request.form, "notify"))

    return _act(order_id, act, "Fulfilled. The capture of the payment follows.")


@bp.post("/<handle>/orders/<id:order_id>/shipments/<id:shipment_id>/tracking")
def add_tracking(order_id: int, shipment_id: int):
    orders.get(order_id)
    return _act(order_id, lambda: lifecycle.add_tracking(order_id, shipment_id, **_tracking(request.form),
                                                         actor=current_user.email,
                                                         notify=parse.checkbox(request.form, "notify")),
                "Tracking saved.")


@bp.post("/<handle>/orders/<id:order_id>/deliver")
def deliver_order(order_id: int):
    orders.get(order_id)
    return _act(order_id, lambda: lifecycle.mark_delivered(order_id, actor=current_user.email),
                "Marked as delivered.")


@bp.post("/<handle>/orders/<id:order_id>/notes")
def add_order_note(order_id: int):
    orders.get(order_id)
    return _act(order_id, lambda: lifecycle.add_note(order_id, request.form.get("note", ""),
                                                     actor=current_user.email), "Note added.")


@bp.post("/<handle>/orders/<id:order_id>/cancel")
def cancel_order(order_id: int):
    require_manager(g.member)
    orders.get(order_id)
    return _act(order_id, lambda: lifecycle.cancel(order_id, actor=current_user.email,
                                                   restock=parse.checkbox(request.form, "restock"),
                                                   reason=request.form.get("reason", "")), "Order cancelled.")


@bp.post("/<handle>/orders/<id:order_id>/paid")
def mark_order_paid(order_id: int):
    require_manager(g.member)
    orders.get(order_id)
    return _act(order_id, lambda: lifecycle.mark_paid(order_id, actor=current_user.email), "Marked as paid.")


@bp.post("/<handle>/orders/<id:order_id>/refund")
def refund_order(order_id: int):
    require_manager(g.member)
    order = orders.get(order_id)

    def act():
        raw = request.form.get("amount", "")
        if not raw.strip():
            raise parse.bad("Enter the amount to refund.", "amount")
        try:
            amount = parse_amount(raw, order.currency, g.store.locale)
        except MoneyError as error:
            raise parse.bad(str(error), "amount") from None
        lifecycle.refund(order_id, amount, lines=_units(request.form), restock=parse.checkbox(request.form, "restock"),
                         reason=request.form.get("reason", ""), key=request.form.get("key", ""),
                         actor=current_user.email)

    return _act(order_id, act, "Refunded.")
