"""Time as text: the wire formats (ISO-8601 UTC with milliseconds, pure dates) and the one
human date style, from babel's CLDR data."""

from datetime import date, datetime, timedelta

from babel.dates import format_date
from babel.units import format_unit


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def day(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d")


def human_date(value: datetime | date | None, locale: str | None = None) -> str:
    """The one date style people read on pages, e-mails and documents: Dec 6, 2026 (in the
    language being rendered now without ``locale``: 06.12.2026, 6 dic 2026)."""
    return "" if value is None else format_date(value, "medium", locale=_locale(locale))


def duration(value: timedelta, locale: str | None = None) -> str:
    """How long something lasts, in words: "15 minutes", "24 hours", "7 days". Always an
    exact count of the unit, never rounded: a link that lasts 90 minutes says so."""
    seconds, locale = int(value.total_seconds()), _locale(locale)
    if seconds % 86400 == 0 and seconds > 3 * 86400:
        return format_unit(seconds // 86400, "duration-day", locale=locale)
    if seconds % 3600 == 0 and seconds >= 2 * 3600:
        return format_unit(seconds // 3600, "duration-hour", locale=locale)
    return format_unit(max(1, seconds // 60), "duration-minute", locale=locale)


def _locale(locale: str | None) -> str:
    from portal.i18n import formatting_locale  # i18n needs Flask; time formats do not

    return locale or formatting_locale()
