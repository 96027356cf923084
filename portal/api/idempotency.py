"""Idempotency-Key replay: the same key and body replays the first response, once-only work.

Keys are scoped to the caller (the API key, or the customer of a portal session), not only to
the company: another customer of the same merchant who sends the same key and body must get
their own response, never a replay of someone else's."""

import hashlib
from datetime import timedelta

from flask import Response, g, request
from peewee import IntegrityError

from portal.db import db
from portal.models import IdempotencyRecord, utcnow

from .envelope import ApiError

HEADER = "Idempotency-Key"
KEEP_FOR = timedelta(hours=48)
MAX_KEY_LENGTH = 255


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}?{request.query_string.decode()}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _scoped_key(key: str) -> str:
    """The stored key: a digest of the caller and the client's key (fits the column)."""
    session = g.get("portal_session")
    api_key = g.get("api_key")
    if session is not None:
        caller = f"customer:{session.customer_id}"
    elif api_key is not None:
        caller = f"key:{api_key.id}"
    else:
        caller = "company"
    return hashlib.sha256(f"{caller}\n{key}".encode()).hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body, status=record.response_status)
    response.mimetype = "application/json"
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _claim(key: str, fingerprint: str):
    """Insert the key, or return the earlier record that holds it."""
    try:
        with db.atomic():
            return IdempotencyRecord.create(
                company=g.company, key=key, fingerprint=fingerprint, expires_at=utcnow() + KEEP_FOR
            ), None
    except IntegrityError:
        earlier = IdempotencyRecord.get(
            (IdempotencyRecord.company == g.company) & (IdempotencyRecord.key == key)
        )
        if earlier.expires_at < utcnow():
            earlier.delete_instance()
            return _claim(key, fingerprint)
        return None, earlier


def run_once(work, to_response) -> Response:
    """Run ``work`` inside the caller's transaction, at most once per Idempotency-Key."""
    key = request.headers.get(HEADER)
    if key is None or g.get("company") is None:
        # Routes without a merchant (token exchanges) have no key space to record in.
        return to_response(work)
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ApiError(400, "INVALID_IDEMPOTENCY_KEY", f"{HEADER} must be 1-255 characters.")
    fingerprint = _fingerprint()
    record, earlier = _claim(_scoped_key(key), fingerprint)
    if earlier is not None:
        if earlier.fingerprint != fingerprint:
            raise ApiError(
                409, "IDEMPOTENCY_KEY_REUSED", f"This {HEADER} was used with a different request."
            )
        if earlier.response_status is None:
            raise ApiError(409, "CONFLICT", "A request with this key is still in progress.")
        return _replay(earlier)
    response = to_response(work)
    record.response_status = response.status_code
    record.response_body = response.get_data(as_text=True)
    record.save()
    return response
