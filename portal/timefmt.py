"""Time as text: the wire formats (ISO-8601 UTC with milliseconds, pure dates) and the one
human date style, from babel's CLDR data."""

from datetime import date, datetime

from babel.dates import format_date

from portal.config import LOCALE


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def day(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d")


def human_date(value: datetime | date | None, locale: str = LOCALE) -> str:
    """The one date style people read on pages, e-mails and documents: Dec 6, 2026."""
    return "" if value is None else format_date(value, "medium", locale=locale)
