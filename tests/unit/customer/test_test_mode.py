"""The portal shell marks "Test mode" while the company works with test keys only (no live
API key), and drops the mark once it has a live one."""

import re

from browsing import page, text_of
from support import count_queries

from portal.models import ApiKey, utcnow

BADGE = re.compile(r'<span class="badge test-mode">Test mode</span>')


def mark_keys_live(company_id: str, **extra) -> None:
    ApiKey.update(livemode=True, **extra).where(ApiKey.company == company_id).execute()


def test_a_company_with_only_test_keys_shows_test_mode(client, merchant, signed_in):
    assert not ApiKey.select().where(ApiKey.company == merchant.id, ApiKey.livemode).exists()
    html = page(client, "/portal")
    assert len(BADGE.findall(html)) == 1
    assert "Acme Cloud Test mode" in text_of(html)  # in the header, beside the company name


def test_with_live_keys_the_mark_is_gone(client, merchant, signed_in):
    mark_keys_live(merchant.id)
    assert "Test mode" not in text_of(page(client, "/portal"))
    # Every shell page drops it (the card form's own sandbox note is not this mark).
    for path in ("/portal", "/portal/invoices", "/portal/payment-methods"):
        assert "test-mode" not in page(client, path), path


def test_every_shell_page_shows_it_while_keys_are_test_keys(client, merchant, signed_in):
    for path in ("/portal/invoices", "/portal/payment-methods", "/portal/billing-information"):
        assert len(BADGE.findall(page(client, path))) == 1, path


def test_revoked_live_keys_do_not_count(client, merchant, signed_in):
    mark_keys_live(merchant.id, revoked_at=utcnow())
    assert "Test mode" in text_of(page(client, "/portal"))


def test_the_mark_costs_no_extra_query(client, merchant, signed_in):
    """The live-key check rides in the query that loads the session and its company."""
    page(client, "/portal")  # warm-up, as in test_queries
    with count_queries() as with_mark:
        page(client, "/portal")
    mark_keys_live(merchant.id)
    with count_queries() as without_mark:
        page(client, "/portal")
    assert len(with_mark) == len(without_mark)
    # No statement of its own reads the keys (a standalone lookup names api_key as "t1"; in
    # the shell statement it is a subquery, and on PostgreSQL that statement is an EXECUTE of
    # its prepared form).
    assert not [sql for sql in with_mark + without_mark if 'FROM "api_key" AS "t1"' in sql]
