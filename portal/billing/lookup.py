"""Tenant-scoped lookups: another company's id is simply 'not found'."""

from portal.errors import NotFound, ValidationFailed


def get_owned(model, company, object_id, label: str | None = None):
    """The ``model`` row with ``object_id`` that belongs to ``company``, else NotFound."""
    label = label or model.__name__.lower()
    row = None
    # NUL is refused up front: PostgreSQL cannot even compare text holding it.
    if isinstance(object_id, str) and len(object_id) <= 64 and "\x00" not in object_id:
        row = model.get_or_none((model.id == object_id) & (model.company == company))
    if row is None:
        raise NotFound(f"No such {label}: {object_id!s:.64}")
    return row


def get_referenced(model, company, object_id, field: str):
    """Like get_owned, for ids inside a request body: a miss is a 422 naming the field."""
    try:
        return get_owned(model, company, object_id)
    except NotFound:
        raise ValidationFailed.field(
            field, f"No such {model.__name__.lower()} in this account."
        ) from None
