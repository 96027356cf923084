"""WTForms for the merchant pages (Flask-WTF adds the CSRF token)."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal import email_address
from portal.access.merchant_users import MAX_PASSWORD


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address."), Length(max=254)],
        render_kw={"autocomplete": "username", "inputmode": "email"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password."), Length(max=MAX_PASSWORD)],
        render_kw={"autocomplete": "current-password"},
    )


class InviteForm(FlaskForm):
    email = email_address.form_field(
        "Email address", "Enter an email address.", autocomplete="off", inputmode="email"
    )


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired("Choose a password.")],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Repeat the password",
        validators=[
            DataRequired("Repeat the password."),
            EqualTo("password", "The two passwords differ."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class BrandingForm(FlaskForm):
    name = StringField(
        "Company display name",
        validators=[DataRequired("Enter the name customers know you by."), Length(max=120)],
    )
    brand_color = StringField(
        "Brand colour",
        validators=[DataRequired("Enter a colour such as #4338ca.")],
        render_kw={"placeholder": "#4338ca", "maxlength": 7, "spellcheck": "false"},
    )
    portal_header = StringField("Portal header text", render_kw={"maxlength": 120})


class LogoForm(FlaskForm):
    logo = FileField("Logo file (PNG, JPEG or SVG, up to 512 KB)")


class DomainForm(FlaskForm):
    hostname = StringField(
        "Hostname",
        validators=[DataRequired("Enter a hostname such as billing.example.com.")],
        render_kw={"placeholder": "billing.example.com", "spellcheck": "false"},
    )


class KeyForm(FlaskForm):
    key_type = SelectField(
        "Key type",
        choices=[
            SelectChoice("secret", "Secret (sk_…): full API access, keep on your server"),
            SelectChoice("publishable", "Publishable (pk_…): sign-in links only, browser-safe"),
        ],
    )
    mode = SelectField("Mode", choices=[SelectChoice("test", "Test"), SelectChoice("live", "Live")])
