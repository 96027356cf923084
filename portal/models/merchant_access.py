"""Merchant-side records of the settings pages: sign-in sessions, invitations, the preview
customer and the uploaded logo."""

from peewee import BlobField, CharField, DateTimeField, ForeignKeyField

from .base import BaseModel, utcnow
from .billing import Customer
from .merchant import Company, MerchantUser


class MerchantSession(BaseModel):
    """A signed-in merchant user; the cookie value is random, only its SHA-256 is stored."""

    company = ForeignKeyField(Company, on_delete="CASCADE")
    user = ForeignKeyField(MerchantUser, on_delete="CASCADE")
    token_hash = CharField(max_length=64, unique=True)
    last_seen_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    user_agent = CharField(max_length=300, null=True)


class MerchantInvite(BaseModel):
    """A one-time link that lets an invited person set a password and join the company."""

    company = ForeignKeyField(Company, on_delete="CASCADE")
    invited_by = ForeignKeyField(MerchantUser, null=True, on_delete="SET NULL")
    email = CharField(max_length=254)
    token_hash = CharField(max_length=64, unique=True)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("company", "email"), False),)


class PreviewCustomer(BaseModel):
    """The company's demo customer behind "send me a test link"; never a real customer, and
    left out of the merchant API's customer list."""

    company = ForeignKeyField(Company, unique=True, on_delete="CASCADE")
    customer = ForeignKeyField(Customer, unique=True, on_delete="CASCADE")


class BrandLogo(BaseModel):
    """The company's logo as re-encoded (PNG/JPEG) or re-serialised (SVG) bytes."""

    company = ForeignKeyField(Company, unique=True, on_delete="CASCADE")
    content_type = CharField(max_length=40)
    digest = CharField(max_length=64)
    data = BlobField()
