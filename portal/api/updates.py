"""Partial updates of catalogue rows (coupons, prices, products): the fields fixed at
creation are refused by name, the rest written with a fresh ``updated_at``."""

from portal.errors import ValidationFailed
from portal.models import utcnow


def refuse_frozen(values: dict, frozen: tuple[str, ...], message: str) -> None:
    """A 422 naming each field of ``frozen`` that ``values`` would change."""
    sent = [name for name in frozen if name in values]
    if sent:
        raise ValidationFailed(message, fields=dict.fromkeys(sent, message))


def save_changes(row, values: dict):
    """``row`` as stored after writing ``values``; nothing is written when there are none."""
    model = type(row)
    if values:
        model.update(**values, updated_at=utcnow()).where(model.id == row.id).execute()
    return model.get_by_id(row.id)
