"""Time as people read it: one date style, and durations as exact counts in words."""

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.timefmt import day, duration, human_date, iso


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (timedelta(minutes=15), "15 minutes"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(minutes=90), "90 minutes"),  # never rounded up to "2 hours"
        (timedelta(hours=2), "2 hours"),
        (timedelta(hours=24), "24 hours"),
        (timedelta(hours=48), "48 hours"),
        (timedelta(days=7), "7 days"),
    ],
)
def test_durations_are_exact_counts_in_words(value, words):
    assert duration(value) == words


def test_one_human_date_style_and_the_wire_formats():
    moment = datetime(2026, 12, 6, 21, 5, 3, 120000, tzinfo=UTC)
    assert human_date(moment) == "Dec 6, 2026"
    assert human_date(date(2027, 1, 31)) == "Jan 31, 2027"
    assert human_date(None) == ""
    assert iso(moment) == "2026-12-06T21:05:03.120Z"
    assert day(moment) == "2026-12-06"
