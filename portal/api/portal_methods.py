"""Portal-session JSON: payment methods and billing information of the signed-in customer."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from portal.billing import billing_info, instruments
from portal.billing import wire as serializers
from portal.errors import ValidationFailed
from portal.models import PaymentMethod

from . import schemas
from .core import api_route, single_page
from .customers import render as render_customer
from .envelope import success
from .fields import GatewayToken
from .portal_scope import customer, event, own, require, settings
from .validation import Body

KINDS = {"PAYMENT_CARD": "card", "BANK_ACCOUNT": "bank_account"}
Text = Annotated[str, StringConstraints(max_length=200)]


class AddMethod(Body):
    type: Literal["PAYMENT_CARD", "BANK_ACCOUNT"]
    token: GatewayToken
    name: Annotated[str, StringConstraints(max_length=120)] | None = None


class BillingPatch(Body):
    first_name: Text | None = None
    last_name: Text | None = None
    company_name: Text | None = None
    phone: Text | None = None
    address_line1: Text | None = None
    address_line2: Text | None = None
    city: Text | None = None
    region: Text | None = None
    postal_code: Text | None = None
    country: Text | None = None
    tax_id: Text | None = None
    expected_version: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


def _method(method_id: str) -> PaymentMethod:
    require("payment_methods_enabled", "Payment methods")
    return own(PaymentMethod, method_id, "payment method")


def _methods() -> list[dict]:
    rows = PaymentMethod.select().where(
        (PaymentMethod.customer == customer().id) & (PaymentMethod.enabled == True)  # noqa: E712
    )
    return [serializers.payment_method(m) for m in rows.order_by(PaymentMethod.created_at.desc())]


@api_route(
    "/customer-portal/payment-methods",
    "GET",
    auth="session",
    tag="Customer portal",
    summary="The signed-in customer's payment methods",
    response=schemas.PaymentInstrument,
    paginated=True,
)
def portal_list_methods():
    require("payment_methods_enabled", "Payment methods")
    return single_page(_methods())


@api_route(
    "/customer-portal/payment-methods",
    "POST",
    auth="session",
    tag="Customer portal",
    summary="Add a payment method from a gateway token",
    body=AddMethod,
    response=schemas.PaymentInstrument,
    status=201,
)
def portal_add_method(body: AddMethod):
    require("payment_methods_enabled", "Payment methods")
    if KINDS[body.type] not in settings()["accepted_payment_methods"]:
        raise ValidationFailed.field("type", "This kind of payment method is not accepted here.")
    method = instruments.add_instrument(
        customer(), body.token, name=body.name, expected_type=body.type
    )
    event("payment_method.added", {"payment_method_id": method.id, "type": method.type})
    return success(serializers.payment_method(method), message="Payment method added", status=201)


@api_route(
    "/customer-portal/payment-methods/<method_id>/default",
    "POST",
    auth="session",
    tag="Customer portal",
    summary="Make a payment method the default",
    response=schemas.PaymentInstrument,
)
def portal_default_method(method_id: str):
    method = instruments.make_default(_method(method_id))
    event("payment_method.made_default", {"payment_method_id": method.id})
    return success(serializers.payment_method(method), message="Default payment method changed")


@api_route(
    "/customer-portal/payment-methods/<method_id>",
    "DELETE",
    auth="session",
    tag="Customer portal",
    summary="Remove a payment method",
    response=schemas.PaymentInstrument,
)
def portal_remove_method(method_id: str):
    method = _method(method_id)
    snapshot = serializers.payment_method(method)
    instruments.remove(method)
    event("payment_method.removed", {"payment_method_id": method_id})
    return success(snapshot, message="Payment method removed")


@api_route(
    "/customer-portal/billing-information",
    "PATCH",
    auth="session",
    tag="Customer portal",
    summary="Change the signed-in customer's billing information (partial)",
    body=BillingPatch,
    response=schemas.Customer,
)
def portal_billing_information(body: BillingPatch):
    changes = body.model_dump(exclude_unset=True)
    expected = changes.pop("expected_version", None)
    updated = billing_info.update(customer(), changes, expected_version=expected)
    event("billing_information.updated", {"fields": sorted(changes)})
    return success(render_customer(updated), message="Billing information updated")
