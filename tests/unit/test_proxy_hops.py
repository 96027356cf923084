"""PORTAL_PROXY_HOPS: the client address comes from X-Forwarded-For only when configured."""

import pytest

from portal import create_app
from portal.db import db
from portal.models import PortalEvent


@pytest.mark.parametrize(("hops", "recorded"), [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_client_address_behind_a_proxy(app, merchant, hops, recorded):
    proxied = create_app({**app.config, "PORTAL_PROXY_HOPS": hops})
    response = proxied.test_client().post(
        "/v1/api/customer-portal/access/request-link",
        json={"company_id": merchant.id, "email": "someone@example.com"},
        headers={"x-easy-api-key": merchant.publishable, "X-Forwarded-For": "203.0.113.9"},
    )
    assert response.status_code == 200
    with db.connection_context():
        assert [e.ip for e in PortalEvent.select()] == [recorded]
