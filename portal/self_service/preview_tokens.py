"""Preview tokens: the instant a change or cancel preview was computed at, sealed with the
subscription version it saw, so confirming bills exactly what the customer was shown."""

import hashlib
from datetime import datetime

from itsdangerous import BadSignature, URLSafeTimedSerializer

from portal.billing.changes import check_version
from portal.errors import Conflict
from portal.models import Subscription

PREVIEW_SALT = "portal-preview-instant-v1"
PREVIEW_MAX_AGE = 30 * 60


def _preview_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret_key, salt=PREVIEW_SALT, signer_kwargs={"digest_method": hashlib.sha256}
    )


def preview_token(secret_key: str, sub: Subscription, at: datetime) -> str:
    """Seal the instant a preview was computed at and the subscription version it was computed
    against, so confirming bills that same instant and only on that same state."""
    return _preview_serializer(secret_key).dumps(
        {"s": sub.id, "t": at.isoformat(), "v": sub.version}
    )


def preview_instant(
    secret_key: str, token: str | None, sub: Subscription, expected_version: int | None
) -> datetime | None:
    """The sealed instant if the token is genuine, recent, for this subscription and still
    inside its current period; else None (the change then bills the present moment).

    A genuine token sealed against another version than the confirmed one, or than the
    subscription's, is refused (409): billing a change at an instant from before the last
    change would credit time that was never paid for. ``subscriptions.change`` then re-checks
    the same version under the row lock, so a concurrent change cannot slip in between."""
    if not token or len(token) > 500:
        return None
    try:
        data = _preview_serializer(secret_key).loads(token, max_age=PREVIEW_MAX_AGE)
        at = datetime.fromisoformat(data["t"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if data.get("s") != sub.id:
        return None
    sealed = data.get("v") if isinstance(data.get("v"), int) else -1
    if expected_version is not None and sealed != expected_version:
        raise Conflict(
            "This subscription changed since it was loaded. Refresh the preview and try again.",
            details={"expected_version": expected_version, "preview_version": sealed},
        )
    check_version(sub, sealed)
    if not sub.current_period_start <= at < sub.current_period_end:
        return None
    return at
