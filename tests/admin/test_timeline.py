"""Directory changes made from the dashboard land on the store's timeline,
in the same commit as the change itself."""
import sqlalchemy as sa

from app.extensions import db
from app.store.models import ActivityEvent
from tests.conftest import as_store


def _timeline(app, store) -> list[str]:
    with as_store(app, store):
        return list(db.session.scalars(sa.select(ActivityEvent.summary).order_by(ActivityEvent.id)))


def test_domains_and_staff_changes_are_on_the_timeline(app, merchant, make_account):
    import re

    browser, _, store = merchant
    helper = make_account()
    domains, staff = f"/dashboard/{store.handle}/domains", f"/dashboard/{store.handle}/staff"
    assert browser.post(domains, {"hostname": "shop.timeline-test.com"}, csrf_from=domains).status_code == 302
    assert browser.post(staff, {"email": helper.email, "role": "staff"}, csrf_from=staff).status_code == 302
    page = browser.get(domains).get_data(as_text=True)
    domain_id = re.search(r"/domains/(\d+)/delete", page).group(1)
    assert browser.post(f"{domains}/{domain_id}/delete", csrf_from=domains).status_code == 302
    invitation_id = re.search(r"/staff/invitations/(\d+)/revoke", browser.get(staff).get_data(as_text=True)).group(1)
    assert browser.post(f"{staff}/invitations/{invitation_id}/revoke", csrf_from=staff).status_code == 302
    assert _timeline(app, store)[-4:] == [
        "Connected shop.timeline-test.com", f"Invited {helper.email} as staff",
        "Disconnected shop.timeline-test.com", f"Revoked the invitation to {helper.email}"]
