"""Merchant API-key and portal-session authentication for the JSON API."""

from flask import g, request

from portal.db import db
from portal.models import ApiKey, Company, utcnow
from portal.security import sha256_hex

from .envelope import ApiError

API_KEY_HEADER = "x-easy-api-key"


def authenticate_key(scope: str) -> Company:
    """Resolve the x-easy-api-key header to its company; ``scope`` is secret or publishable."""
    raw = request.headers.get(API_KEY_HEADER, "")
    if not raw:
        raise ApiError(
            401, "AUTHENTICATION_REQUIRED", f"Send your API key in the {API_KEY_HEADER} header."
        )
    key = (
        ApiKey.select(ApiKey, Company)
        .join(Company)
        .where(ApiKey.key_hash == sha256_hex(raw), ApiKey.revoked_at.is_null())
        .first()
    )
    if key is None:
        raise ApiError(401, "INVALID_API_KEY", "The API key is not valid or has been revoked.")
    if scope == "secret" and key.key_type != "secret":
        raise ApiError(403, "PERMISSION_DENIED", "This route needs a secret key (sk_…).")
    _touch(key)
    g.api_key = key
    g.company = key.company
    return key.company


def _touch(key: ApiKey) -> None:
    # Only write when the stored value is a minute stale: keeps reads from turning into writes.
    now = utcnow()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        with db.atomic():
            ApiKey.update(last_used_at=now).where(ApiKey.id == key.id).execute()
