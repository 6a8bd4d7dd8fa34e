from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.admin import bp
from app.admin.forms import StoreSettingsForm
from app.extensions import require_redis
from app.forms import render_invalid
from app.inventory.reservations import DEFAULT_MINUTES, MAX_MINUTES
from app.parse import BadInput, checkbox, whole_number
from app.money import LOCALES
from app.orders import risk
from app.orders.lifecycle import CAPTURE_MODES
from app.platform.accounts import normalize_email
from app.store import service as store_service
from tenants.directory import require_manager, update_store, validate_locale
from tenants.errors import DirectoryError, DirectoryErrorCode as Code
from tenants.provisioning import validate_currency, validate_name

TEMPLATE = "admin/settings.html"


@bp.route("/<handle>/settings", methods=["GET", "POST"])
def settings():
    require_manager(g.member)
    store = g.member.store
    current = store_service.get_settings()
    form = StoreSettingsForm(data={"name": store.name, "currency": store.currency, "locale": store.locale,
                                   **current, "fraud_high_risk_countries": " ".join(
                                       current["fraud_high_risk_countries"])})
    if form.validate_on_submit():
        try:  # everything is checked before anything is written
            extra = _store_settings(form)
            name, currency = validate_name(form.name.data), validate_currency(form.currency.data)
            locale = validate_locale(form.locale.data)
        except (DirectoryError, BadInput) as error:
            return render_invalid(TEMPLATE, form, error, settings=store_service.get_settings())
        require_redis()  # the cached settings and hosts of every process must be dropped: 503 before any write
        details_changed = (name, currency, locale) != (store.name, store.currency, store.locale)
        if (name, currency) != (store.name, store.currency):
            store_service.record(current_user.email, "store.renamed", f"Store details set to “{name}” in {currency}")
        if locale != store.locale:
            store_service.record(current_user.email, "store.locale", f"Amounts now shown as {LOCALES[locale]}")
        if details_changed:
            update_store(g.member, name=name, currency=currency, locale=locale)
        # Last: saving the settings drops the shop's cached pages, which must then show the new name.
        store_service.update_settings(extra, current_user.email)
        flash("Settings saved.")
        return redirect(url_for("admin.settings"))
    return render_template(TEMPLATE, form=form, settings=store_service.get_settings()), 400 if form.errors else 200


def _store_settings(form: StoreSettingsForm) -> dict:
    email = (form.contact_email.data or "").strip()
    if email:
        try:
            email = normalize_email(email)
        except DirectoryError as error:
            raise DirectoryError(error.code, error.message, "contact_email") from None
    message = (form.coming_soon_message.data or "").strip()
    if len(message) > store_service.MAX_SETTING_LENGTH:
        raise DirectoryError(Code.INVALID, f"Keep the message under {store_service.MAX_SETTING_LENGTH} characters.",
                             "coming_soon_message")
    try:
        minutes = whole_number(form.reservation_minutes.data, field="reservation_minutes", label="The cart hold",
                               minimum=1, maximum=MAX_MINUTES, default=DEFAULT_MINUTES)  # blank: the usual
    except BadInput:
        raise DirectoryError(Code.INVALID, "Enter how many minutes a cart holds its items: a whole number from 1 "
                             f"to {MAX_MINUTES:,}.", "reservation_minutes") from None
    capture = form.capture.data or store_service.get_settings()["capture"]  # absent: unchanged
    if capture not in CAPTURE_MODES:
        raise DirectoryError(Code.INVALID, "Choose when card payments are captured from the list.", "capture")
    return {"contact_email": email, "capture": capture, "coming_soon_message": message or store_service.DEFAULT_SETTINGS[
        "coming_soon_message"], "reservation_minutes": minutes,
            # app.checkout.taxes; also on the Taxes page
            "prices_include_tax": checkbox(request.form, "prices_include_tax"),
            "tax_shipping": checkbox(request.form, "tax_shipping"),
            **risk.parse_settings(request.form)}  # raises BadInput
