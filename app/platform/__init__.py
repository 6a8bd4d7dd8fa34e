from flask import Blueprint, abort, g, session

bp = Blueprint("platform", __name__)


@bp.before_request
def platform_host_only():
    if not g.get("on_platform"):
        abort(404)


from app.platform import account_views, invitation_views, signup_views, views  # noqa: E402,F401


from app.extensions import login_manager  # noqa: E402
from app.platform import sessions  # noqa: E402

login_manager.login_view = "platform.login"
login_manager.login_message = "Log in to open your dashboard."


@login_manager.user_loader
def load_account(account_id: str):
    """The cookie's account, only while its session row is live (app/platform/sessions.py)."""
    found = sessions.resume(account_id, session.get(sessions.COOKIE_KEY))
    if found is None:
        return None
    account, row = found
    g.account_session_id = row.id
    return account
