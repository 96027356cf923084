"""Shared model base: opaque string ids, UTC timestamps, JSON column."""

import json
import uuid
from datetime import UTC, datetime

from peewee import CharField, DateTimeField, Model, TextField

from portal.db import db


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """Naive UTC 'now' with millisecond precision (what the wire format carries)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class JSONField(TextField):
    """A JSON document stored as text, portable across SQLite and PostgreSQL."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"), sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    id = CharField(primary_key=True, max_length=36, default=new_id)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        database = db
        legacy_table_names = False

    def save(self, *args, **kwargs):
        self.updated_at = utcnow()
        return super().save(*args, **kwargs)
