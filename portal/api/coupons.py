"""Coupons: POST|GET /coupons, GET|PATCH|DELETE /coupons/:id (delete is soft)."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from flask import g
from pydantic import AfterValidator, BeforeValidator, Field
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from portal.billing import wire as serializers
from portal.billing.lookup import get_owned
from portal.errors import NotFound, ValidationFailed
from portal.models import Company, Coupon, utcnow

from . import schemas
from .core import ListQuery, api_route, paginate
from .envelope import success
from .fields import Amount, Currency, Metadata, Name
from .updates import refuse_frozen, save_changes
from .validation import Body

FROZEN = (
    "duration",
    "duration_in_months",
    "percent_off",
    "amount_off",
    "currency",
    "max_redemptions",
    "redeem_by",
)
FROZEN_MESSAGE = "Only name and metadata can change after a coupon is created."


def _number(value):
    # Lax Decimal parsing (needed after a before-validator) would take "25" or true; the wire
    # format carries percentages as plain numbers.
    if isinstance(value, str | bool):
        raise ValueError("Send a number, like 25 for 25 %.")
    return value


Percent = Annotated[
    Decimal,
    BeforeValidator(_number),
    Field(strict=False, gt=0, le=100, decimal_places=2, allow_inf_nan=False),
]


def _utc(value: datetime) -> datetime:
    """Naive UTC at millisecond precision, as every stored timestamp is; naive input is UTC."""
    if value.tzinfo is not None:
        try:
            value = value.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise PydanticCustomError("datetime_range", "Date out of range.") from None
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


class CouponCreate(Body):
    name: Name | None = None
    duration: Literal["once", "repeating", "forever"] = "once"
    duration_in_months: Annotated[int, Field(ge=1, le=120)] | None = None
    percent_off: Percent | None = None
    amount_off: Annotated[Amount, Field(gt=0)] | None = None
    currency: Currency | None = None
    max_redemptions: Annotated[int, Field(ge=1, le=1_000_000_000)] | None = None
    redeem_by: Annotated[datetime, AfterValidator(_utc)] | None = None
    metadata: Metadata | None = None


class CouponUpdate(Body):
    name: Name | None = None
    metadata: Metadata | None = None
    # Accepted by the parser only so the refusal can explain itself (see edit_coupon).
    duration: SkipJsonSchema[object] = None
    duration_in_months: SkipJsonSchema[object] = None
    percent_off: SkipJsonSchema[object] = None
    amount_off: SkipJsonSchema[object] = None
    currency: SkipJsonSchema[object] = None
    max_redemptions: SkipJsonSchema[object] = None
    redeem_by: SkipJsonSchema[object] = None


def _term_errors(body: CouponCreate) -> dict[str, str]:
    errors = {}
    if body.duration == "repeating" and body.duration_in_months is None:
        errors["duration_in_months"] = "Required when duration is repeating."
    if body.duration != "repeating" and body.duration_in_months is not None:
        errors["duration_in_months"] = "Only a repeating coupon has a duration in months."
    if body.percent_off is None and body.amount_off is None:
        errors["percent_off"] = "Give either percent_off or amount_off."
    if body.percent_off is not None and body.amount_off is not None:
        errors["amount_off"] = "Give either percent_off or amount_off, not both."
    if body.amount_off is not None and body.currency is None:
        errors["currency"] = "Required with amount_off."
    if body.percent_off is not None and body.currency is not None:
        errors["currency"] = "Only an amount_off coupon has a currency."
    if body.redeem_by is not None and body.redeem_by <= utcnow():
        errors["redeem_by"] = "Must be in the future."
    return errors


def new_coupon(company: Company, body: CouponCreate) -> Coupon:
    errors = _term_errors(body)
    if errors:
        raise ValidationFailed("Some fields are not valid.", fields=errors)
    return Coupon.create(company=company, **body.model_dump())


def live_coupon(company: Company, coupon_id: str) -> Coupon:
    """A coupon of ``company`` that has not been deleted, else NotFound."""
    coupon = get_owned(Coupon, company, coupon_id, "coupon")
    if coupon.deleted_at is not None:
        raise NotFound(f"No such coupon: {coupon_id}")
    return coupon


def edit_coupon(coupon: Coupon, values: dict) -> Coupon:
    """Rename or re-tag; the discount terms are fixed once customers may hold the coupon."""
    refuse_frozen(values, FROZEN, FROZEN_MESSAGE)
    return save_changes(coupon, values)


def remove_coupon(coupon: Coupon) -> Coupon:
    """Soft delete: no new redemptions, while discounts already granted keep their coupon."""
    now = utcnow()
    Coupon.update(deleted_at=now, updated_at=now).where(Coupon.id == coupon.id).execute()
    return Coupon.get_by_id(coupon.id)


@api_route(
    "/coupons",
    "POST",
    summary="Create a coupon",
    tag="Coupons",
    body=CouponCreate,
    response=schemas.Coupon,
    status=201,
)
def create_coupon(body: CouponCreate):
    coupon = new_coupon(g.company, body)
    return success(serializers.coupon(coupon), message="Coupon created", status=201)


@api_route(
    "/coupons",
    "GET",
    summary="List coupons",
    tag="Coupons",
    query=ListQuery,
    response=schemas.Coupon,
    paginated=True,
)
def list_coupons(query: ListQuery):
    select = Coupon.select().where((Coupon.company == g.company) & Coupon.deleted_at.is_null())
    return paginate(select, query, lambda rows: [serializers.coupon(c) for c in rows])


@api_route(
    "/coupons/<coupon_id>",
    "GET",
    summary="Retrieve a coupon",
    tag="Coupons",
    response=schemas.Coupon,
)
def get_coupon(coupon_id: str):
    return success(serializers.coupon(live_coupon(g.company, coupon_id)))


@api_route(
    "/coupons/<coupon_id>",
    "PATCH",
    summary="Update a coupon (name and metadata only)",
    tag="Coupons",
    body=CouponUpdate,
    response=schemas.Coupon,
)
def patch_coupon(coupon_id: str, body: CouponUpdate):
    coupon = edit_coupon(live_coupon(g.company, coupon_id), body.model_dump(exclude_unset=True))
    return success(serializers.coupon(coupon), message="Coupon updated")


@api_route(
    "/coupons/<coupon_id>",
    "DELETE",
    summary="Delete a coupon (existing discounts keep working)",
    tag="Coupons",
    response=schemas.Coupon,
)
def delete_coupon(coupon_id: str):
    coupon = remove_coupon(live_coupon(g.company, coupon_id))
    return success(serializers.coupon(coupon), message="Coupon deleted")
