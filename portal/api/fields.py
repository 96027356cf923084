"""Reusable field types for request bodies: bounded strings, ids, money, metadata."""

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from portal import email_address
from portal.billing.money import MAX_AMOUNT

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# The sandbox tokenizer's tokens are sealed (about 250 characters); a processor's are shorter.
GatewayToken = Annotated[str, StringConstraints(min_length=1, max_length=512)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=2000)]
Currency = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z]{3}$"), AfterValidator(lambda v: v.upper())
]
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=email_address.MAX_LENGTH,
        pattern=f"^{email_address.PATTERN}$",
    ),
]


def _small_mapping(value: dict) -> dict:
    if len(value) > 50:
        raise ValueError("at most 50 keys")
    for key, item in value.items():
        if len(key) > 40:
            raise ValueError("keys are at most 40 characters")
        if not isinstance(item, str | int | float | bool | None) or len(str(item)) > 500:
            raise ValueError("values are strings, numbers or booleans of at most 500 characters")
    return value


Metadata = Annotated[dict, AfterValidator(_small_mapping)]
