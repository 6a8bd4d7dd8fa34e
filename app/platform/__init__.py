from flask import Blueprint, abort, g

bp = Blueprint("platform", __name__)


@bp.before_request
def platform_host_only():
    if not g.get("on_platform"):
        abort(404)


from app.platform import views  # noqa: E402,F401


from app.extensions import db, login_manager  # noqa: E402
from tenants.models import Account  # noqa: E402

login_manager.login_view = "platform.login"
login_manager.login_message = "Log in to open your dashboard."


@login_manager.user_loader
def load_account(account_id: str):
    return db.session.get(Account, int(account_id)) if account_id.isdigit() else None
