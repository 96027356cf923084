"""Products: POST|GET /products, GET|PATCH /products/:id, archive, and the product's prices."""

from flask import g
from pydantic import field_validator

from portal.billing import wire as serializers
from portal.errors import ValidationFailed
from portal.models import Price, Product

from . import schemas
from .core import ListQuery, api_route, owned, paginate
from .envelope import success
from .fields import Id, LongText, Metadata, Name
from .updates import save_changes
from .validation import Body


class ProductCreate(Body):
    name: Name
    description: LongText | None = None
    active: bool = True
    metadata: Metadata | None = None


class ProductUpdate(Body):
    name: Name | None = None
    description: LongText | None = None
    active: bool | None = None
    metadata: Metadata | None = None
    default_price_id: Id | None = None

    @field_validator("name", "active")
    @classmethod
    def _not_null(cls, value):
        # Validators only run on values the client sent: an omitted field stays unchanged,
        # an explicit null would blank a column that must always hold a value.
        if value is None:
            raise ValueError("This field cannot be null.")
        return value


class ProductListQuery(ListQuery):
    active: bool | None = None


def price_ids_by_product(product_ids: list[str]) -> dict[str, list[str]]:
    """Every price id of each product, oldest first, in one query."""
    found: dict[str, list[str]] = {pid: [] for pid in product_ids}
    if not product_ids:
        return found
    rows = (
        Price.select(Price.id, Price.product)
        .where(Price.product.in_(product_ids))
        .order_by(Price.created_at, Price.id)
    )
    for row in rows:
        found[row.product_id].append(row.id)
    return found


def render_many(products: list[Product]) -> list[dict]:
    price_ids = price_ids_by_product([p.id for p in products])
    return [serializers.product(p, price_ids[p.id]) for p in products]


def render(product: Product) -> dict:
    return render_many([product])[0]


def _check_default_price(product: Product, price_id: str | None) -> None:
    if price_id is None:
        return
    price = Price.get_or_none(
        (Price.id == price_id) & (Price.product == product) & (Price.company == product.company)
    )
    if price is None or not price.active:
        raise ValidationFailed.field("default_price_id", "Use an active price of this product.")


def update_product(product: Product, values: dict) -> Product:
    """Apply a partial update; the default price must be an active price of this product."""
    if "default_price_id" in values:
        _check_default_price(product, values["default_price_id"])
    return save_changes(product, values)


@api_route(
    "/products",
    "POST",
    summary="Create a product",
    tag="Products",
    body=ProductCreate,
    response=schemas.Product,
    status=201,
)
def create_product(body: ProductCreate):
    product = Product.create(company=g.company, **body.model_dump())
    return success(render(product), message="Product created", status=201)


@api_route(
    "/products",
    "GET",
    summary="List products",
    tag="Products",
    query=ProductListQuery,
    response=schemas.Product,
    paginated=True,
)
def list_products(query: ProductListQuery):
    select = Product.select().where(Product.company == g.company)
    return paginate(select, query, render_many, filters=((Product.active, query.active),))


@api_route(
    "/products/<product_id>",
    "GET",
    summary="Retrieve a product",
    tag="Products",
    response=schemas.Product,
)
def get_product(product_id: str):
    return success(render(owned(Product, product_id, "product")))


@api_route(
    "/products/<product_id>",
    "PATCH",
    summary="Update a product (partial)",
    tag="Products",
    body=ProductUpdate,
    response=schemas.Product,
)
def patch_product(product_id: str, body: ProductUpdate):
    product = owned(Product, product_id, "product")
    product = update_product(product, body.model_dump(exclude_unset=True))
    return success(render(product), message="Product updated")


@api_route(
    "/products/<product_id>/archive",
    "PATCH",
    summary="Archive a product (active = false)",
    tag="Products",
    response=schemas.Product,
)
def archive_product(product_id: str):
    product = update_product(owned(Product, product_id, "product"), {"active": False})
    return success(render(product), message="Product archived")


@api_route(
    "/products/<product_id>/prices",
    "GET",
    summary="Retrieve a product with all of its prices",
    tag="Products",
    response=schemas.ProductWithPrices,
)
def product_with_prices(product_id: str):
    product = owned(Product, product_id, "product")
    prices = list(product.prices.order_by(Price.created_at, Price.id))
    data = serializers.product(product, [p.id for p in prices])
    data["prices"] = [serializers.price(p) for p in prices]
    return success(data)
