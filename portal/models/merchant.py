"""The merchant side: company, its users, API keys, domains, portal config, idempotency."""

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from .base import BaseModel, JSONField, utcnow


class Company(BaseModel):
    name = CharField(max_length=120)
    brand_color = CharField(max_length=7, default="#4338ca")
    support_email = CharField(max_length=254, null=True)
    address = TextField(null=True)
    invoice_prefix = CharField(max_length=12)
    next_invoice_number = IntegerField(default=1)


class MerchantUser(BaseModel):
    company = ForeignKeyField(Company, backref="users", on_delete="CASCADE")
    email = CharField(max_length=254, unique=True)
    password_hash = CharField(max_length=255)
    role = CharField(max_length=16, default="owner")


class ApiKey(BaseModel):
    company = ForeignKeyField(Company, backref="api_keys", on_delete="CASCADE")
    key_type = CharField(max_length=16)  # secret | publishable
    livemode = BooleanField(default=False)
    prefix = CharField(max_length=16)
    key_hash = CharField(max_length=64, unique=True)
    last_four = CharField(max_length=4)
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)


class CustomDomain(BaseModel):
    company = ForeignKeyField(Company, backref="domains", on_delete="CASCADE")
    hostname = CharField(max_length=253, unique=True)
    verification_token = CharField(max_length=64)
    verified = BooleanField(default=False)
    verified_at = DateTimeField(null=True)


class PortalConfig(BaseModel):
    company = ForeignKeyField(Company, backref="portal_configs", unique=True, on_delete="CASCADE")
    settings = JSONField()
    version = IntegerField(default=1)


class DunningConfig(BaseModel):
    """How the company's failed payments are retried and announced (portal/billing/
    dunning_config.py has the defaults and the rules)."""

    company = ForeignKeyField(Company, backref="dunning_configs", unique=True, on_delete="CASCADE")
    settings = JSONField()
    version = IntegerField(default=1)


class IdempotencyRecord(BaseModel):
    company = ForeignKeyField(Company, on_delete="CASCADE")
    key = CharField(max_length=255)
    fingerprint = CharField(max_length=64)
    response_status = IntegerField(null=True)
    response_body = TextField(null=True)
    expires_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        indexes = ((("company", "key"), True),)
