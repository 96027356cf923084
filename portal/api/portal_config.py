"""GET|PATCH /customer-portal-config: one config per company, defaults on first read."""

from flask import current_app, g

from portal.portal_settings.config import get_config, settings_of, update_config
from portal.portal_settings.config_schema import PortalConfigOut, PortalConfigPatch
from portal.timefmt import iso

from .core import api_route
from .envelope import success


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
