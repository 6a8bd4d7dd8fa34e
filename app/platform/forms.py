from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField

from app.forms import CURRENCY_CHOICES


class SignupForm(FlaskForm):
    name = StringField("Your name")
    email = EmailField("Email")
    password = PasswordField("Password")


class LoginForm(FlaskForm):
    email = EmailField("Email")
    password = PasswordField("Password")


class NewStoreForm(FlaskForm):
    name = StringField("Store name")
    handle = StringField("Handle")
    currency = SelectField("Currency", choices=CURRENCY_CHOICES, default="USD", validate_choice=False)
