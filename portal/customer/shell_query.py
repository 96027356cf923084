"""The signed-in shell in one statement: the session row with its customer and company, and
beside them what every page's frame shows (the Test mode mark, the portal config's version,
the logo's version, the past-due banner) and the customer summary the overview shows (the
default payment method, credit per currency). Scalar subqueries keep it to one row."""

from dataclasses import dataclass
from datetime import datetime

from peewee import JOIN, fn

from portal.db import Compiled, string_agg
from portal.models import (
    ApiKey,
    BrandLogo,
    Charge,
    Company,
    CreditEntry,
    Customer,
    Invoice,
    PaymentMethod,
    PortalConfig,
    PortalSession,
)

DefaultMethod = PaymentMethod.alias("default_method")
FirstLate = Invoice.alias("first_late")

# Only what the pages show: not the session's user agent, not the invoice number counter.
SESSION_COLUMNS = (
    PortalSession.id,
    PortalSession.company,
    PortalSession.customer,
    PortalSession.host,
    PortalSession.last_seen_at,
    PortalSession.expires_at,
)
COMPANY_COLUMNS = (
    Company.id,
    Company.created_at,
    Company.name,
    Company.brand_color,
    Company.support_email,
    Company.address,
)


@dataclass(frozen=True)
class PastDue:
    """What the customer owes late, why, and which invoice to pay first."""

    amount: int
    currency: str
    reason: str
    invoice: Invoice


def _late(invoice, now: datetime):
    """Open and late: its payment failed or its due date has passed."""
    return (
        (invoice.customer == Customer.id)
        & (invoice.status == "OPEN")
        & (invoice.payment_failed | (invoice.due_date < now))
    )


def _first_late(now: datetime):
    late = Invoice.alias("late")
    return late.select(late.id).where(_late(late, now)).order_by(late.created_at).limit(1)


def _default_method_id():
    return (
        PaymentMethod.select(PaymentMethod.id)
        .where(
            (PaymentMethod.customer == Customer.id)
            & (PaymentMethod.enabled == True)  # noqa: E712
            & (PaymentMethod.is_default == True)  # noqa: E712
        )
        .order_by(PaymentMethod.created_at.desc())
        .limit(1)
    )


def _facts(now: datetime) -> list:
    """The scalar columns: each a subquery of at most one value."""
    owed, failed = Invoice.alias("owed"), Invoice.alias("failed")
    live_key = ApiKey.select(ApiKey.id).where(
        (ApiKey.company == Company.id)
        & (ApiKey.livemode == True)  # noqa: E712
        & ApiKey.revoked_at.is_null()
    )
    per_currency = (
        CreditEntry.select(CreditEntry.currency, fn.SUM(CreditEntry.amount).alias("total"))
        .where(CreditEntry.customer == Customer.id)
        .group_by(CreditEntry.currency)
        .alias("per_currency")
    )
    return [
        fn.EXISTS(live_key).alias("has_live_key"),
        PortalConfig.select(PortalConfig.version)
        .where(PortalConfig.company == Company.id)
        .alias("config_version"),
        BrandLogo.select(BrandLogo.digest).where(BrandLogo.company == Company.id).alias("logo"),
        # Owed late in the first late invoice's currency (the banner names one amount).
        owed.select(fn.SUM(owed.amount_due - owed.amount_paid))
        .where(_late(owed, now) & (owed.currency == FirstLate.currency))
        .alias("late_owed"),
        # Why: the newest failure among the late invoices.
        Charge.select(Charge.failure_message)
        .join(failed, on=(Charge.invoice == failed.id))
        .where(
            _late(failed, now) & (Charge.status == "failed") & Charge.failure_message.is_null(False)
        )
        .order_by(failed.created_at.desc(), Charge.created_at.desc())
        .limit(1)
        .alias("late_reason"),
        per_currency.select_from(
            string_agg(per_currency.c.currency.concat(":").concat(per_currency.c.total))
        ).alias("credits"),
    ]


def shell_select(now: datetime):
    """The session rows with everything above; the caller adds the token's condition."""
    return (
        PortalSession.select(
            *SESSION_COLUMNS,
            Customer,
            *COMPANY_COLUMNS,
            DefaultMethod,
            FirstLate.id,
            FirstLate.number,
            FirstLate.currency,
            *_facts(now),
        )
        .join(Customer, on=(PortalSession.customer == Customer.id), attr="customer")
        .switch(PortalSession)
        .join(Company, on=(PortalSession.company == Company.id), attr="company")
        .switch(PortalSession)
        .join(
            DefaultMethod,
            JOIN.LEFT_OUTER,
            on=(DefaultMethod.id == _default_method_id()),
            attr="default_method",
        )
        .switch(PortalSession)
        .join(FirstLate, JOIN.LEFT_OUTER, on=(FirstLate.id == _first_late(now)), attr="first_late")
    )


def past_due(row) -> PastDue | None:
    if row.first_late is None or row.first_late.id is None:
        return None
    reason = row.late_reason or "The payment date has passed."
    return PastDue(int(row.late_owed or 0), row.first_late.currency, reason, row.first_late)


def credits(row) -> dict[str, int]:
    """Credit left per currency (only currencies with some)."""
    balances = {}
    for pair in (row.credits or "").split(","):
        currency, _, total = pair.partition(":")
        if currency and int(total):
            balances[currency] = int(total)
    return balances


def default_method(row) -> PaymentMethod | None:
    method = row.default_method
    return method if method is not None and method.id is not None else None


# Values no real request carries: where they land in the compiled SQL, the real ones go.
_TIME_MARK = datetime(1970, 1, 2, 3, 4, 5, 678901)
_DIGEST_MARK = "\x00session-digest\x00"
_SHELL = Compiled(
    lambda now, token_hash: shell_select(now).where(PortalSession.token_hash == token_hash),
    now=_TIME_MARK,
    token_hash=_DIGEST_MARK,
)


def fetch(token_hash: str, now: datetime):
    """The session row for ``token_hash`` with its shell, or None: one statement."""
    return next(iter(_SHELL.rows(now=now, token_hash=token_hash)), None)
