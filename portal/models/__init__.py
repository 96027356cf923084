"""Peewee models. Every row belongs to exactly one company."""

from .base import BaseModel, JSONField, new_id, utcnow
from .billing import (
    Charge,
    Coupon,
    Customer,
    Discount,
    Invoice,
    InvoiceLine,
    PaymentMethod,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
)
from .merchant import ApiKey, Company, CustomDomain, IdempotencyRecord, MerchantUser, PortalConfig

MODELS = [
    Company,
    MerchantUser,
    ApiKey,
    CustomDomain,
    PortalConfig,
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
    Charge,
]

__all__ = [m.__name__ for m in MODELS] + ["BaseModel", "JSONField", "MODELS", "new_id", "utcnow"]
