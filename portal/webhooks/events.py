"""Events: written in the caller's transaction, one delivery per subscribed endpoint.

A change that rolls back takes its event and deliveries with it; a change that commits has
them on disk before anyone is told, so a process that dies after the commit loses nothing
(the delivery worker finds them on its next pass). The body is fixed when the event is
written: every endpoint, and every retry, receives and verifies the same bytes.
"""

import json
import os
import threading
import time
from contextvars import ContextVar

from portal.db import locked
from portal.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, utcnow
from portal.timefmt import iso

API_VERSION = "2026-01-01"
EVENT_TYPES = (
    "subscription.created",
    "subscription.updated",
    "subscription.deleted",
    "subscription.paused",
    "subscription.resumed",
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "identity.created",
    "identity.updated",
    "payment_instrument.created",
    "payment_instrument.updated",
    "payment_instrument.disabled",
    "test.webhook",
)
# The deliveries written during the current request (None outside one): once its
# transaction committed, the request wakes the webhook delivery (portal/deferred.py).
QUEUED: ContextVar[list | None] = ContextVar("portal_webhooks_queued", default=None)
_last_stamp = 0
_stamp_lock = threading.Lock()


def new_event_id() -> str:
    """``evt_`` + nanoseconds (strictly increasing in this process) + randomness."""
    global _last_stamp
    with _stamp_lock:
        _last_stamp = max(time.time_ns(), _last_stamp + 1)
        stamp = _last_stamp
    return f"evt_{stamp:016x}{os.urandom(6).hex()}"


def emit(company_id: str, event_type: str, data, *, to=None) -> WebhookEvent | None:
    """Record ``event_type`` with ``data`` (the object as the API returns it) for every
    enabled endpoint of the company that listens to it, or only for the endpoints ``to``.
    Nothing is written when nobody listens."""
    endpoints = to if to is not None else listening(company_id, event_type)
    if not endpoints:
        return None
    now = utcnow()
    event_id = new_event_id()
    body = {
        "id": event_id,
        "type": event_type,
        "created_at": iso(now),
        "api_version": API_VERSION,
        "data": data,
    }
    event = WebhookEvent.create(
        id=event_id,
        company=company_id,
        type=event_type,
        body=_encode(body),
        created_at=now,
        updated_at=now,
    )
    for endpoint in endpoints:
        queue(event, endpoint)
    return event


def rewrite(event_id: str, data: dict) -> bool:
    """Give an event written earlier in this scope the object's latest state, unless it is
    gone (a savepoint that wrote it rolled back) or a delivery of it has started: an event
    once sent never changes. False then, and the caller writes a new event."""
    event = WebhookEvent.get_or_none(WebhookEvent.id == event_id)
    if event is None:
        return False
    D = WebhookDelivery
    # Locked, so a worker cannot claim a delivery between this check and our commit (it
    # waits, then reads the rewritten body). SQLite's write transaction already excludes it.
    deliveries = locked(D.select(D.status, D.attempts).where(D.event == event_id))
    if any(d.status != "pending" or d.attempts for d in deliveries):
        return False
    body = json.loads(event.body)
    body["data"] = data
    WebhookEvent.update(body=_encode(body)).where(WebhookEvent.id == event_id).execute()
    return True


def _encode(body: dict) -> str:
    return json.dumps(body, separators=(",", ":"))


def queue(event: WebhookEvent, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A delivery of ``event`` to ``endpoint``, due now (also used to resend one)."""
    delivery = WebhookDelivery.create(
        company=event.company_id, endpoint=endpoint, event=event, event_type=event.type
    )
    queued = QUEUED.get()
    if queued is not None:
        queued.append(delivery.id)
    return delivery


def listening(company_id: str, event_type: str) -> list[WebhookEndpoint]:
    E = WebhookEndpoint
    rows = E.select().where((E.company == company_id) & (E.status == "enabled"))
    return [e for e in rows if "*" in e.events or event_type in e.events]
