"""Mails for launches, sent after the draw's transaction commits (outbox
handlers, app.effects): a winner's purchase pass. One row per call, so a
retried failure never mails another winner twice."""
from __future__ import annotations

from datetime import timezone

from app.customers.models import Customer
from app.effects import handler
from app.extensions import db
from app.launches import draw
from app.launches.events import PASS_WON
from app.launches.models import Launch, LaunchEntry
from app.launches.service import product_title
from app.notifications.service import send_email
from tenants.context import require_store
from tenants.extension import state


@handler(PASS_WON, queue="notifications", batch=False)
def pass_mail(payloads: list[dict]) -> None:
    store = require_store()
    for payload in payloads:
        entry = db.session.get(LaunchEntry, (store.id, int(payload["entry_id"])))
        if entry is None or entry.status != "won":  # claimed already, lapsed, or gone: nothing to tell
            continue
        launch = db.session.get(Launch, (store.id, entry.launch_id))
        customer = db.session.get(Customer, (store.id, entry.customer_id))
        if launch is None or customer is None:
            continue
        title = product_title(launch.product_id)
        link = f"{state().store_url(store.handle)}launches/{launch.id}/pass?token={draw.pass_for(entry)}"
        until = entry.pass_expires_at.astimezone(timezone.utc).strftime("%d %b %Y, %H:%M UTC")
        body = (f"Hello {customer.name or 'there'},\n\nYou were drawn in {store.name}'s draw for {title}. "
                f"You can buy it until {until}:\n\n{link}\n\n"
                "Open the link while logged in to your account with us. If you do not use it in time, the pass "
                "goes to the next person drawn.\n")
        send_email([customer.email], f"[{store.name}] You were drawn: {title}", body)
