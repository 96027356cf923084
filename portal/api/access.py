"""Customer portal access over JSON: request-link, consume, handoff, sign-out, me."""

from typing import Annotated, Literal

from flask import current_app, g, request
from pydantic import Field, StringConstraints

from portal.access import links as access
from portal.access import sessions
from portal.access.activity import record_event
from portal.access.signin import consume, exchange, lifetimes, request_link
from portal.billing import credit
from portal.billing.lookup import get_referenced
from portal.errors import ValidationFailed
from portal.models import Company, Customer
from portal.portal_settings.config import get_config, settings_of
from portal.portal_settings.tenancy import origin_for
from portal.ratelimits import consume_limit, link_email_limit, link_ip_limit
from portal.timefmt import iso

from . import schemas
from .core import SESSION_AUTHENTICATORS, api_route, owned
from .customers import render
from .envelope import ApiError, success
from .fields import Email, Id
from .schemas import Shape
from .validation import Body

Destination = Literal["home", "payment_methods", "billing_information"]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=400)]


class LinkRequest(Body):
    company_id: Id
    email: Email
    destination: Destination = "home"
    destination_context: Id | None = Field(
        None,
        description="Optional: the id of an existing invoice of this company; the link then "
        "opens that invoice (the portal home when it is another customer's invoice). Any other "
        "value, an unknown id or another company's invoice is refused with 422.",
        examples=["7f9c2ba4-e88f-4c5e-9a1b-3d2f1e0c4b5a"],
    )


class TokenBody(Body):
    token: Secret


class RevokeRequest(Body):
    customer_id: Id


class Revoked(Shape):
    customer_id: str
    sessions_ended: int


class CodeBody(Body):
    code: Secret


class HandoffRequest(Body):
    customer_id: Id
    destination: Destination = "home"
    destination_context: Id | None = Field(
        None,
        description="Optional: the id of an existing invoice of this customer; the URL then "
        "opens that invoice. Any other value, an unknown id or another customer's invoice is "
        "refused with 422.",
        examples=["7f9c2ba4-e88f-4c5e-9a1b-3d2f1e0c4b5a"],
    )


class Requested(Shape):
    requested: bool


class SessionOut(Shape):
    session_token: str
    expires_at: str
    customer_id: str
    company_id: str
    destination: str
    return_url: str | None = Field(
        description="The merchant's 'Return to' link (portal config return_url), if set."
    )


class HandoffOut(Shape):
    url: str
    code: str
    expires_at: str


class Me(Shape):
    customer: schemas.Customer
    return_url: str | None = Field(
        description="The merchant's 'Return to' link (portal config return_url), if set."
    )
    credit_balances: dict[str, int] = Field(
        description="Credit the customer's next invoices use first, in cents per currency."
    )
    company: dict


def _authenticate_session() -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise ApiError(401, "AUTHENTICATION_REQUIRED", "Send the portal session as a Bearer token.")
    row = sessions.load_session(raw.strip(), None, lifetimes())
    if row is None:
        raise ApiError(401, "INVALID_SESSION", "The portal session has expired or was signed out.")
    g.portal_session, g.portal_token = row, raw.strip()
    g.company = Company.get_by_id(row.company_id)


SESSION_AUTHENTICATORS["session"] = _authenticate_session


def _invalid_token(what: str) -> ApiError:
    return ApiError(401, "INVALID_TOKEN", f"This {what} is invalid, expired or already used.")


def _signed_in(session, raw, destination: str):
    """The answer of both ways in, the magic link and the handoff code: the new session."""
    payload = {
        "session_token": raw,
        "expires_at": iso(session.expires_at),
        "customer_id": session.customer_id,
        "company_id": session.company_id,
        "destination": destination,
        "return_url": settings_of(get_config(session.company_id))["return_url"],
    }
    return success(payload, message="Signed in")


@api_route(
    "/customer-portal/access/request-link",
    "POST",
    auth="publishable",
    summary="Email a customer a magic sign-in link (same answer for unknown emails)",
    tag="Customer portal access",
    body=LinkRequest,
    response=Requested,
    limits=(link_ip_limit, link_email_limit),
)
def request_link_route(body: LinkRequest):
    if body.company_id != g.company.id:
        raise ValidationFailed.field("company_id", "This key belongs to another company.")
    context = access.check_invoice_context(g.company.id, body.destination_context)
    request_link(g.company, body.email, body.destination, context)
    return success(
        {"requested": True},
        message="If that address belongs to a customer, a sign-in link is on its way.",
    )


@api_route(
    "/customer-portal/access/consume",
    "POST",
    auth="none",
    summary="Exchange a magic-link token for a portal session",
    tag="Customer portal access",
    body=TokenBody,
    response=SessionOut,
    limits=(consume_limit,),
)
def consume_route(body: TokenBody):
    try:
        row = access.read_link(current_app.config["SECRET_KEY"], body.token, lifetimes())
    except (access.LinkInvalid, access.LinkSpent):
        raise _invalid_token("link") from None
    started = consume(row, None, request.user_agent.string)
    if started is None:
        raise _invalid_token("link")
    session, raw = started
    return _signed_in(session, raw, row.destination)


@api_route(
    "/customer-portal/access/handoff",
    "POST",
    summary="Mint a one-time URL that signs a known customer into the hosted portal",
    tag="Customer portal access",
    body=HandoffRequest,
    response=HandoffOut,
    status=201,
)
def handoff_route(body: HandoffRequest):
    customer = get_referenced(Customer, g.company, body.customer_id, "customer_id")
    context = access.check_invoice_context(g.company.id, body.destination_context, customer)
    code, row = access.issue_handoff(customer, body.destination, context, lifetimes())
    origin = origin_for(g.company.id, current_app.config["PORTAL_BASE_URL"])
    return success(
        {"url": f"{origin}/portal/handoff/{code}", "code": code, "expires_at": iso(row.expires_at)},
        message="Handoff link created",
        status=201,
    )


@api_route(
    "/customer-portal/access/handoff/exchange",
    "POST",
    auth="none",
    summary="Exchange a handoff code for a portal session",
    tag="Customer portal access",
    body=CodeBody,
    response=SessionOut,
    limits=(consume_limit,),
)
def exchange_route(body: CodeBody):
    result = exchange(body.code, None, request.user_agent.string)
    if result is None:
        raise _invalid_token("code")
    row, session, raw = result
    return _signed_in(session, raw, row.destination)


@api_route(
    "/customer-portal/access/sign-out",
    "POST",
    auth="session",
    summary="End the portal session",
    tag="Customer portal access",
    response=Requested,
)
def sign_out_route():
    session = g.portal_session
    sessions.end_session(g.portal_token)
    record_event(session.company_id, session.customer_id, "auth.sign_out", {"api": True})
    return success({"requested": True}, message="Signed out")


@api_route(
    "/customer-portal/access/revoke",
    "POST",
    summary="Sign a customer out of the portal everywhere",
    tag="Customer portal access",
    body=RevokeRequest,
    response=Revoked,
)
def revoke_route(body: RevokeRequest):
    """Every portal session of the customer ends; unused sign-in links and handoff codes
    stop working. Safe to repeat."""
    customer = get_referenced(Customer, g.company, body.customer_id, "customer_id")
    ended = sessions.end_customer_sessions(customer.id)
    record_event(g.company.id, customer.id, "auth.sessions_revoked", {"sessions": ended})
    return success({"customer_id": customer.id, "sessions_ended": ended}, message="Sessions ended")


@api_route(
    "/customer-portal/me",
    "GET",
    auth="session",
    summary="The signed-in customer",
    tag="Customer portal",
    response=Me,
)
def me_route():
    customer = owned(Customer, g.portal_session.customer_id, "customer")
    return success(
        {
            "customer": render(customer),
            "credit_balances": credit.balances(customer.id),
            "return_url": settings_of(get_config(g.company))["return_url"],
            "company": {
                "id": g.company.id,
                "name": g.company.name,
                "brand_color": g.company.brand_color,
            },
        }
    )
