"""Customer access: magic-link tokens, handoff codes, portal sessions, mail outbox, events."""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from .base import BaseModel, JSONField, utcnow
from .billing import Customer
from .merchant import Company


class LoginToken(BaseModel):
    """A magic link; only the SHA-256 of its random nonce is stored."""

    company = ForeignKeyField(Company, on_delete="CASCADE")
    customer = ForeignKeyField(Customer, on_delete="CASCADE")
    nonce_hash = CharField(max_length=64, unique=True)
    destination = CharField(max_length=32, default="home")
    destination_context = CharField(max_length=64, null=True)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("customer", "used_at"), False),)


class HandoffCode(BaseModel):
    """A one-time code a merchant's server mints to send a known customer into the portal."""

    company = ForeignKeyField(Company, on_delete="CASCADE")
    customer = ForeignKeyField(Customer, on_delete="CASCADE")
    code_hash = CharField(max_length=64, unique=True)
    destination = CharField(max_length=32, default="home")
    destination_context = CharField(max_length=64, null=True)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)


class PortalSession(BaseModel):
    """A signed-in customer; the cookie or Bearer token is random, stored hashed."""

    company = ForeignKeyField(Company, on_delete="CASCADE")
    customer = ForeignKeyField(Customer, on_delete="CASCADE")
    token_hash = CharField(max_length=64, unique=True)
    host = CharField(max_length=253, null=True)  # None for API (Bearer) sessions
    last_seen_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    user_agent = CharField(max_length=300, null=True)


class OutboxMessage(BaseModel):
    """An email written in the same transaction as the change that needs it."""

    company = ForeignKeyField(Company, null=True, on_delete="CASCADE")
    kind = CharField(max_length=40)
    dedupe_key = CharField(max_length=120, unique=True)
    to_address = CharField(max_length=254)
    subject = CharField(max_length=200)
    text_body = TextField()
    html_body = TextField()
    status = CharField(max_length=12, default="pending", index=True)  # pending|sending|sent|dead
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow, index=True)
    claimed_by = CharField(max_length=64, null=True)
    claimed_until = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)
    last_error = CharField(max_length=500, null=True)
    # "invoice_pdf:<invoice id>": the document is drawn when the message is sent, from the
    # invoice's own snapshot, so the outbox stores no PDF.
    attachment = CharField(max_length=80, null=True)


class PortalEvent(BaseModel):
    """Audit trail of sign-ins and portal actions, listed to the merchant."""

    company = ForeignKeyField(Company, on_delete="CASCADE")
    customer = ForeignKeyField(Customer, null=True, on_delete="CASCADE")
    subscription_id = CharField(max_length=36, null=True)
    action = CharField(max_length=60)
    details = JSONField(null=True)
    ip = CharField(max_length=64, null=True)
    user_agent = CharField(max_length=300, null=True)

    class Meta:
        indexes = ((("company", "created_at"), False), (("company", "action"), False))


class EmailChange(BaseModel):
    """A customer's new billing email, waiting for the new address to confirm it."""

    company = ForeignKeyField(Company, on_delete="CASCADE")
    customer = ForeignKeyField(Customer, on_delete="CASCADE")
    new_email = CharField(max_length=254)
    token_hash = CharField(max_length=64, unique=True)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)


class FormNonce(BaseModel):
    """One-time token of a rendered portal form: a replayed submit finds it taken."""

    company = ForeignKeyField(Company, on_delete="CASCADE")
    nonce = CharField(max_length=64, unique=True)
    action = CharField(max_length=60)
