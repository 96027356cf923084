"""What every subscription page shares: finding the signed-in customer's own subscription (404
for anything else, or anything the portal config does not allow), running an action once per
form in one transaction, its activity event, and the sealed instant of a preview."""

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from portal.access.activity import record_event
from portal.db import write_transaction
from portal.digits import is_ascii_digits
from portal.errors import Conflict, DomainError
from portal.i18n import N_
from portal.models import Subscription
from portal.self_service import preview_tokens
from portal.self_service import subscriptions as rules

from .forms import NonceForm
from .shell import claim_nonce, own_row, require_section, settings

ENDED = ("canceled", "incomplete_expired")


def own_subscription(subscription_id: str, *, ended_ok: bool = False) -> Subscription:
    require_section("subscriptions_enabled")
    sub = own_row(Subscription, subscription_id, "subscription")
    if not rules.changeable(sub, settings()) and not (ended_ok and sub.status in ENDED):
        abort(404)
    return sub


def cancellable_subscription(subscription_id: str, *, ended_ok: bool = False) -> Subscription:
    """Every step of the cancel flow (retention offer included) is 404 with cancellations off.
    ``ended_ok``: a double-clicked "Cancel now" finds it ended and must get the list, not a 404."""
    sub = own_subscription(subscription_id, ended_ok=ended_ok)
    if not settings()["cancellations_enabled"]:
        abort(404)
    return sub


def back_to_list(sub):
    """The subscriptions page, landing on this subscription's card, where the message of
    what was just done to it shows beside its controls (as well as in the live region)."""
    anchor = f"sub-{sub.id}"
    return redirect(url_for("customer.subscriptions", done=anchor, _anchor=anchor), 303)


def flash_outcome(error: str | None, done: str) -> None:
    """A refusal reads as one (never in a success banner); a finished action offers the
    way back to the merchant's site."""
    flash(*((error, "error") if error else (done, "done")))


def record_subscription_event(sub, action: str, details: dict | None = None) -> None:
    record_event(current_user.company_id, current_user.customer_id, action, details, sub.id)


def act_once(action_name: str, work, raise_errors: bool = False):
    """Run a subscription action once per form; errors come back as a message (or, with
    ``raise_errors``, as the DomainError, after the transaction rolled back)."""
    form = NonceForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with write_transaction():
            if claim_nonce(form.form_nonce.data, action_name):
                return work(), None
            return None, None
    except DomainError as exc:
        if raise_errors:
            raise
        return None, exc.plain


def seal_preview(sub: Subscription, now) -> str:
    return preview_tokens.preview_token(current_app.config["SECRET_KEY"], sub, now)


def sealed_instant(sub: Subscription, expected_version: int | None):
    """The instant the confirmed page was computed at: confirming bills exactly that."""
    return preview_tokens.preview_instant(
        current_app.config["SECRET_KEY"], request.form.get("preview_token"), sub, expected_version
    )


def whole_number(raw: str) -> int | None:
    """Digits only; past 9 digits, out of any range (a clear message, not an overflow)."""
    if not is_ascii_digits(raw):
        return None
    return int(raw) if len(raw) <= 9 else 10**9


def requested_target() -> tuple[str | None, int | None]:
    """The plan (price id) and quantity a choose form asked for; None for either not given."""
    price_id = (request.values.get("price_id") or "").strip()[:64] or None
    raw = (request.values.get("quantity") or "").strip()
    if raw and whole_number(raw) is None:
        raise Conflict(N_("Enter the quantity as a whole number."))
    return price_id, (whole_number(raw) if raw else None)


def back_to_choosing(sub, exc: DomainError, endpoint: str = "customer.change_start"):
    """A refused choice: back to the page where it was made, with the reason."""
    flash(exc.plain, "error")
    return redirect(url_for(endpoint, subscription_id=sub.id), 303)
