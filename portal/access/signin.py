"""The sign-in flow shared by the hosted pages and the JSON API: request a link, use it up
or exchange a handoff code, and open the session; every step lands in the activity log."""

from flask import current_app

from portal.access import links as access
from portal.access.activity import record_event
from portal.access.sessions import Lifetimes, start_session
from portal.db import db, write_transaction
from portal.i18n import LANGUAGES, N_, customer_language, translate
from portal.i18n import language as in_language
from portal.mail import outbox as mail
from portal.models import Company, Customer, Invoice
from portal.models.base import new_id
from portal.portal_settings.config import get_config, settings_of
from portal.portal_settings.tenancy import origin_for
from portal.timefmt import duration


def lifetimes() -> Lifetimes:
    return Lifetimes.from_config(current_app.config)


def find_customer(company: Company, email: str) -> Customer | None:
    return (
        Customer.select()
        .where((Customer.company == company) & (Customer.email == email.strip().lower()))
        .order_by(Customer.created_at.desc())
        .first()
    )


def _invoice_of(customer: Customer | None, invoice_id: str) -> bool:
    """Whether the invoice is ``customer``'s (``None`` matches no row: the same query for
    an unknown address)."""
    return (
        Invoice.select().where((Invoice.id == invoice_id) & (Invoice.customer == customer)).exists()
    )


def request_link(
    company: Company, email: str, destination="home", context=None, settings=None, language=None
) -> list[str]:
    """Email a sign-in link if ``email`` is a customer; look the same either way. Returns
    the queued outbox ids (the request wakes the mail delivery once it committed).

    Both paths run the same lookups, render the same e-mail and commit once (an unknown
    address only skips the two inserts). ``settings``: the company's portal settings, when
    the caller has read them already; ``language``: the one the request was made in, for a
    customer who saved none.
    """
    lives = lifetimes()
    queued = []
    with write_transaction():
        customer = find_customer(company, email)
        settings = settings or settings_of(get_config(company))
        # The customer's saved choice if offered, else the page's, else the merchant's default.
        with in_language(customer_language(customer, settings, language)):
            message_context = _message_context(company, customer, lives, settings)
            if customer is None:
                if context is not None:
                    _invoice_of(None, context)  # the known path's check, for equal timing
                _rehearse_issuing(company, message_context)
                record_event(company.id, None, "auth.link_requested", {"known": False})
            else:
                if context is not None and not _invoice_of(customer, context):
                    context = None  # another customer's invoice: same answer, lands on home
                token, row = access.issue_link(
                    current_app.config["SECRET_KEY"], customer, destination, context, lives
                )
                message = mail.enqueue(
                    company=company,
                    kind="sign_in",
                    to=customer.email,
                    template="sign_in",
                    subject=translate(SIGN_IN_SUBJECT).format(company_name=company.name),
                    context={
                        **message_context,
                        "link": f"{message_context['origin']}/portal/access/{token}",
                    },
                    dedupe_key=f"sign_in:{row.id}",
                )
                queued.append(message.id)
                record_event(
                    company.id, customer.id, "auth.link_issued", {"destination": destination}
                )
    return queued


SIGN_IN_SUBJECT = N_("Your sign-in link for {company_name} billing")
_UNUSED_LINK = "/portal/access/" + "x" * 150


def _rehearse_issuing(company: Company, message_context: dict) -> None:
    """Do a link's work for an unknown address and roll it back, so that the answer takes
    as long as for a customer (no timing oracle from skipping the mail step)."""
    access.revoke_unused_links(None)
    with db.atomic() as discarded:
        mail.enqueue(
            company=company,
            kind="sign_in",
            to="nobody@example.invalid",
            template="sign_in",
            subject=translate(SIGN_IN_SUBJECT).format(company_name=company.name),
            context={**message_context, "link": _UNUSED_LINK},
            dedupe_key=f"discarded:{new_id()}",
        )
        discarded.rollback(begin=False)


def queue_preview_link(company: Company, customer: Customer, to_email: str) -> str:
    """A sign-in link as ``customer`` (the settings page's demo customer), mailed to the
    merchant user ``to_email`` who asked to try the portal; returns the outbox id."""
    lives = lifetimes()
    token, row = access.issue_link(current_app.config["SECRET_KEY"], customer, "home", None, lives)
    context = _message_context(company, None, lives, None)
    message = mail.enqueue(
        company=company,
        kind="preview_link",
        to=to_email,
        template="sign_in",
        subject=f"Test sign-in link: {company.name} billing portal (demo customer)",
        context={**context, "link": f"{context['origin']}/portal/access/{token}"},
        dedupe_key=f"preview_link:{row.id}",
    )
    record_event(company.id, customer.id, "auth.link_issued", {"preview": True})
    return message.id


def _message_context(company: Company, customer: Customer | None, lives, settings) -> dict:
    settings = settings or settings_of(get_config(company))
    return {
        "portal_header": settings["portal_header"],
        "origin": origin_for(company.id, current_app.config["PORTAL_BASE_URL"]),
        "lifetime": duration(lives.link),
        "greeting_name": customer.first_name if customer else "",
    }


def consume(row, host: str | None, user_agent: str | None, language: str | None = None):
    """Use a link up and open a session; None if another request won the race.
    ``language``: one the visitor picked before signing in, kept as the customer's
    preference unless they saved one already."""
    lives = lifetimes()
    with write_transaction():
        if not access.consume_link(row):
            return None
        session, raw = start_session(row.customer_id, row.company_id, host, user_agent, lives)
        if language in LANGUAGES:
            Customer.update(locale=language).where(
                (Customer.id == row.customer_id) & Customer.locale.is_null()
            ).execute()
        record_event(row.company_id, row.customer_id, "auth.link_redeemed", {"api": host is None})
    return session, raw


def exchange(code: str, host: str | None, user_agent: str | None):
    """Use a handoff code up and open a session; None when the code is not usable."""
    lives = lifetimes()
    with write_transaction():
        row = access.exchange_handoff(code)
        if row is None:
            return None
        session, raw = start_session(row.customer_id, row.company_id, host, user_agent, lives)
        record_event(
            row.company_id, row.customer_id, "auth.handoff_redeemed", {"api": host is None}
        )
    return row, session, raw
