"""The webhooks page's form and reads: an endpoint's fields as posted (url, description,
event types with an "All events" choice), the company's endpoints and recent deliveries, and
an endpoint or delivery looked up within the signed-in company only."""

from portal.errors import ValidationFailed
from portal.models import WebhookDelivery, WebhookEndpoint
from portal.webhooks.events import EVENT_TYPES

ALL = "*"
EVENT_CHOICES = ((ALL, "All events"),) + tuple((name, name) for name in EVENT_TYPES)
MAX_DESCRIPTION = 500
RECENT_DELIVERIES = 20


def values_of(endpoint: WebhookEndpoint | None) -> dict:
    """What an endpoint's form shows: its stored fields, or empty ones for a new endpoint."""
    if endpoint is None:
        return {"url": "", "description": "", "events": [ALL]}
    return {
        "url": endpoint.url,
        "description": endpoint.description or "",
        "events": list(endpoint.events),
    }


def read_form(form) -> dict:
    """The posted fields as the text to show again (no ticked box means all events)."""
    return {
        "url": (form.get("url") or "").strip(),
        "description": (form.get("description") or "").strip(),
        "events": [name for name in form.getlist("events") if name] or [ALL],
    }


def validated(form) -> dict:
    """The changes the form asks for; ValidationFailed for what the domain does not check."""
    values = read_form(form)
    if len(values["description"]) > MAX_DESCRIPTION:
        raise ValidationFailed.field("description", f"Use at most {MAX_DESCRIPTION} characters.")
    return values


def endpoints_of(company) -> list[WebhookEndpoint]:
    E = WebhookEndpoint
    return list(E.select().where(E.company == company).order_by(E.created_at, E.id))


def recent_deliveries(company) -> list[WebhookDelivery]:
    """The company's last deliveries, newest first, each with its endpoint (one query)."""
    D, E = WebhookDelivery, WebhookEndpoint
    return list(
        D.select(D, E)
        .join(E)
        .where(D.company == company)
        .order_by(D.created_at.desc(), D.id.desc())
        .limit(RECENT_DELIVERIES)
    )


def owned_endpoint(company, endpoint_id: str) -> WebhookEndpoint | None:
    E = WebhookEndpoint
    if len(endpoint_id) > 64:
        return None
    return E.get_or_none((E.id == endpoint_id) & (E.company == company))


def owned_delivery(company, delivery_id: str) -> WebhookDelivery | None:
    D = WebhookDelivery
    if len(delivery_id) > 64:
        return None
    return D.get_or_none((D.id == delivery_id) & (D.company == company))
