"""WTForms for the portal pages (Flask-WTF adds the CSRF token)."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from portal.countries import COUNTRIES

# Same shape check as the API's Email field (wtforms' Email() needs email_validator).
EMAIL_SHAPE = Regexp(
    r"^\s*[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+\s*$", message="Enter a valid email address."
)


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter your email address."),
            Length(max=254),
            EMAIL_SHAPE,
        ],
        render_kw={"autocomplete": "email", "inputmode": "email", "autofocus": True},
    )
    destination = HiddenField(default="home")


class ButtonForm(FlaskForm):
    """A form that is only a CSRF-protected button."""


class NonceForm(FlaskForm):
    """Base for portal action forms: a one-time nonce makes a replayed submit harmless."""

    form_nonce = HiddenField()


class CardForm(NonceForm):
    number = StringField(
        "Card number",
        validators=[DataRequired("Enter your card number."), Length(max=23)],
        render_kw={"autocomplete": "cc-number", "inputmode": "numeric"},
    )
    expiry = StringField(
        "Expiry date (MM/YY)",
        validators=[
            DataRequired("Enter the expiry date."),
            Regexp(r"^\s*(0[1-9]|1[0-2])\s*/\s*(\d{2}|\d{4})\s*$", message="Use the format MM/YY."),
        ],
        render_kw={"autocomplete": "cc-exp", "placeholder": "MM/YY"},
    )
    cvc = StringField(
        "Security code",
        validators=[
            DataRequired("Enter the security code."),
            Regexp(r"^\d{3,4}$", message="Use 3 or 4 digits."),
        ],
        render_kw={"autocomplete": "cc-csc", "inputmode": "numeric"},
    )
    name = StringField(
        "Name on card",
        validators=[DataRequired("Enter the name on the card."), Length(max=120)],
        render_kw={"autocomplete": "cc-name"},
    )
    postal_code = StringField(
        "Postal code",
        validators=[Optional(), Length(max=20)],
        render_kw={"autocomplete": "postal-code"},
    )

    def expiry_parts(self) -> tuple[int, int]:
        month, year = (part.strip() for part in self.expiry.data.split("/"))
        return int(month), int(year) + (2000 if len(year) == 2 else 0)


class BankForm(NonceForm):
    holder = StringField(
        "Account holder name",
        validators=[DataRequired("Enter the account holder's name."), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    routing_number = StringField(
        "Routing number",
        validators=[
            DataRequired("Enter the routing number."),
            Regexp(r"^\d{9}$", message="A routing number has 9 digits."),
        ],
        render_kw={"inputmode": "numeric"},
    )
    account_number = StringField(
        "Account number",
        validators=[
            DataRequired("Enter the account number."),
            Regexp(r"^\d{4,17}$", message="An account number has 4 to 17 digits."),
        ],
        render_kw={"inputmode": "numeric"},
    )
    account_type = SelectField(
        "Account type",
        choices=[SelectChoice("CHECKING", "Checking"), SelectChoice("SAVINGS", "Savings")],
    )


class PayForm(NonceForm):
    method_id = SelectField("Pay with", choices=[], validate_choice=True)


class BillingForm(NonceForm):
    """Billing information. Email is separate: a new address must confirm itself first."""

    version = HiddenField()
    first_name = StringField(
        "First name",
        validators=[DataRequired("Enter your first name."), Length(max=100)],
        render_kw={"autocomplete": "given-name"},
    )
    last_name = StringField(
        "Last name",
        validators=[DataRequired("Enter your last name."), Length(max=100)],
        render_kw={"autocomplete": "family-name"},
    )
    phone = StringField(
        "Phone", validators=[Optional(), Length(max=40)], render_kw={"autocomplete": "tel"}
    )
    address_line1 = StringField(
        "Address line 1",
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "address-line1"},
    )
    address_line2 = StringField(
        "Address line 2",
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "address-line2"},
    )
    city = StringField(
        "City",
        validators=[Optional(), Length(max=100)],
        render_kw={"autocomplete": "address-level2"},
    )
    region = StringField(
        "State, province or region",
        validators=[Optional(), Length(max=100)],
        render_kw={"autocomplete": "address-level1"},
    )
    postal_code = StringField(
        "Postal code",
        validators=[Optional(), Length(max=20)],
        render_kw={"autocomplete": "postal-code"},
    )
    country = SelectField(
        "Country",
        choices=[SelectChoice("", "Choose a country")]
        + [SelectChoice(code, name) for code, name in COUNTRIES],
        validate_choice=True,
        render_kw={"autocomplete": "country"},
    )
    tax_id = StringField("Tax ID", validators=[Optional(), Length(max=40)])

    FIELDS = (
        "first_name",
        "last_name",
        "phone",
        "address_line1",
        "address_line2",
        "city",
        "region",
        "postal_code",
        "country",
        "tax_id",
    )


class EmailForm(NonceForm):
    email = EmailField(
        "Billing email",
        validators=[
            DataRequired("Enter an email address."),
            Length(max=254),
            EMAIL_SHAPE,
        ],
        render_kw={"autocomplete": "email"},
    )
