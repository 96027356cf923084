"""Payment methods: attach through the gateway, make default, disable, remove."""

from portal.db import locked
from portal.errors import Conflict, ValidationFailed
from portal.models import Customer, PaymentMethod, Subscription, utcnow
from portal.webhooks import notify

from .gateway import GatewayError, get_gateway
from .subscription_items import LIVE_STATUSES

TYPES = {"PAYMENT_CARD": "card", "BANK_ACCOUNT": "bank_account"}
ALREADY_SAVED = {
    "PAYMENT_CARD": "This card is already saved.",
    "BANK_ACCOUNT": "This bank account is already saved.",
}


def add_instrument(
    customer: Customer,
    token: str,
    *,
    name: str | None = None,
    expected_type: str | None = None,
    account_type: str | None = None,
) -> PaymentMethod:
    """Turn a gateway token into a stored payment method; the first one becomes the default.
    ``account_type`` (bank accounts) overrides what the gateway reports. The same card or
    account (same gateway fingerprint) is refused while the customer has it enabled."""
    try:
        instrument = get_gateway().create_instrument(token)
    except GatewayError as exc:
        raise ValidationFailed.field(
            "tokenId" if exc.field == "token" else exc.field, exc.message
        ) from None
    if PaymentMethod.select().where(PaymentMethod.gateway_ref == instrument.gateway_ref).exists():
        # Another worker already attached this token (each worker remembers only its own).
        raise ValidationFailed.field("tokenId", "This payment token was already used.")
    if expected_type is not None and instrument.type != expected_type:
        raise ValidationFailed.field(
            "type", f"This token makes a {instrument.type}, not a {expected_type}."
        )
    if _already_saved(customer, instrument.fingerprint):
        message = ALREADY_SAVED.get(instrument.type, "This payment method is already saved.")
        raise ValidationFailed.field("tokenId", message)
    has_default = _has_default(customer.id)
    method = PaymentMethod.create(
        company=customer.company_id,
        customer=customer,
        type=instrument.type,
        gateway_ref=instrument.gateway_ref,
        name=name,
        brand=instrument.brand,
        last_four=instrument.last_four,
        expiration_month=instrument.expiration_month,
        expiration_year=instrument.expiration_year,
        bank_name=instrument.bank_name,
        account_type=(account_type if instrument.type == "BANK_ACCOUNT" else None)
        or instrument.account_type,
        masked_account_number=instrument.masked_account_number,
        fingerprint=instrument.fingerprint,
        is_default=not has_default,
    )
    notify.instrument(method, "payment_instrument.created")
    return method


def _already_saved(customer: Customer, fingerprint: str) -> bool:
    """An enabled method of this customer has the fingerprint (a disabled one does not count).
    The customer's row is locked first, so two concurrent adds of one card store one."""
    locked(Customer.select(Customer.id).where(Customer.id == customer.id)).get()
    return (
        PaymentMethod.select()
        .where(
            (PaymentMethod.customer == customer.id)
            & (PaymentMethod.fingerprint == fingerprint)
            & (PaymentMethod.enabled == True)  # noqa: E712
        )
        .exists()
    )


def _has_default(customer_id: str) -> bool:
    return (
        PaymentMethod.select()
        .where(
            (PaymentMethod.customer == customer_id) & (PaymentMethod.is_default == True)  # noqa: E712
        )
        .exists()
    )


def make_default(method: PaymentMethod) -> PaymentMethod:
    if not method.enabled:
        raise Conflict("A disabled payment method cannot be the default.")
    PaymentMethod.update(is_default=False).where(
        (PaymentMethod.customer == method.customer_id) & (PaymentMethod.id != method.id)
    ).execute()
    PaymentMethod.update(is_default=True).where(PaymentMethod.id == method.id).execute()
    Subscription.update(payment_method=method).where(
        (Subscription.customer == method.customer_id) & (Subscription.status != "canceled")
    ).execute()
    method = PaymentMethod.get_by_id(method.id)
    notify.instrument(method)
    return method


def _needed_by_live_subscription(method: PaymentMethod) -> bool:
    others = PaymentMethod.select().where(
        (PaymentMethod.customer == method.customer_id)
        & (PaymentMethod.id != method.id)
        & (PaymentMethod.enabled == True)  # noqa: E712
    )
    live = Subscription.select().where(
        (Subscription.customer == method.customer_id)
        & Subscription.status.in_(LIVE_STATUSES)  # a paused one is charged again later
    )
    return live.exists() and not others.exists()


def _promote_another(method: PaymentMethod) -> None:
    if not method.is_default:
        return
    successor = (
        PaymentMethod.select()
        .where(
            (PaymentMethod.customer == method.customer_id)
            & (PaymentMethod.id != method.id)
            & (PaymentMethod.enabled == True)  # noqa: E712
        )
        .order_by(PaymentMethod.created_at.desc())
        .first()
    )
    PaymentMethod.update(is_default=False).where(PaymentMethod.id == method.id).execute()
    if successor is not None:
        make_default(successor)


def set_enabled(method: PaymentMethod, enabled: bool) -> PaymentMethod:
    """Disable (or re-enable) a method; the only method of a live subscription stays on."""
    if not enabled and method.enabled:
        if _needed_by_live_subscription(method):
            raise Conflict(
                "This is the only payment method for an active subscription. Add another one first."
            )
        _promote_another(method)
        PaymentMethod.update(enabled=False, is_default=False).where(
            PaymentMethod.id == method.id
        ).execute()
        notify.instrument(method, "payment_instrument.disabled")
    elif enabled and not method.enabled:
        PaymentMethod.update(enabled=True).where(PaymentMethod.id == method.id).execute()
        if not _has_default(method.customer_id):
            return make_default(PaymentMethod.get_by_id(method.id))
        notify.instrument(method)
    return PaymentMethod.get_by_id(method.id)


def remove(method: PaymentMethod) -> None:
    """Delete a method for good; refused for the only method of a live subscription."""
    if _needed_by_live_subscription(method):
        raise Conflict(
            "This is the only payment method for an active subscription. Add another one first."
        )
    _promote_another(method)
    Subscription.update(payment_method=None).where(
        Subscription.payment_method == method.id
    ).execute()
    notify.instrument(method, "payment_instrument.disabled")
    method.delete_instance()


def update_instrument(method: PaymentMethod, changes: dict) -> PaymentMethod:
    """Apply a partial update: ``name``, ``enabled``, then ``is_default`` (True only)."""
    if "name" in changes:
        PaymentMethod.update(name=changes["name"]).where(PaymentMethod.id == method.id).execute()
    if "enabled" in changes:
        method = set_enabled(method, changes["enabled"])
    if changes.get("is_default"):
        method = make_default(method)
    if changes:
        PaymentMethod.update(updated_at=utcnow()).where(PaymentMethod.id == method.id).execute()
        notify.instrument(method)
    return PaymentMethod.get_by_id(method.id)
