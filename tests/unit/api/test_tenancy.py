"""Two companies: every route with a path id answers 404 to the other company, changes
nothing, and no list shows the other company's objects."""

import pytest

from portal.api.registry import ROUTES
from portal.db import db
from portal.models import Invoice

from .apiworld import World, assert_error_envelope, path_for, route_id, snapshot, valid_body

PATH_ROUTES = [spec for spec in ROUTES if spec.path_params]
LIST_ROUTES = [spec for spec in ROUTES if spec.paginated and not spec.path_params]


@pytest.fixture
def worlds(merchant, other_merchant):
    return World(merchant), World(other_merchant)


def swaps(spec) -> list[str]:
    """Swap every path id at once, then (for nested routes) each one alone."""
    return [""] + (spec.path_params if len(spec.path_params) > 1 else [])


@pytest.mark.parametrize("spec", PATH_ROUTES, ids=route_id)
def test_another_companys_id_is_not_found(worlds, spec):
    owner, intruder = worlds
    body = valid_body(spec, intruder.ids) if spec.method != "GET" else None
    intruder.headers(spec)  # opens a portal session first, if the route needs one
    for only in swaps(spec):
        path = path_for(spec, intruder.ids, foreign=owner.ids, only=only)
        before = snapshot()
        response = intruder.open(spec, path, json=body)
        assert_error_envelope(response, 404, "NOT_FOUND")
        assert snapshot() == before, f"{route_id(spec)} changed data for a foreign id"
    # The same call with the intruder's own ids resolves, so the 404 above was the tenancy check.
    own = intruder.open(spec, path_for(spec, intruder.ids), json=body)
    assert own.status_code != 404, own.get_json()


def listed_ids(world, spec, query: dict) -> set[str]:
    response = world.open(spec, spec.rule, query_string=query)
    assert response.status_code == 200, response.get_json()
    return {item["id"] for item in response.get_json()["data"]}


@pytest.mark.parametrize("spec", LIST_ROUTES, ids=route_id)
def test_lists_never_show_another_companys_objects(worlds, spec):
    owner, intruder = worlds
    for world in worlds:
        world.session_token()  # portal sessions, so session lists and sign-in events exist
    mine = listed_ids(owner, spec, {"limit": 100})
    assert mine, f"{route_id(spec)}: the owner's list is empty, so this would prove nothing"
    foreign = mine | {v for v in owner.ids.values() if isinstance(v, str)}
    for query in ({}, {"ids": ",".join(sorted(foreign))}, {"limit": 100}):
        assert not listed_ids(intruder, spec, query) & foreign, route_id(spec)


# Bodies that carry ids (values name world objects), beyond the creation bodies in apiworld.
ID_BODIES = {
    ("PATCH", "/products/<product_id>"): [{"default_price_id": "price"}],
    ("PATCH", "/subscriptions/<subscription_id>"): [
        {"instrument_id": "instrument"},
        {"items": [{"price_id": "price", "quantity": 2}]},
    ],
    ("POST", "/invoices/<invoice_id>/pay"): [{"instrument_id": "instrument"}],
    ("POST", "/customer-portal/invoices/<invoice_id>/pay"): [{"payment_method_id": "instrument"}],
    ("POST", "/customer-portal/subscriptions/<subscription_id>/change"): [
        {"price_id": "price", "expected_version": "subscription_version"},
    ],
}


def id_bodies(spec, ids: dict) -> list[dict]:
    def fill(value):
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return ids.get(value, value) if isinstance(value, str) else value

    bodies = [fill(body) for body in ID_BODIES.get((spec.method, spec.rule), [])]
    return bodies + ([valid_body(spec, ids)] if valid_body(spec, ids) else [])


def id_leaves(value, ids: dict, path=()):
    """(path, kind) of every leaf of ``value`` that is one of the world's object ids."""
    kinds = {v: k for k, v in ids.items() if isinstance(v, str)}
    if isinstance(value, dict):
        for key, item in value.items():
            yield from id_leaves(item, ids, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from id_leaves(item, ids, (*path, index))
    elif value in kinds:
        yield path, kinds[value]


def with_leaf(body, path, new):
    if not path:
        return new
    head, rest = path[0], path[1:]
    copy = list(body) if isinstance(body, list) else dict(body)
    copy[head] = with_leaf(body[head], rest, new)
    return copy


def reopen_invoice(world) -> None:
    """Paying needs an open invoice; the world's first invoice was paid at signup."""
    with db.connection_context():
        Invoice.update(status="OPEN", amount_paid=0, paid_at=None).where(
            Invoice.id == world.ids["invoice"]
        ).execute()


PREPARE = {
    ("POST", "/invoices/<invoice_id>/pay"): reopen_invoice,
    ("POST", "/customer-portal/invoices/<invoice_id>/pay"): reopen_invoice,
}
BODY_ID_ROUTES = [spec for spec in ROUTES if spec.body is not None and spec.auth != "none"]


@pytest.mark.parametrize("spec", BODY_ID_ROUTES, ids=route_id)
def test_another_companys_id_in_a_body_is_refused(worlds, spec):
    owner, intruder = worlds
    path = path_for(spec, intruder.ids)
    intruder.headers(spec)  # opens a portal session first, if the route needs one
    PREPARE.get((spec.method, spec.rule), lambda world: None)(intruder)
    for body in id_bodies(spec, intruder.ids):
        for leaf, kind in id_leaves(body, intruder.ids):
            bad = with_leaf(body, leaf, owner.ids[kind])
            before = snapshot()
            response = intruder.open(spec, path, json=bad)
            label = f"{route_id(spec)} {'.'.join(map(str, leaf))}"
            error = assert_error_envelope(response)
            assert (response.status_code, error["code"]) == (422, "VALIDATION_ERROR"), label
            named = (error["details"] or {}).get("fields", {})
            assert any(str(leaf[0]) in key for key in named), (label, error)
            assert snapshot() == before, label
