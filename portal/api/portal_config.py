"""GET|PATCH /customer-portal-config: one config per company, defaults on first read."""

from typing import Annotated, Literal

from flask import current_app, g
from pydantic import Field, StringConstraints

from portal.portal_config import get_config, settings_of, update_config
from portal.timefmt import iso

from .core import api_route
from .envelope import success
from .schemas import Shape
from .validation import Body

Reason = Annotated[str, StringConstraints(max_length=100)]
ShortId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ConfigFields(Shape):
    payment_methods_enabled: bool
    accepted_payment_methods: list[Literal["card", "bank_account"]]
    subscriptions_enabled: bool
    allow_plan_switch: bool
    allow_quantity_updates: bool
    subscription_product_ids: list[str]
    cancellations_enabled: bool
    cancellation_mode: Literal["immediately", "end_of_period"]
    cancellation_proration_enabled: bool
    cancellation_reasons_enabled: bool
    cancellation_reasons: list[str]
    retention_coupon_id: str | None
    subscription_proration_behavior: Literal["none", "prorate", "full_difference"]
    subscription_charge_timing: Literal["immediately", "period_end"]
    invoice_history_enabled: bool
    return_url: str | None
    portal_header: str | None
    custom_domain_id: str | None


class PortalConfigOut(ConfigFields):
    company_id: str
    version: int
    created_at: str
    updated_at: str


class PortalConfigPatch(Body):
    payment_methods_enabled: bool = None
    accepted_payment_methods: Annotated[
        list[Literal["card", "bank_account"]], Field(max_length=2)
    ] = None
    subscriptions_enabled: bool = None
    allow_plan_switch: bool = None
    allow_quantity_updates: bool = None
    subscription_product_ids: Annotated[list[ShortId], Field(max_length=100)] = None
    cancellations_enabled: bool = None
    cancellation_mode: Literal["immediately", "end_of_period"] = None
    cancellation_proration_enabled: bool = None
    cancellation_reasons_enabled: bool = None
    cancellation_reasons: Annotated[list[Reason], Field(max_length=10)] = None
    retention_coupon_id: ShortId | None = None
    subscription_proration_behavior: Literal["none", "prorate", "full_difference"] = None
    subscription_charge_timing: Literal["immediately", "period_end"] = None
    invoice_history_enabled: bool = None
    return_url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    portal_header: Annotated[str, StringConstraints(max_length=120)] | None = None
    custom_domain_id: ShortId | None = None


def render(row) -> dict:
    return {
        **settings_of(row),
        "company_id": row.company_id,
        "version": row.version,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


@api_route(
    "/customer-portal-config",
    "GET",
    summary="Read the customer portal config",
    tag="Customer portal",
    response=PortalConfigOut,
)
def read_config():
    return success(render(get_config(g.company)))


@api_route(
    "/customer-portal-config",
    "PATCH",
    summary="Change customer portal settings (partial)",
    tag="Customer portal",
    body=PortalConfigPatch,
    response=PortalConfigOut,
)
def patch_config(body: PortalConfigPatch):
    changes = body.model_dump(exclude_unset=True)
    row = update_config(g.company, changes, current_app.config["PORTAL_ENV"])
    return success(render(row), message="Customer portal config updated")
