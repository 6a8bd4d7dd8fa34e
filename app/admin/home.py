from flask import abort, g, redirect, render_template, request, session, url_for
from flask_login import current_user

from app.admin import bp
from app.parse import BadInput, record_id
from app.inventory.service import default_location
from app.orders.reports import PERIOD_DAYS, sales
from app.store.service import recent_activity
from app.store.setup import checklist, hosting
from tenants.directory import membership, stores_for
from tenants.errors import NotFound


@bp.get("/")
def index():
    """Open the store used last, the only one, or the store picker."""
    stores = stores_for(current_user)
    if not stores:
        return redirect(url_for("platform.new_store"))
    last = session.get("last_store")
    store = next((s for s, _ in stores if s.handle == last), stores[0][0])
    return redirect(url_for("admin.home", handle=store.handle))


@bp.post("/switch")
def switch():
    try:
        member = membership(current_user, record_id(request.form.get("store_id"), field="store_id"))
    except (BadInput, NotFound):
        abort(404, description="No such store on your account.")
    return redirect(url_for("admin.home", handle=member.store.handle))


@bp.get("/<handle>/")
def home():
    session["last_store"] = g.member.store.handle
    steps = checklist()
    return render_template("admin/home.html", activity=recent_activity(), steps=steps,
                           steps_done=sum(step.done for step in steps), hosting=hosting(g.member.store.tier),
                           default_location=default_location(), sales=sales(), period_days=PERIOD_DAYS)
