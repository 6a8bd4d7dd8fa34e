from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField

from app.forms import CURRENCY_CHOICES


class SignupForm(FlaskForm):
    name = StringField("Your name")
    email = EmailField("Email")
    password = PasswordField("Password")


class ConfirmSignupForm(FlaskForm):
    password = PasswordField("Password")


class LoginForm(FlaskForm):
    email = EmailField("Email")
    password = PasswordField("Password")


class ResetRequestForm(FlaskForm):
    email = EmailField("Email")


class ResetForm(FlaskForm):
    new_password = PasswordField("New password")


class NameForm(FlaskForm):
    name = StringField("Your name")


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password")
    new_password = PasswordField("New password")


class InvitationSignupForm(FlaskForm):
    name = StringField("Your name")
    password = PasswordField("Password")


class ActionForm(FlaskForm):
    """A bare form for POST buttons: just the CSRF token."""


class NewStoreForm(FlaskForm):
    name = StringField("Store name")
    handle = StringField("Handle")
    currency = SelectField("Currency", choices=CURRENCY_CHOICES, default="USD", validate_choice=False)
