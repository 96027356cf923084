"""WTForms for the sign-in pages (Flask-WTF adds the CSRF token)."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField
from wtforms.validators import DataRequired, Email, Length


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter your email address."),
            Length(max=254),
            Email("Enter a valid email address."),
        ],
        render_kw={"autocomplete": "email", "inputmode": "email", "autofocus": True},
    )
    destination = HiddenField(default="home")


class ButtonForm(FlaskForm):
    """A form that is only a CSRF-protected button."""
