"""Delivering webhooks: claim, sign, POST, record; retries with backoff over about a day.

Each endpoint receives its events in order: only its oldest unfinished delivery is due, so
a later event waits until the earlier one succeeded or failed for good. Endpoints are
served side by side (one thread each in a pass), so one that hangs delays only itself, and
by at most the 10 s timeout per attempt. As with mail, an attempt first claims its row with
one conditional UPDATE committed before any network I/O: concurrent workers never send the
same attempt twice, and a worker killed mid-attempt leaves a claim that expires and is
retried under the same delivery id (receivers deduplicate on it).
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from flask import Flask, current_app
from peewee import Tuple, fn

from portal import background
from portal.db import db, write_transaction
from portal.mail.delivery import worker_name
from portal.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, utcnow

from . import secrets, sender
from .addresses import UnsafeAddress

log = logging.getLogger(__name__)

# Waits after attempts 1..9: about 24 hours from the first attempt to the last.
BACKOFF = [timedelta(minutes=m) for m in (0.5, 2, 10, 30, 60, 120, 240, 480, 480)]
MAX_ATTEMPTS = len(BACKOFF) + 1
CLAIM_TTL = timedelta(minutes=2)  # well over the 10 s an attempt may take
PARALLEL = 8
PER_ENDPOINT = 20  # deliveries one endpoint gets in a pass; more wait for the next
THREAD_NAME = "portal-webhook-delivery"
UNFINISHED = ("pending", "sending")


def deliver_due(worker_id: str, *, now: datetime | None = None) -> int:
    """Attempt every endpoint's next due delivery, endpoints in parallel; how many
    attempts were made (succeeded or not)."""
    clock = (lambda: now) if now is not None else utcnow
    endpoint_ids = _endpoints_with_due(clock())
    if not endpoint_ids:
        return 0
    app = current_app._get_current_object()
    if len(endpoint_ids) == 1:
        return _serve(endpoint_ids[0], worker_id, clock)
    with ThreadPoolExecutor(min(PARALLEL, len(endpoint_ids))) as pool:
        jobs = [pool.submit(_serve_in, app, e, worker_id, clock) for e in endpoint_ids]
        return sum(job.result() for job in jobs)


def deliver_pass(app: Flask, worker_id: str) -> int:
    with app.app_context(), db.connection_context():
        return deliver_due(worker_id)


def poke_thread(app: Flask) -> None:
    background.poke(
        app, THREAD_NAME, deliver_pass, batch=1, worker_id=lambda: worker_name("webhooks")
    )


def wake(app: Flask) -> str | None:
    """After a commit that queued deliveries: this process's webhook thread, or the
    ``deliver-mail`` worker (woken like the mail; it delivers webhooks too)."""
    from portal.mail import wakeup

    return wakeup.wake(app, poke=poke_thread, switch="PORTAL_WEBHOOKS_IMMEDIATE")


def stop_thread(timeout: float = 30.0) -> None:
    background.stop(THREAD_NAME, timeout)


def _serve_in(app: Flask, endpoint_id: str, worker_id: str, clock) -> int:
    with app.app_context(), db.connection_context():
        return _serve(endpoint_id, worker_id, clock)


def _serve(endpoint_id: str, worker_id: str, clock) -> int:
    """The endpoint's deliveries in event order, until one is not due or not a success."""
    attempts = 0
    while attempts < PER_ENDPOINT:
        head = _head(endpoint_id, clock())
        if head is None or not _claim(head.id, worker_id, clock()):
            return attempts
        attempts += 1
        try:
            delivered = _attempt(head.id, worker_id, clock())
        except Exception as exc:  # recorded like a failed attempt: it never blocks the queue
            log.exception("webhook delivery %s failed unexpectedly", head.id)
            claimed = WebhookDelivery.get_or_none(WebhookDelivery.id == head.id)
            if claimed is None:  # its endpoint was deleted meanwhile
                return attempts
            delivered = _record(claimed, worker_id, clock(), error=type(exc).__name__)
        if not delivered:
            return attempts
    return attempts


def _unfinished():
    """Deliveries still to make. A disabled endpoint's wait until it is enabled again (its
    queue is paused, not failed); only test events, which the merchant asked for, go out."""
    D, E = WebhookDelivery, WebhookEndpoint
    enabled = E.select(E.id).where(E.status == "enabled")
    return D.status.in_(UNFINISHED) & (D.endpoint.in_(enabled) | (D.event_type == "test.webhook"))


def _is_due(now: datetime):
    D = WebhookDelivery
    waiting = (D.status == "pending") & (D.next_attempt_at <= now)
    return waiting | ((D.status == "sending") & (D.claimed_until < now))


def _heads():
    """(endpoint, oldest unfinished event) of every endpoint with work left."""
    D = WebhookDelivery
    return D.select(D.endpoint, fn.MIN(D.event)).where(_unfinished()).group_by(D.endpoint)


def _endpoints_with_due(now: datetime) -> list[str]:
    D = WebhookDelivery
    rows = D.select(D.endpoint).where(Tuple(D.endpoint, D.event).in_(_heads()) & _is_due(now))
    return sorted({row.endpoint_id for row in rows.distinct()})


def _head(endpoint_id: str, now: datetime) -> WebhookDelivery | None:
    D = WebhookDelivery
    oldest = (
        D.select()
        .where((D.endpoint == endpoint_id) & _unfinished())
        .order_by(D.event, D.created_at, D.id)
        .first()
    )
    if oldest is None or oldest.status == "pending" and oldest.next_attempt_at > now:
        return None
    if oldest.status == "sending" and oldest.claimed_until >= now:
        return None
    return oldest


def _claim(delivery_id: str, worker_id: str, now: datetime) -> bool:
    D = WebhookDelivery
    query = D.update(
        status="sending",
        claimed_by=worker_id,
        claimed_until=now + CLAIM_TTL,
        attempts=D.attempts + 1,
        last_attempt_at=now,
        updated_at=now,
    ).where((D.id == delivery_id) & _is_due(now))
    with write_transaction():
        return query.execute() == 1


def _attempt(delivery_id: str, worker_id: str, now: datetime) -> bool:
    delivery = WebhookDelivery.get_by_id(delivery_id)
    endpoint = WebhookEndpoint.get_by_id(delivery.endpoint_id)
    event = WebhookEvent.get_by_id(delivery.event_id)
    if endpoint.status != "enabled" and event.type != "test.webhook":
        # Disabled after this delivery was claimed: it waits, uncounted, until re-enabled.
        return _release(delivery, worker_id)
    body = event.body.encode()
    try:
        secret = secrets.unseal(endpoint.secret_sealed)
    except ValueError as exc:
        return _record(delivery, worker_id, now, error=f"Roll the secret: {exc}.", final=True)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "billing-portal-webhooks/1",
        "x-easy-webhook-signature": secrets.signature(secret, body),
        "x-easy-event": event.type,
        "x-easy-event-id": event.id,
        "x-easy-delivery-id": delivery.id,
        "x-easy-webhook-attempt": str(delivery.attempts),
    }
    allow_loopback = current_app.config["PORTAL_WEBHOOKS_ALLOW_LOOPBACK"]
    try:
        status, text = sender.post(endpoint.url, body, headers, allow_loopback=allow_loopback)
    except UnsafeAddress as exc:
        return _record(delivery, worker_id, now, error=f"Refused: {exc}", final=True)
    except sender.DeliveryError as exc:
        return _record(delivery, worker_id, now, error=str(exc))
    if 200 <= status < 300:
        return _record(delivery, worker_id, now, status_code=status, text=text, success=True)
    error = f"The endpoint answered {status}."
    return _record(delivery, worker_id, now, status_code=status, text=text, error=error)


def _release(delivery, worker_id) -> bool:
    D = WebhookDelivery
    owned = (D.id == delivery.id) & (D.status == "sending") & (D.claimed_by == worker_id)
    with write_transaction():
        D.update(
            status="pending", attempts=D.attempts - 1, claimed_by=None, claimed_until=None
        ).where(owned).execute()
    return False


def _record(delivery, worker_id, now, *, status_code=None, text=None, error=None,
            success=False, final=False) -> bool:  # fmt: skip
    changes = {"status_code": status_code, "response_body": text, "last_error": error}
    if success:
        changes.update(status="succeeded", delivered_at=utcnow())
    elif final or delivery.attempts >= MAX_ATTEMPTS:
        changes.update(status="failed")
    else:
        changes.update(status="pending", next_attempt_at=now + BACKOFF[delivery.attempts - 1])
    if not success:
        log.warning("webhook delivery %s attempt %s failed", delivery.id, delivery.attempts)
    D = WebhookDelivery
    owned = (D.id == delivery.id) & (D.status == "sending") & (D.claimed_by == worker_id)
    with write_transaction():
        D.update(claimed_by=None, claimed_until=None, updated_at=utcnow(), **changes).where(
            owned
        ).execute()
    return success
