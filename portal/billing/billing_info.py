"""A customer's billing information: validation, optimistic-locked saves, email changes.

Shared by the portal page and PATCH /customer-portal/billing-information (the merchant API's
customer bodies use its tax ID rules too); no Flask here.
"""

import re
from datetime import timedelta

from stdnum.au import abn
from stdnum.eu import vat as eu_vat
from stdnum.gb import vat as gb_vat
from stdnum.us import ein

from portal import email_address
from portal.access.sessions import end_customer_sessions
from portal.billing.countries import CODES
from portal.db import locked, write_transaction
from portal.errors import Conflict, ValidationFailed
from portal.i18n import customer_language, language, translate
from portal.mail import outbox
from portal.models import Customer, EmailChange, utcnow
from portal.portal_settings.config import get_config, settings_of
from portal.security import random_token, sha256_hex
from portal.timefmt import duration
from portal.webhooks import notify

EMAIL_RE = re.compile(email_address.PATTERN)
PHONE_RE = re.compile(r"^[0-9+().\-\s]{5,40}$")
CONTROL_RE = re.compile(r"[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]")
# field: (max length, required)
FIELDS = {
    "first_name": (100, True),
    "last_name": (100, True),
    "company_name": (200, False),
    "phone": (40, False),
    "address_line1": (200, False),
    "address_line2": (200, False),
    "city": (100, False),
    "region": (100, False),
    "postal_code": (20, False),
    "country": (2, False),
    "tax_id": (40, False),
}
EMAIL_CHANGE_LIFETIME = timedelta(hours=24)

# Tax IDs: the type follows the number's VAT prefix, else the customer's country. Types we
# can check (python-stdnum) are stored compact; any other country's is only shape-checked.
EU_COUNTRIES = frozenset(
    ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU")
    + ("IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK")
)
VAT_PREFIXES = EU_COUNTRIES | {"EL", "XI", "GB"}  # Greece's VAT numbers say EL
TAX_ID_SEPARATORS = re.compile(r"[\s./-]")
OTHER_TAX_ID_RE = re.compile(r"^[A-Za-z0-9 ./-]{3,40}$")
TAX_ID_MESSAGES = {
    "eu_vat": "This is not a valid EU VAT number (for example DE123456789).",
    "gb_vat": "This is not a valid UK VAT number (for example GB123456789).",
    "us_ein": "This is not a valid US EIN (for example 12-3456789).",
    "au_abn": "This is not a valid Australian Business Number (for example 51 824 753 556).",
    "other": "Enter 3 to 40 letters, digits, spaces, dots, dashes or slashes.",
}


def field_error(name: str, value) -> str | None:
    """Why ``value`` cannot be stored in field ``name``, or None."""
    limit, required = FIELDS[name]
    if value is None or value == "":
        return "This field is required." if required else None
    if not isinstance(value, str):
        return "Enter text."
    if len(value) > limit:
        return f"Use at most {limit} characters."
    if CONTROL_RE.search(value):
        return "Remove control characters."
    if name == "phone" and not PHONE_RE.match(value):
        return "Enter a phone number using digits, spaces, +, ( ) and -."
    if name == "country" and value.upper() not in CODES:
        return "Choose a country from the list."
    return None


def _is_valid_vat(number: str) -> bool:
    return (gb_vat if number.startswith("GB") else eu_vat).is_valid(number)


def _tax_id_kind(number: str, country: str) -> tuple[str, str]:
    """(type, the number as that type's check wants it) for a separator-free ``number``.
    A VAT prefix decides, except in a country we cannot check, where a local ID may happen
    to start with those letters: there only a valid VAT number counts as one."""
    checked_country = not country or country in EU_COUNTRIES or country in ("GB", "US", "AU")
    if number[:2] in VAT_PREFIXES and (checked_country or _is_valid_vat(number)):
        if number.startswith("GR"):
            number = "EL" + number[2:]
        return ("gb_vat" if number[:2] in ("GB", "XI") else "eu_vat"), number
    if country == "GB":
        return "gb_vat", "GB" + number
    if country in EU_COUNTRIES:
        return "eu_vat", ("EL" if country == "GR" else country) + number
    if country == "US":
        return "us_ein", number
    if country == "AU":
        return "au_abn", number
    return "other", number


def tax_id_problem(value: str, country: str | None) -> tuple[str | None, str | None]:
    """(the value to store, None) or (None, why it is refused) for a non-empty tax ID."""
    number = TAX_ID_SEPARATORS.sub("", value).upper()
    kind, candidate = _tax_id_kind(number, (country or "").upper())
    if kind == "other":
        if not OTHER_TAX_ID_RE.match(value):
            return None, TAX_ID_MESSAGES[kind]
        return " ".join(value.split()), None
    if kind in ("eu_vat", "gb_vat"):
        # stdnum's EU module covers XI (Northern Ireland); GB has its own.
        module = gb_vat if candidate.startswith("GB") else eu_vat
    else:
        module = ein if kind == "us_ein" else abn
    if not module.is_valid(candidate):
        return None, TAX_ID_MESSAGES[kind]
    compact = module.compact(candidate)
    return ("GB" + compact if module is gb_vat else compact), None


def normalize_tax_id(value: str | None, country: str | None) -> str | None:
    """The tax ID to store (compact for checked types); empty stays empty. A malformed one
    raises ValidationFailed on ``tax_id``. ``country`` is the customer's (new or current)."""
    text = value.strip() if isinstance(value, str) else value
    if not text:
        return text
    stored, problem = tax_id_problem(text, country)
    if problem:
        raise ValidationFailed.field("tax_id", problem)
    return stored


def clean(changes: dict, country: str | None = None) -> dict:
    """Validate every field in ``changes``; return normalised values or raise with all errors.
    A tax ID is checked against the country in ``changes``, else ``country`` (the current)."""
    errors, values = {}, {}
    for name, raw in changes.items():
        if name not in FIELDS:
            errors[name] = "Unknown field."
            continue
        value = raw.strip() if isinstance(raw, str) else raw
        problem = field_error(name, value)
        if problem:
            errors[name] = problem
        else:
            values[name] = (value.upper() if name == "country" and value else value) or None
    if values.get("tax_id"):
        stored, problem = tax_id_problem(values["tax_id"], values.get("country", country))
        if problem:
            errors["tax_id"] = problem
        else:
            values["tax_id"] = stored
    if errors:
        raise ValidationFailed("Some billing details are not valid.", fields=errors)
    return values


def update(customer: Customer, changes: dict, expected_version: int | None = None) -> Customer:
    """Save validated changes; with ``expected_version`` a concurrent edit is a 409, not lost."""
    with write_transaction():
        current = locked(Customer.select().where(Customer.id == customer.id)).get()
        values = clean(changes, current.country)
        stale = expected_version is not None and current.version != expected_version
        # A stale save that finds every value already in place overwrites nothing: e.g. Save
        # pressed while the page's own inline save of the last edited field is in flight.
        if stale and any(getattr(current, name) != value for name, value in values.items()):
            raise Conflict(
                "These details were changed elsewhere. Review the current values and save again.",
                details={"current_version": current.version},
            )
        if values:
            Customer.update(**values, version=Customer.version + 1, updated_at=utcnow()).where(
                Customer.id == customer.id
            ).execute()
            notify.customer(Customer.get_by_id(customer.id))
    return Customer.get_by_id(customer.id)


def queue_email_change_confirmation(company, row: EmailChange, token: str, origin: str) -> str:
    """Mail the new address its confirmation link, in the customer's language; returns the
    outbox id."""
    customer = Customer.get_by_id(row.customer_id)
    with language(customer_language(customer, settings_of(get_config(company)))):
        return _enqueue_email_change(company, row, token, origin)


def _enqueue_email_change(company, row: EmailChange, token: str, origin: str) -> str:
    message = outbox.enqueue(
        company=company,
        kind="email_change",
        to=row.new_email,
        template="email_change",
        subject=translate(outbox.SUBJECTS["email_change"]).format(company_name=company.name),
        context={
            "link": f"{origin}/portal/confirm-email/{token}",
            "lifetime": duration(EMAIL_CHANGE_LIFETIME),
            "new_email": row.new_email,
        },
        dedupe_key=f"email_change:{row.id}",
    )
    return message.id


def start_email_change(customer: Customer, new_email: str) -> tuple[str, EmailChange]:
    """Record the wish; the new address must confirm with the returned token."""
    address = (new_email or "").strip().lower()
    if not EMAIL_RE.fullmatch(address) or len(address) > email_address.MAX_LENGTH:
        raise ValidationFailed.field("email", "Enter a valid email address.")
    if address == (customer.email or "").lower():
        raise ValidationFailed.field("email", "This is already your billing email.")
    token = random_token(32)
    now = utcnow()
    EmailChange.update(used_at=now).where(
        (EmailChange.customer == customer) & EmailChange.used_at.is_null()
    ).execute()
    row = EmailChange.create(
        company=customer.company_id,
        customer=customer,
        new_email=address,
        token_hash=sha256_hex(token),
        expires_at=now + EMAIL_CHANGE_LIFETIME,
    )
    return token, row


def pending_email_change(token: str) -> EmailChange | None:
    if not token or len(token) > 100:
        return None
    row = EmailChange.get_or_none(EmailChange.token_hash == sha256_hex(token))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def confirm_email_change(row: EmailChange) -> Customer | None:
    """Apply the change once; None when the token was used or expired meanwhile."""
    now = utcnow()
    changed = (
        EmailChange.update(used_at=now)
        .where(
            (EmailChange.id == row.id)
            & EmailChange.used_at.is_null()
            & (EmailChange.expires_at > now)
        )
        .execute()
    )
    if changed != 1:
        return None
    Customer.update(email=row.new_email, version=Customer.version + 1, updated_at=now).where(
        Customer.id == row.customer_id
    ).execute()
    # Whoever held the old inbox may hold a session or a link: they all end here.
    end_customer_sessions(row.customer_id, now)
    customer = Customer.get_by_id(row.customer_id)
    notify.customer(customer)
    return customer
