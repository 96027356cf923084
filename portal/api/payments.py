"""Payment instruments: POST /payment, GET|PATCH /payment/:id.

The create body is camelCase (``identityId``, ``tokenId``) because the platform spells it
that way; the official client may add ``address`` (cards) or ``account_type`` and
``attempt_bank_account_validation_check`` (bank accounts). Card numbers never arrive
here: the browser or the client exchanges them for a gateway token first.
"""

from typing import Annotated, Literal

from flask import g
from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo, field_validator

from portal.billing import wire as serializers
from portal.billing.instruments import add_instrument, update_instrument
from portal.billing.lookup import get_referenced
from portal.models import Customer, PaymentMethod

from . import schemas
from .core import api_route, owned
from .envelope import success
from .fields import GatewayToken, Id, Name
from .validation import Body

ACCOUNT_TYPES = {
    "CHECKING",
    "SAVINGS",
    "PERSONAL_CHECKING",
    "PERSONAL_SAVINGS",
    "BUSINESS_CHECKING",
    "BUSINESS_SAVINGS",
}
AddressLine = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]


def _account_type(value: str) -> str:
    if value.upper() not in ACCOUNT_TYPES:
        raise ValueError(f"use one of {', '.join(sorted(ACCOUNT_TYPES))}")
    return value.upper()


class CardAddress(Body):
    """A card's billing address (checked, not stored: the gateway keeps it)."""

    line1: AddressLine | None = None
    line2: AddressLine | None = None
    city: Short | None = None
    region: Short | None = None
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = (
        None
    )
    # The platform's client sends ISO alpha-3 ("USA"); alpha-2 is fine too.
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}$")] | None = None


class InstrumentCreate(Body):
    type: Literal["PAYMENT_CARD", "BANK_ACCOUNT"]
    identity_id: Id = Field(alias="identityId")
    token_id: GatewayToken = Field(alias="tokenId")
    name: Name | None = None
    address: CardAddress | None = None
    account_type: Annotated[str, AfterValidator(_account_type)] | None = None
    attempt_bank_account_validation_check: bool | None = None

    @field_validator("address", "account_type", "attempt_bank_account_validation_check")
    @classmethod
    def _extras_match_type(cls, value, info: ValidationInfo):
        kind = info.data.get("type")
        allowed = "PAYMENT_CARD" if info.field_name == "address" else "BANK_ACCOUNT"
        if kind is not None and kind != allowed and value is not None:
            raise ValueError(f"only applies to a {allowed}, not a {kind}")
        return value


class InstrumentUpdate(Body):
    enabled: bool | None = None
    name: Name | None = None
    is_default: Literal[True] | None = Field(
        None, description="Send true to make this the customer's default method."
    )

    @field_validator("enabled", "is_default")
    @classmethod
    def _not_null(cls, value):
        if value is None:
            raise ValueError("must be true or false, not null")
        return value

    @field_validator("is_default")
    @classmethod
    def _default_needs_enabled(cls, value, info: ValidationInfo):
        if value and info.data.get("enabled") is False:
            raise ValueError("a disabled payment method cannot be the default")
        return value


@api_route(
    "/payment",
    "POST",
    summary="Attach a payment instrument (from a gateway token) to a customer",
    tag="Payment instruments",
    body=InstrumentCreate,
    response=schemas.PaymentInstrument,
    status=201,
)
def create_instrument(body: InstrumentCreate):
    customer = get_referenced(Customer, g.company, body.identity_id, "identityId")
    method = add_instrument(
        customer,
        body.token_id,
        name=body.name,
        expected_type=body.type,
        account_type=body.account_type,
    )
    return success(
        serializers.payment_method(method), message="Payment instrument created", status=201
    )


@api_route(
    "/payment/<instrument_id>",
    "GET",
    summary="Retrieve a payment instrument",
    tag="Payment instruments",
    response=schemas.PaymentInstrument,
)
def get_instrument(instrument_id: str):
    return success(
        serializers.payment_method(owned(PaymentMethod, instrument_id, "payment instrument"))
    )


@api_route(
    "/payment/<instrument_id>",
    "PATCH",
    summary="Update a payment instrument: name, enabled, or make it the default (partial)",
    tag="Payment instruments",
    body=InstrumentUpdate,
    response=schemas.PaymentInstrument,
)
def patch_instrument(instrument_id: str, body: InstrumentUpdate):
    method = owned(PaymentMethod, instrument_id, "payment instrument")
    method = update_instrument(method, body.model_dump(exclude_unset=True))
    return success(serializers.payment_method(method), message="Payment instrument updated")
