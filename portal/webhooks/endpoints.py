"""Webhook endpoints: register, change, disable, delete, roll the secret, send a test,
resend a delivery, and the endpoint and delivery objects as the API returns them."""

from urllib.parse import urlsplit

from flask import current_app

from portal.errors import Conflict, ValidationFailed
from portal.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from portal.timefmt import iso

from . import events, secrets
from .addresses import unsafe_reason
from .delivery import UNFINISHED

MAX_ENDPOINTS = 16
MAX_WAITING_TESTS = 3  # unfinished test events per endpoint: a test is a check, not a flood
STATUSES = ("enabled", "disabled")


def check_url(url: str) -> str:
    """The URL as stored, or ValidationFailed on ``url``: https (http only where loopback
    receivers are allowed), a host, no credentials; where the host is a literal address,
    it must be one deliveries may reach (names are checked again at every delivery)."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValidationFailed.field("url", "Not a valid URL.") from None
    allow_loopback = current_app.config["PORTAL_WEBHOOKS_ALLOW_LOOPBACK"]
    schemes = ("https", "http") if allow_loopback else ("https",)
    if parts.scheme not in schemes:
        raise ValidationFailed.field("url", "Use an https:// URL.")
    if not parts.hostname or parts.username or parts.password or len(url) > 2048:
        raise ValidationFailed.field("url", "Give a URL with a host and no user name.")
    reason = unsafe_reason(parts.hostname, allow_loopback=allow_loopback, resolve=False)
    if reason:
        raise ValidationFailed.field("url", reason)
    return url


def check_events(types: list[str] | None) -> list[str]:
    if not types or "*" in types:
        return ["*"]
    unknown = sorted(set(types) - set(events.EVENT_TYPES))
    if unknown:
        raise ValidationFailed.field("events", f"Unknown event types: {', '.join(unknown)}.")
    return sorted(set(types))


def create_endpoint(company, *, url, events=None, description=None) -> tuple:
    """(endpoint, secret): the secret is returned here and on a roll, never again."""
    if WebhookEndpoint.select().where(WebhookEndpoint.company == company).count() >= (
        MAX_ENDPOINTS
    ):
        raise Conflict(f"A company can have at most {MAX_ENDPOINTS} webhook endpoints.")
    secret = secrets.new_secret()
    endpoint = WebhookEndpoint.create(
        company=company,
        url=check_url(url),
        events=check_events(events),
        description=description or None,
        secret_sealed=secrets.seal(secret),
    )
    return endpoint, secret


def update_endpoint(endpoint: WebhookEndpoint, changes: dict) -> WebhookEndpoint:
    """Change the given fields only: url, events, description, status."""
    if "url" in changes:
        endpoint.url = check_url(changes["url"])
    if changes.get("events") is not None:  # null is "leave as is", never "every event"
        endpoint.events = check_events(changes["events"])
    if "description" in changes:
        endpoint.description = changes["description"] or None
    if "status" in changes:
        if changes["status"] not in STATUSES:
            raise ValidationFailed.field("status", "Use enabled or disabled.")
        endpoint.status = changes["status"]
    endpoint.save()
    return endpoint


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    """Its deliveries go with it: nothing more is sent to a deleted endpoint."""
    endpoint.delete_instance(recursive=True)


def roll_secret(endpoint: WebhookEndpoint) -> str:
    """A new secret, used from the next attempt on; the old one stops at once."""
    secret = secrets.new_secret()
    endpoint.secret_sealed = secrets.seal(secret)
    endpoint.save()
    return secret


def send_test(endpoint: WebhookEndpoint) -> WebhookDelivery:
    D = WebhookDelivery
    waiting = D.select().where(
        (D.endpoint == endpoint) & (D.event_type == "test.webhook") & D.status.in_(UNFINISHED)
    )
    if waiting.count() >= MAX_WAITING_TESTS:
        raise Conflict(
            f"This endpoint already has {MAX_WAITING_TESTS} test events waiting: let them "
            "arrive or fail before sending another."
        )
    data = {"endpoint_id": endpoint.id, "message": "A test event from your billing portal."}
    event = events.emit(endpoint.company_id, "test.webhook", data, to=[endpoint])
    return WebhookDelivery.get(WebhookDelivery.event == event)


def resend(delivery: WebhookDelivery) -> WebhookDelivery:
    """Deliver the same event (same id, same body) to the same endpoint again, unless a
    delivery of it to that endpoint is still under way (one queued copy is enough)."""
    D = WebhookDelivery
    if (
        D.select()
        .where(
            (D.event == delivery.event_id)
            & (D.endpoint == delivery.endpoint_id)
            & D.status.in_(UNFINISHED)
        )
        .exists()
    ):
        raise Conflict("This event is still being delivered to this endpoint: wait for it.")
    return events.queue(WebhookEvent.get_by_id(delivery.event_id), delivery.endpoint)


def endpoint_object(endpoint: WebhookEndpoint, secret: str | None = None) -> dict:
    data = {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "status": endpoint.status,
        "events": endpoint.events,
        "created_at": iso(endpoint.created_at),
        "updated_at": iso(endpoint.updated_at),
    }
    if secret is not None:
        data["secret"] = secret
    return data


def delivery_object(delivery: WebhookDelivery) -> dict:
    finished = delivery.status in ("succeeded", "failed")
    return {
        "id": delivery.id,
        "endpoint_id": delivery.endpoint_id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "success": delivery.status == "succeeded" if finished else None,
        "attempt": delivery.attempts,
        "attempt_number": delivery.attempts,
        "status_code": delivery.status_code,
        "response_body": delivery.response_body,
        "error": delivery.last_error,
        "next_attempt_at": None if finished else iso(delivery.next_attempt_at),
        "last_attempt_at": iso(delivery.last_attempt_at),
        "delivered_at": iso(delivery.delivered_at),
        "created_at": iso(delivery.created_at),
    }
