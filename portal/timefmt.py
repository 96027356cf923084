"""Wire formats for time: ISO-8601 UTC with milliseconds, and pure dates."""

from datetime import datetime


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def day(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d")
