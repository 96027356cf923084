def test_create_and_read_customer(merchant):
    created = merchant.ok(
        "POST",
        "/customer",
        {"first_name": "Ada", "last_name": "Lovelace", "email": "Ada@Example.com"},
        status=201,
    )
    assert created["entity"]["first_name"] == "Ada"
    assert created["email"] == "ada@example.com"
    again = merchant.ok("GET", f"/customer/{created['id']}/")
    assert again["id"] == created["id"]


def test_config_defaults(merchant):
    cfg = merchant.ok("GET", "/customer-portal-config")
    assert cfg["cancellation_mode"] == "end_of_period"
    assert merchant.patch("/customer-portal-config", {"bogus": 1}).status_code == 422
