"""Merchant webhooks: the endpoints a company registered, the events written in the same
transaction as the change they describe, and one delivery per event and endpoint."""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from .base import BaseModel, JSONField, utcnow
from .merchant import Company


class WebhookEndpoint(BaseModel):
    company = ForeignKeyField(Company, backref="webhook_endpoints", on_delete="CASCADE")
    url = CharField(max_length=2048)
    description = CharField(max_length=500, null=True)
    events = JSONField()  # event types, or ["*"] for every type
    status = CharField(max_length=12, default="enabled")  # enabled | disabled
    # The signing secret, encrypted with a key derived from PORTAL_SECRET_KEY: a database
    # dump alone cannot sign (or verify) anything.
    secret_sealed = TextField()


class WebhookEvent(BaseModel):
    # "evt_" + a time-ordered hex: ordering by id is ordering by when the change happened.
    id = CharField(primary_key=True, max_length=40)
    company = ForeignKeyField(Company, on_delete="CASCADE")
    type = CharField(max_length=64)
    body = TextField()  # the exact bytes every endpoint receives (and that are signed)


class WebhookDelivery(BaseModel):
    company = ForeignKeyField(Company, on_delete="CASCADE")
    endpoint = ForeignKeyField(WebhookEndpoint, backref="deliveries", on_delete="CASCADE")
    event = ForeignKeyField(WebhookEvent, on_delete="CASCADE")
    event_type = CharField(max_length=64)
    status = CharField(max_length=12, default="pending")  # pending|sending|succeeded|failed
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow)
    claimed_by = CharField(max_length=64, null=True)
    claimed_until = DateTimeField(null=True)
    status_code = IntegerField(null=True)
    response_body = CharField(max_length=1000, null=True)
    last_error = CharField(max_length=500, null=True)
    last_attempt_at = DateTimeField(null=True)
    delivered_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("endpoint", "status", "event"), False), (("company", "created_at"), False))
