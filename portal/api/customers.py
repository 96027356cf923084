"""Customers: POST|GET /customer, GET|PATCH /customer/:id, subscriptions and instruments."""

from typing import Annotated

from flask import g
from pydantic import BaseModel, Field, StringConstraints

from portal.access.sessions import end_customer_sessions
from portal.billing import billing_info, objects
from portal.billing import wire as serializers
from portal.models import Customer, PaymentMethod, PreviewCustomer, Subscription, utcnow
from portal.webhooks import notify

from . import schemas
from .core import (
    ListQuery,
    TextFilter,
    api_route,
    newest_first,
    one_page,
    owned,
    paginate,
    single_page,
)
from .envelope import success
from .fields import Email, Metadata, Name
from .subscriptions import render_many as render_subscriptions
from .validation import Body

Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=40, pattern=r"^[0-9+().\-\s]*$")
]
Line = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
CompanyName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
# Checked by type (EU/GB VAT, US EIN, AU ABN, …) in billing_info.normalize_tax_id.
TaxId = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]


class Address(Body):
    line1: Line | None = None
    line2: Line | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    region: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = (
        None
    )
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] | None = None


class CustomerCreate(Body):
    first_name: Name
    last_name: Name
    company_name: CompanyName | None = None
    email: Email | None = None
    phone: Phone | None = None
    personal_address: Address | None = None
    tags: Metadata | None = None
    tax_id: TaxId | None = None


# The create fields, each optional: a partial update sends only what changes. (A comment,
# not a docstring: pydantic would publish a docstring in the OpenAPI document.)
class CustomerUpdate(CustomerCreate):
    first_name: Name | None = None
    last_name: Name | None = None


class SubscriptionListQuery(ListQuery):
    status: TextFilter = Field(None, max_length=40)


ADDRESS_COLUMNS = {
    "line1": "address_line1",
    "line2": "address_line2",
    "city": "city",
    "region": "region",
    "postal_code": "postal_code",
    "country": "country",
}


def _columns(body: BaseModel, current_country: str | None = None) -> dict:
    """Column values from a create/update body. A tax ID is checked against the body's
    country, else ``current_country``; a malformed one is a 422 on ``tax_id``."""
    values = body.model_dump(exclude_unset=True)
    address = values.pop("personal_address", None) or {}
    for key, column in ADDRESS_COLUMNS.items():
        if key in address:
            values[column] = (
                address[key].upper() if key == "country" and address[key] else address[key]
            )
    if values.get("email"):
        values["email"] = values["email"].lower()
    if values.get("tax_id"):
        country = values.get("country", current_country)
        values["tax_id"] = billing_info.normalize_tax_id(values["tax_id"], country)
    return values


default_method_ids = objects.default_method_ids
render_many = objects.customers


def render(customer: Customer) -> dict:
    return render_many([customer])[0]


@api_route(
    "/customer",
    "POST",
    summary="Create a customer",
    tag="Customers",
    body=CustomerCreate,
    response=schemas.Customer,
    status=201,
)
def create_customer(body: CustomerCreate):
    customer = Customer.create(company=g.company, **_columns(body))
    notify.customer(customer, "identity.created")
    return success(render(customer), message="Customer created", status=201)


@api_route(
    "/customer",
    "GET",
    summary="List customers",
    tag="Customers",
    query=ListQuery,
    response=schemas.Customer,
    paginated=True,
)
def list_customers(query: ListQuery):
    # The settings page's demo customer (behind "send me a test link") is no real customer.
    previews = PreviewCustomer.select(PreviewCustomer.customer).where(
        PreviewCustomer.company == g.company
    )
    select = Customer.select().where((Customer.company == g.company) & Customer.id.not_in(previews))
    return paginate(select, query, render_many)


@api_route(
    "/customer/<customer_id>",
    "GET",
    summary="Retrieve a customer",
    tag="Customers",
    response=schemas.Customer,
)
def get_customer(customer_id: str):
    return success(render(owned(Customer, customer_id, "customer")))


@api_route(
    "/customer/<customer_id>",
    "PATCH",
    summary="Update a customer (partial)",
    tag="Customers",
    body=CustomerUpdate,
    response=schemas.Customer,
)
def update_customer(customer_id: str, body: CustomerUpdate):
    customer = owned(Customer, customer_id, "customer")
    values = _columns(body, customer.country)
    for name in ("first_name", "last_name"):
        if name in values and values[name] is None:
            values.pop(name)
    if values:
        Customer.update(**values, version=Customer.version + 1, updated_at=utcnow()).where(
            Customer.id == customer.id
        ).execute()
    if "email" in values and values["email"] != (customer.email or "").lower():
        # The old inbox's sessions and links must not outlive the address.
        end_customer_sessions(customer.id)
    customer = Customer.get_by_id(customer.id)
    if values:
        notify.customer(customer)
    return success(render(customer), message="Customer updated")


@api_route(
    "/customer/<customer_id>/subscriptions",
    "GET",
    summary="List a customer's subscriptions",
    tag="Customers",
    query=SubscriptionListQuery,
    response=schemas.SubscriptionPage,
)
def customer_subscriptions(customer_id: str, query: SubscriptionListQuery):
    customer = owned(Customer, customer_id, "customer")
    select = Subscription.select().where(Subscription.customer == customer)
    rows, total = one_page(select, query, filters=((Subscription.status, query.status),))
    # The official client expects this nested shape for this one route.
    return success(
        {
            "data": render_subscriptions(rows),
            "total": total,
            "limit": query.limit,
            "offset": query.offset,
        }
    )


@api_route(
    "/customer/<customer_id>/instruments",
    "GET",
    summary="List a customer's payment instruments",
    tag="Customers",
    response=schemas.PaymentInstrument,
    paginated=True,
)
def customer_instruments(customer_id: str):
    customer = owned(Customer, customer_id, "customer")
    methods = (
        PaymentMethod.select()
        .where(PaymentMethod.customer == customer)
        .order_by(*newest_first(PaymentMethod))
    )
    return single_page([serializers.payment_method(m) for m in methods])
