from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from app.forms import CURRENCY_CHOICES, LOCALE_CHOICES


class StoreSettingsForm(FlaskForm):
    name = StringField("Store name")
    currency = SelectField("Currency", choices=CURRENCY_CHOICES, validate_choice=False)
    locale = SelectField("Amount format", choices=LOCALE_CHOICES, validate_choice=False)
    contact_email = EmailField("Contact email")
    coming_soon_message = TextAreaField("Coming-soon message")
    reservation_minutes = StringField("Cart hold (minutes)")
    fraud_review_score = StringField("Hold for review from score")
    fraud_decline_score = StringField("Refuse from score")
    fraud_max_orders_per_hour = StringField("Orders per buyer per hour")
    fraud_high_risk_countries = StringField("High-risk shipping countries")
    capture = SelectField("Capture card payments", choices=[
        SelectChoice("on_fulfilment", "When I fulfil the order"),
        SelectChoice("immediately", "As soon as the order is placed")], validate_choice=False)


class DomainForm(FlaskForm):
    hostname = StringField("Domain")


class StaffForm(FlaskForm):
    email = EmailField("Email")
    role = SelectField("Role", choices=[SelectChoice("staff", "Staff"), SelectChoice("admin", "Admin")], validate_choice=False)


class ActionForm(FlaskForm):
    """A bare form for POST buttons (remove, switch): just the CSRF token."""
