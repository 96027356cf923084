"""WTForms for the portal pages (Flask-WTF adds the CSRF token)."""

from functools import lru_cache

from babel import Locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import TextInput, html_params

from portal import email_address
from portal.billing.countries import COUNTRIES
from portal.billing.countries import _sort_key as sort_key
from portal.billing.gateway import parse_expiry
from portal.digits import is_ascii_digits
from portal.i18n import LANGUAGES, N_, current_language


def _optional_text(label: str, max_length: int, autocomplete: str) -> StringField:
    return StringField(
        label,
        validators=[Optional(), Length(max=max_length)],
        render_kw={"autocomplete": autocomplete},
    )


class SignInForm(FlaskForm):
    email = email_address.form_field(
        N_("Email address"),
        N_("Enter your email address."),
        autocomplete="email",
        inputmode="email",
        autofocus=True,
    )
    destination = HiddenField(default="home")


class ButtonForm(FlaskForm):
    """A form that is only a CSRF-protected button."""


class NonceForm(FlaskForm):
    """Base for portal action forms: a one-time nonce makes a replayed submit harmless."""

    form_nonce = HiddenField()


class SecretInput(TextInput):
    """A text input that can render without a name (``nameless=True``): a form post can then
    never carry its value. Production's card fields, which only the tokenizer may read."""

    def __call__(self, field, **kwargs):
        if not kwargs.pop("nameless", False):
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        return Markup(f'<input type="text" {html_params(**kwargs)}>')  # noqa: S704 (escaped)


class CardForm(NonceForm):
    """A card to add. With JavaScript the browser sends number, expiry and security code to
    the processor's tokenizer and posts only ``token`` here; the raw fields are the sandbox's
    no-JavaScript path and are refused in production."""

    token = HiddenField(validators=[Length(max=512)])
    number = StringField(
        N_("Card number"),
        validators=[Length(max=23)],
        widget=SecretInput(),
        render_kw={"autocomplete": "cc-number", "inputmode": "numeric", "data-tokenize": "number"},
    )
    expiry = StringField(
        N_("Expiry date (MM/YY)"),
        widget=SecretInput(),
        render_kw={"autocomplete": "cc-exp", "placeholder": "MM/YY", "data-tokenize": "expiry"},
    )
    cvc = StringField(
        N_("Security code"),
        validators=[Length(max=4)],
        widget=SecretInput(),
        render_kw={"autocomplete": "cc-csc", "inputmode": "numeric", "data-tokenize": "cvc"},
    )
    name = StringField(
        N_("Name on card"),
        validators=[DataRequired(N_("Enter the name on the card.")), Length(max=120)],
        # The card script checks it beside the tokenizer's answer, to show every error at once.
        render_kw={"autocomplete": "cc-name", "data-required": "Enter the name on the card."},
    )
    postal_code = _optional_text(N_("Postal code"), 20, "postal-code")

    def validate_number(self, field):
        if not self.token.data and not (field.data or "").strip():
            raise ValidationError(N_("Enter your card number."))

    def validate_expiry(self, field):
        if self.token.data:
            return
        if not (field.data or "").strip():
            raise ValidationError(N_("Enter the expiry date."))
        if parse_expiry(field.data) is None:
            raise ValidationError(N_("Use the format MM/YY."))

    def validate_cvc(self, field):
        if self.token.data:
            return
        if not field.data:
            raise ValidationError(N_("Enter the security code."))
        if not (is_ascii_digits(field.data) and len(field.data) in (3, 4)):
            raise ValidationError(N_("Use 3 or 4 digits."))

    def expiry_parts(self) -> tuple[int, int]:
        return parse_expiry(self.expiry.data)


class BankForm(NonceForm):
    holder = StringField(
        N_("Account holder name"),
        validators=[DataRequired(N_("Enter the account holder's name.")), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    routing_number = StringField(
        N_("Routing number"),
        validators=[
            DataRequired(N_("Enter the routing number.")),
            Regexp(r"^[0-9]{9}$", message=N_("A routing number has 9 digits.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    account_number = StringField(
        N_("Account number"),
        validators=[
            DataRequired(N_("Enter the account number.")),
            Regexp(r"^[0-9]{4,17}$", message=N_("An account number has 4 to 17 digits.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    account_type = SelectField(
        N_("Account type"),
        choices=[SelectChoice("CHECKING", _l("Checking")), SelectChoice("SAVINGS", _l("Savings"))],
    )


class PayForm(NonceForm):
    method_id = SelectField(N_("Pay with"), choices=[], validate_choice=True)


@lru_cache(maxsize=len(LANGUAGES))
def country_choices(language: str) -> list[SelectChoice]:
    """The country list named and sorted in ``language`` (CLDR's names; English: as ever)."""
    first = SelectChoice("", _l("Choose a country"))
    if language == "en":
        return [first] + [SelectChoice(code, name) for code, name in COUNTRIES]
    names = Locale.parse(language).territories
    local = [(code, names.get(code, name)) for code, name in COUNTRIES]
    local.sort(key=lambda pair: sort_key(pair[1]))
    return [first] + [SelectChoice(code, name) for code, name in local]


class BillingForm(NonceForm):
    """Billing information. Email is separate: a new address must confirm itself first."""

    version = HiddenField()
    first_name = StringField(
        N_("First name"),
        validators=[DataRequired(N_("Enter your first name.")), Length(max=100)],
        render_kw={"autocomplete": "given-name"},
    )
    last_name = StringField(
        N_("Last name"),
        validators=[DataRequired(N_("Enter your last name.")), Length(max=100)],
        render_kw={"autocomplete": "family-name"},
    )
    company_name = _optional_text(N_("Company name"), 200, "organization")
    phone = _optional_text(N_("Phone"), 40, "tel")
    address_line1 = _optional_text(N_("Address line 1"), 200, "address-line1")
    address_line2 = _optional_text(N_("Address line 2"), 200, "address-line2")
    city = _optional_text(N_("City"), 100, "address-level2")
    region = _optional_text(N_("State, province or region"), 100, "address-level1")
    postal_code = _optional_text(N_("Postal code"), 20, "postal-code")
    country = SelectField(
        N_("Country"),
        choices=[SelectChoice("", _l("Choose a country"))]
        + [SelectChoice(code, name) for code, name in COUNTRIES],
        validate_choice=True,
        render_kw={"autocomplete": "country"},
    )
    # Checked by type (EU/GB VAT, US EIN, AU ABN, …) in portal.billing_info.
    tax_id = StringField(N_("Tax ID"), validators=[Optional(), Length(max=40)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices(current_language())

    FIELDS = (
        "first_name",
        "last_name",
        "company_name",
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
    email = email_address.form_field(
        N_("Billing email"), N_("Enter an email address."), autocomplete="email"
    )
