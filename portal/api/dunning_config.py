"""GET|POST|PATCH /dunning-config: one dunning config per company, the defaults until saved.
POST replaces every field (those left out take their default), PATCH changes the given ones."""

from flask import g

from portal.billing.dunning_config import get_config, update_config
from portal.billing.dunning_schema import (
    DunningConfigOut,
    DunningConfigPatch,
    DunningConfigReplace,
    to_wire,
)

from .core import api_route
from .envelope import success

PATH = "/dunning-config"
TAG = "Dunning"


@api_route(PATH, "GET", summary="Read the dunning config", tag=TAG, response=DunningConfigOut)
def read_dunning_config():
    return success(to_wire(get_config(g.company)))


@api_route(
    PATH,
    "POST",
    summary="Create or replace the dunning config (fields left out take their default)",
    tag=TAG,
    body=DunningConfigReplace,
    response=DunningConfigOut,
)
def replace_dunning_config(body: DunningConfigReplace):
    with body.errors_as_sent():
        row = update_config(g.company, body.changes(), replace=True)
    return success(to_wire(row), message="Dunning config saved")


@api_route(
    PATH,
    "PATCH",
    summary="Change dunning settings (partial)",
    tag=TAG,
    body=DunningConfigPatch,
    response=DunningConfigOut,
)
def patch_dunning_config(body: DunningConfigPatch):
    with body.errors_as_sent():
        row = update_config(g.company, body.changes())
    return success(to_wire(row), message="Dunning config updated")
