"""Digits-only input, checked one way everywhere.

``str.isdigit()`` accepts '²' and other Unicode digits that ``int()`` refuses (or reads in
ways no customer meant), so a field that wants digits wants ASCII 0-9 and nothing else.
"""

ASCII_DIGITS = frozenset("0123456789")


def is_ascii_digits(text: object) -> bool:
    """``text`` is a non-empty string of the characters 0-9."""
    return isinstance(text, str) and bool(text) and ASCII_DIGITS.issuperset(text)


def whole_number(text: object, maximum: int) -> int | None:
    """``text`` read as a whole number from 0 to ``maximum``; None when it is anything else."""
    if not is_ascii_digits(text) or len(text) > len(str(maximum)):
        return None
    value = int(text)
    return value if value <= maximum else None


def page_number(text: object, last: int = 100_000) -> int:
    """A ``?page=`` value: 1 to ``last``; page 1 for anything else."""
    value = whole_number(text, last)
    return value if value else 1
