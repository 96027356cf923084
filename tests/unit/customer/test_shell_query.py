"""The signed-in shell is one statement, and what it carries is right: credit in every
currency, the portal config as of its latest version (whichever worker changed it)."""

from browsing import page, text_of
from builders import patch_config
from support import count_queries

from portal.db import db
from portal.models import CreditEntry, PortalConfig


def _credit(account, currency: str, amount: int) -> None:
    with db.connection_context():
        CreditEntry.create(
            company=account.merchant.id,
            customer=account.id,
            currency=currency,
            amount=amount,
            kind="granted",
            description="Goodwill",
        )


def test_the_overview_shows_the_credit_of_every_currency_that_has_some(client, signed_in):
    _credit(signed_in, "USD", 1250)
    _credit(signed_in, "EUR", 300)
    _credit(signed_in, "EUR", 200)
    _credit(signed_in, "GBP", 400)
    _credit(signed_in, "GBP", -400)  # spent: nothing left to show
    text = text_of(page(client, "/portal"))
    assert "Credit: $12.50" in text and "Credit: €5.00" in text
    assert "£" not in text


def test_a_config_change_made_by_another_worker_shows_on_the_next_page(client, merchant, signed_in):
    patch_config(merchant, portal_header="First words")
    assert "First words" in text_of(page(client, "/portal"))
    # Another process writes the row: this one's cached copy is older than the version.
    with db.connection_context():
        row = PortalConfig.get(PortalConfig.company == merchant.id)
        settings = {**row.settings, "portal_header": "Second words"}
        PortalConfig.update(settings=settings, version=row.version + 1).where(
            PortalConfig.id == row.id
        ).execute()
    text = text_of(page(client, "/portal"))
    assert "Second words" in text and "First words" not in text


def test_the_config_is_read_only_when_its_version_changed(client, merchant, signed_in):
    patch_config(merchant, portal_header="Cached")
    page(client, "/portal")
    with count_queries() as unchanged:
        page(client, "/portal")
    patch_config(merchant, portal_header="Changed")
    with count_queries() as changed:
        assert "Changed" in text_of(page(client, "/portal"))
    config_reads = [sql for sql in unchanged + changed if 'FROM "portal_config" AS "t1"' in sql]
    assert len(config_reads) == 1 and len(changed) == len(unchanged) + 1, changed
