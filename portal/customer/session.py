"""The portal session cookie, Flask-Login integration and the signed-in guard."""

from urllib.parse import urlencode

from flask import g, request, url_for
from flask_login import UserMixin

from portal.access import links as access
from portal.access import sessions
from portal.access.signin import lifetimes
from portal.customer import shell_query
from portal.models import Customer
from portal.session_cookies import SessionCookie, set_cookie, signed_in_guard

COMPANY_COOKIE = "portal_company"


class PortalUser(UserMixin):
    """The signed-in customer, scoped to one company through its session row."""

    def __init__(self, session):
        self.session = session
        self.company_id = session.company_id
        self.customer_id = session.customer_id

    def get_id(self) -> str:
        return self.session.id

    @property
    def customer(self) -> Customer:
        """Read with the session, in the same statement."""
        return self.session.customer


SESSION_COOKIE = SessionCookie("portal_sid", clear_site_data='"cookies", "storage"')


def cookie_name() -> str:
    return SESSION_COOKIE.name()


def current_session():
    """The live session for this request's cookie and Host, else None."""
    if "portal_session" not in g:
        raw = SESSION_COOKIE.read()
        row = (
            sessions.load_session(raw, request.host.lower(), lifetimes(), fetch=shell_query.fetch)
            if raw
            else None
        )
        host_company = g.get("host_company")
        if row is not None and host_company is not None and row.company_id != host_company.id:
            row = None
        g.portal_session = row
    return g.portal_session


def load_portal_user():
    row = current_session()
    return PortalUser(row) if row else None


def set_session_cookie(response, raw: str, company_id: str) -> None:
    SESSION_COOKIE.set(response, raw, int(lifetimes().absolute.total_seconds()))
    # Not a secret: only remembers whose sign-in page to show when the session ends.
    set_cookie(response, COMPANY_COOKIE, company_id, 30 * 24 * 3600)


def clear_session_cookie(response) -> None:
    SESSION_COOKIE.clear(response)


def sign_in_url_for(company_id: str | None) -> str:
    if g.get("host_company") is not None:
        return url_for("customer.custom_domain_root")
    if company_id:
        return url_for("customer.sign_in", company_id=company_id)
    return url_for("customer.session_ended")


def shared_invoice_id() -> str | None:
    """The invoice a signed-out GET of ``/portal/invoices/<id>`` (a shared invoice link)
    asks for, if the id has an id's shape. Never looked up: the sign-in page it leads to is
    the same for a real and an unknown invoice."""
    if request.method not in ("GET", "HEAD"):
        return None
    return access.plausible_id((request.view_args or {}).get("invoice_id"))


def signed_out_target() -> str:
    """Where a signed-out request goes: the sign-in page of the company this browser or
    domain belongs to (offering a link to the shared invoice, if one was asked for), else
    the neutral signed-out page."""
    company_id = request.cookies.get(COMPANY_COOKIE)
    target = sign_in_url_for(company_id)
    invoice_id = shared_invoice_id()
    if invoice_id and (g.get("host_company") is not None or company_id):
        target += "?" + urlencode({"invoice": invoice_id})
    return target


# Only for a signed-in customer; others go to their merchant's sign-in page.
signed_in = signed_in_guard(signed_out_target)
