"""Prices: POST|GET /product-prices, GET|PATCH /product-prices/:id and archive."""

from typing import Annotated, Literal

from flask import g
from pydantic import Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from portal.billing import wire as serializers
from portal.billing.lookup import get_referenced
from portal.errors import ValidationFailed
from portal.models import Company, Price, Product, utcnow

from . import schemas
from .core import ListQuery, api_route, owned, paginate
from .envelope import success
from .fields import Amount, Currency, Id, Metadata, ShortText
from .updates import refuse_frozen, save_changes
from .validation import Body

Interval = Literal["day", "week", "month", "year"]
# A billing period spans at most three years, whatever unit it is counted in.
MAX_COUNT = {"day": 36, "week": 36, "month": 36, "year": 3}
FROZEN = (
    "product_id",
    "currency",
    "unit_amount",
    "type",
    "recurring",
    "interval",
    "interval_count",
)
FROZEN_MESSAGE = (
    "Amount, currency and interval never change after creation; "
    "create a new price and archive this one instead."
)


class PriceCreate(Body):
    product_id: Id
    currency: Currency
    unit_amount: Amount
    recurring: bool | None = None
    type: Literal["recurring", "one_time"] | None = None
    interval: Interval | None = None
    interval_count: Annotated[int, Field(ge=1, le=36)] | None = None
    description: ShortText | None = None
    metadata: Metadata | None = None
    active: bool = True


class PriceUpdate(Body):
    active: bool | None = None
    description: ShortText | None = None
    metadata: Metadata | None = None
    # Accepted by the parser only so the refusal can explain itself (see update_price).
    product_id: SkipJsonSchema[object] = None
    currency: SkipJsonSchema[object] = None
    unit_amount: SkipJsonSchema[object] = None
    type: SkipJsonSchema[object] = None
    recurring: SkipJsonSchema[object] = None
    interval: SkipJsonSchema[object] = None
    interval_count: SkipJsonSchema[object] = None

    @field_validator("active")
    @classmethod
    def _not_null(cls, value):
        if value is None:
            raise ValueError("This field cannot be null.")
        return value


class PriceListQuery(ListQuery):
    product_id: str | None = Field(None, max_length=64)
    active: bool | None = None


def _price_type(body: PriceCreate) -> str:
    """``recurring`` and ``type`` are two spellings of one choice; without either, an
    interval means recurring."""
    from_flag = None if body.recurring is None else ("recurring" if body.recurring else "one_time")
    if from_flag and body.type and from_flag != body.type:
        raise ValidationFailed.field("type", f"Disagrees with recurring={body.recurring}.")
    return body.type or from_flag or ("recurring" if body.interval else "one_time")


def _billing_terms(kind: str, body: PriceCreate) -> tuple[str | None, int | None]:
    if kind == "one_time":
        for name in ("interval", "interval_count"):
            if getattr(body, name) is not None:
                raise ValidationFailed.field(name, "A one-time price has no billing interval.")
        return None, None
    if body.interval is None:
        raise ValidationFailed.field(
            "interval", "A recurring price needs an interval: day, week, month or year."
        )
    count = body.interval_count or 1
    if count > MAX_COUNT[body.interval]:
        raise ValidationFailed.field("interval_count", "A billing interval spans at most 3 years.")
    return body.interval, count


def create_price(company: Company, body: PriceCreate) -> Price:
    """A new price; the first active price of a product without a default becomes it."""
    product = get_referenced(Product, company, body.product_id, "product_id")
    kind = _price_type(body)
    interval, count = _billing_terms(kind, body)
    price = Price.create(
        company=company,
        product=product,
        type=kind,
        interval=interval,
        interval_count=count,
        **body.model_dump(include={"currency", "unit_amount", "description", "metadata", "active"}),
    )
    if price.active:
        # Conditional, so two first prices racing cannot both claim the default.
        Product.update(default_price_id=price.id, updated_at=utcnow()).where(
            (Product.id == product.id) & Product.default_price_id.is_null()
        ).execute()
    return price


def update_price(price: Price, values: dict) -> Price:
    """Change active, description or metadata; a deactivated price stops being the default."""
    refuse_frozen(values, FROZEN, FROZEN_MESSAGE)
    saved = save_changes(price, values)
    if values.get("active") is False:
        Product.update(default_price_id=None, updated_at=utcnow()).where(
            (Product.id == price.product_id) & (Product.default_price_id == price.id)
        ).execute()
    return saved


@api_route(
    "/product-prices",
    "POST",
    summary="Create a price",
    tag="Prices",
    body=PriceCreate,
    response=schemas.Price,
    status=201,
)
def create_product_price(body: PriceCreate):
    price = create_price(g.company, body)
    return success(serializers.price(price), message="Price created", status=201)


@api_route(
    "/product-prices",
    "GET",
    summary="List prices",
    tag="Prices",
    query=PriceListQuery,
    response=schemas.Price,
    paginated=True,
)
def list_product_prices(query: PriceListQuery):
    select = Price.select().where(Price.company == g.company)
    filters = ((Price.product, query.product_id), (Price.active, query.active))
    return paginate(
        select, query, lambda rows: [serializers.price(p) for p in rows], filters=filters
    )


@api_route(
    "/product-prices/<price_id>",
    "GET",
    summary="Retrieve a price",
    tag="Prices",
    response=schemas.Price,
)
def get_product_price(price_id: str):
    return success(serializers.price(owned(Price, price_id, "price")))


@api_route(
    "/product-prices/<price_id>",
    "PATCH",
    summary="Update a price (active, description, metadata)",
    tag="Prices",
    body=PriceUpdate,
    response=schemas.Price,
)
def patch_product_price(price_id: str, body: PriceUpdate):
    price = update_price(owned(Price, price_id, "price"), body.model_dump(exclude_unset=True))
    return success(serializers.price(price), message="Price updated")


@api_route(
    "/product-prices/<price_id>/archive",
    "PATCH",
    summary="Archive a price (active = false)",
    tag="Prices",
    response=schemas.Price,
)
def archive_product_price(price_id: str):
    price = update_price(owned(Price, price_id, "price"), {"active": False})
    return success(serializers.price(price), message="Price archived")
