"""Peewee models. Every row belongs to exactly one company."""

from .access import (
    EmailChange,
    FormNonce,
    HandoffCode,
    LoginToken,
    OutboxMessage,
    PortalEvent,
    PortalSession,
)
from .base import BaseModel, JSONField, new_id, utcnow
from .billing import (
    Charge,
    Coupon,
    CreditEntry,
    Customer,
    Discount,
    DunningAttempt,
    Invoice,
    InvoiceLine,
    PaymentMethod,
    PendingInvoiceItem,
    Price,
    Product,
    Refund,
    Subscription,
    SubscriptionItem,
)
from .merchant import (
    ApiKey,
    Company,
    CustomDomain,
    DunningConfig,
    IdempotencyRecord,
    MerchantUser,
    PortalConfig,
)
from .merchant_access import BrandLogo, MerchantInvite, MerchantSession, PreviewCustomer
from .webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent

MODELS = [
    Company,
    MerchantUser,
    ApiKey,
    CustomDomain,
    PortalConfig,
    DunningConfig,
    IdempotencyRecord,
    Customer,
    PaymentMethod,
    Product,
    Price,
    Coupon,
    Subscription,
    SubscriptionItem,
    Discount,
    Invoice,
    InvoiceLine,
    PendingInvoiceItem,
    Charge,
    DunningAttempt,
    CreditEntry,
    Refund,
    LoginToken,
    HandoffCode,
    PortalSession,
    OutboxMessage,
    PortalEvent,
    EmailChange,
    FormNonce,
    MerchantSession,
    MerchantInvite,
    PreviewCustomer,
    BrandLogo,
    WebhookEndpoint,
    WebhookEvent,
    WebhookDelivery,
]

__all__ = [m.__name__ for m in MODELS] + ["BaseModel", "JSONField", "MODELS", "new_id", "utcnow"]
