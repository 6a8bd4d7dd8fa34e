"""Webhooks in the dashboard (owners and admins): the endpoints, adding and
editing one, its delivery log with "redeliver", "send test event", rotating
the signing secret and deleting. A secret is shown on the page that made it
(never through a redirect's flash, which would keep it in the session
cookie), and never again."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app import parse
from app.admin import bp
from app.domain_errors import DomainError
from app.webhooks import service
from app.webhooks.models import TOPICS
from tenants.directory import require_manager

LIST_TEMPLATE, ENDPOINT_TEMPLATE = "admin/webhooks.html", "admin/webhook.html"


def _form_values() -> dict:
    """What the merchant typed, for showing the form again (cut short: it is only echoed)."""
    topics = [str(each) for each in request.form.getlist("topics")[:len(TOPICS)]]
    return {"url": str(request.form.get("url", ""))[:service.MAX_URL_LENGTH + 1], "topics": topics}


@bp.route("/<handle>/webhooks", methods=["GET", "POST"])
def webhooks():
    require_manager(g.member)
    error, form, created = None, {"topics": []}, None
    if request.method == "POST":
        form = _form_values()
        try:
            created = service.create_endpoint(request.form, actor=current_user.email)
        except DomainError as refused:
            error = refused
        else:
            form = {"topics": []}
    return render_template(LIST_TEMPLATE, endpoints=service.endpoints(), topics=TOPICS, error=error, form=form,
                           created=created, limit=service.MAX_ENDPOINTS), error.status if error else 200


def _endpoint_page(endpoint_id: int, *, error=None, form=None, secret: str | None = None, status: int = 200):
    endpoint = service.get_endpoint(endpoint_id)
    page = service.deliveries_page(endpoint.id, parse.page_number(request.args))
    return render_template(ENDPOINT_TEMPLATE, endpoint=endpoint, page=page,
                           attempts=service.attempts_of([d.id for d in page.items]), topics=TOPICS, error=error,
                           form=form or {"url": endpoint.url, "topics": endpoint.topics}, secret=secret), status


@bp.route("/<handle>/webhooks/<id:endpoint_id>", methods=["GET", "POST"])
def webhook(endpoint_id: int):
    require_manager(g.member)
    parse.page_number(request.args)  # before any write: a bad page changes nothing
    if request.method == "POST":
        form = _form_values()
        try:
            service.update_endpoint(endpoint_id, request.form)
        except parse.BadInput as refused:
            return _endpoint_page(endpoint_id, error=refused, form=form, status=refused.status)
        flash("Saved the endpoint.")
        return redirect(url_for("admin.webhook", endpoint_id=endpoint_id), 303)
    return _endpoint_page(endpoint_id)


@bp.post("/<handle>/webhooks/<id:endpoint_id>/rotate")
def rotate_webhook_secret(endpoint_id: int):
    require_manager(g.member)
    endpoint = service.rotate_secret(endpoint_id)
    return _endpoint_page(endpoint.id, secret=endpoint.secret)


@bp.post("/<handle>/webhooks/<id:endpoint_id>/delete")
def delete_webhook(endpoint_id: int):
    require_manager(g.member)
    service.delete_endpoint(endpoint_id)
    flash("Deleted the endpoint and its delivery log.")
    return redirect(url_for("admin.webhooks"), 303)


@bp.post("/<handle>/webhooks/<id:endpoint_id>/test")
def test_webhook(endpoint_id: int):
    require_manager(g.member)
    delivery = service.send_test(endpoint_id, request.form)
    flash(f"Queued a test {delivery.topic} event; its result shows in the log below.")
    return redirect(url_for("admin.webhook", endpoint_id=endpoint_id), 303)


@bp.post("/<handle>/webhooks/<id:endpoint_id>/deliveries/<id:delivery_id>/redeliver")
def redeliver_webhook(endpoint_id: int, delivery_id: int):
    require_manager(g.member)
    delivery = service.redeliver(endpoint_id, delivery_id)
    flash(f"Queued {delivery.topic} event {delivery.webhook_id} for delivery again.")
    return redirect(url_for("admin.webhook", endpoint_id=endpoint_id), 303)
