"""The signed-out pages: a shared invoice link (hosted_invoice_url) leads to the company's
sign-in page and the e-mailed link lands on that invoice, without leaking whether the invoice
exists or whose it is; and every signed-out page of a company carries its branding (logo and
portal_header) while pages of no known company stay neutral."""

import re
from urllib.parse import urlsplit

import pytest
from browsing import csrf_token, form, page, sign_in_with_handoff, text_of
from builders import build_account, make_customer, patch_config
from support import add_domain, count_queries

from portal.models import BrandLogo, LoginToken, OutboxMessage

HEADER = "Questions? Write to <billing@acme.example> & co"
ESCAPED_HEADER = "Questions? Write to &lt;billing@acme.example&gt; &amp; co"
ASKS_FOR_INVOICE = "Sign in to see this invoice"
_LINK = re.compile(r"https?://[^\s\"'<>]+(/portal/access/[^\s\"'<>]+)")
_CSRF = re.compile(r'(name="csrf_token"[^>]*value="|"X-CSRFToken": ")[^"]+')


def sign_out(client) -> None:
    token = csrf_token(page(client, "/portal"))
    assert client.post("/portal/sign-out", data={"csrf_token": token}).status_code == 303


def returning_browser(client, merchant, customer_id: str):
    """A browser that signed in to the company before and whose session has ended since
    (revoked, as a timeout ends it): it keeps the company cookie the portal sets at sign-in.
    (A sign-out's Clear-Site-Data makes a real browser drop that cookie too.)"""
    sign_in_with_handoff(client, merchant, customer_id)
    merchant.ok("POST", "/customer-portal/access/revoke", {"customer_id": customer_id})
    assert client.get("/portal").status_code == 303
    return client


def hosted_invoice_path(merchant, invoice_id: str) -> str:
    url = merchant.ok("GET", f"/invoices/{invoice_id}")["hosted_invoice_url"]
    return urlsplit(url).path


def ask_for_link(client, sign_in_path: str, email: str, changes: dict | None = None):
    """Fill the sign-in form as the page gives it (hidden fields included) and send it."""
    fields = {**form(page(client, sign_in_path), ""), "email": email, **(changes or {})}
    return client.post(sign_in_path, data=fields)


def message_ids() -> set[str]:
    return {m.id for m in OutboxMessage.select(OutboxMessage.id)}


def emailed_path(to: str, since: set[str] | None = None) -> str:
    """The path of the sign-in link sent to ``to`` (the newest, or the only one sent after
    ``since``); mail stays queued in tests."""
    query = (
        OutboxMessage.select()
        .where((OutboxMessage.to_address == to) & (OutboxMessage.kind == "sign_in"))
        .order_by(OutboxMessage.created_at.desc())
    )
    messages = [m for m in query if since is None or m.id not in since]
    assert messages, f"no sign-in link sent to {to}"
    if since is not None:
        assert len(messages) == 1
    return _LINK.search(messages[0].text_body).group(1)


def follow_link(client, path: str, **kwargs):
    """Open the e-mailed link and press Continue; returns the redirect after sign-in."""
    shown = client.get(path, **kwargs)
    assert shown.status_code == 200, shown.get_data(as_text=True)
    token = csrf_token(shown.get_data(as_text=True))
    response = client.post(path, data={"csrf_token": token}, **kwargs)
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def without_csrf(html: str) -> str:
    return _CSRF.sub(r"\1<csrf>", html)


@pytest.fixture
def returning(client, merchant, account):
    return returning_browser(client, merchant, account.id)


# --- A: a shared invoice link ----------------------------------------------------------------


def test_a_signed_out_invoice_link_leads_to_the_sign_in_page_for_that_invoice(
    client, merchant, account, returning
):
    invoice_id = account.open_invoice
    path = hosted_invoice_path(merchant, invoice_id)
    assert path == f"/portal/invoices/{invoice_id}"

    response = client.get(path)
    assert response.status_code == 303
    assert response.location == f"/p/{merchant.id}?invoice={invoice_id}"

    html = page(client, response.location)
    assert ASKS_FOR_INVOICE in text_of(html)
    assert "<title>Sign in to see this invoice · Acme Cloud billing</title>" in html
    assert form(html, "")["invoice"] == invoice_id
    assert "Email me a sign-in link" in html


def test_htmx_is_sent_to_the_same_sign_in_page(client, merchant, account, returning):
    response = client.get(f"/portal/invoices/{account.open_invoice}", headers={"HX-Request": "1"})
    assert response.headers["HX-Redirect"] == f"/p/{merchant.id}?invoice={account.open_invoice}"


def test_the_invoice_pdf_link_also_leads_there(client, merchant, account, returning):
    response = client.get(f"/portal/invoices/{account.open_invoice}/pdf")
    assert response.location == f"/p/{merchant.id}?invoice={account.open_invoice}"


def test_the_emailed_link_lands_on_the_invoice(client, merchant, account, returning):
    invoice_id = account.open_invoice
    sign_in_path = client.get(f"/portal/invoices/{invoice_id}").location
    answer = ask_for_link(client, sign_in_path, "jo@example.com")
    assert answer.status_code == 200 and "Check your inbox" in text_of(answer.get_data(True))
    assert f'href="/p/{merchant.id}?invoice={invoice_id}">try again</a>' in answer.get_data(True)

    landed = follow_link(client, emailed_path("jo@example.com"))
    assert landed.location == f"/portal/invoices/{invoice_id}"
    shown = page(client, landed.location)
    invoice = merchant.ok("GET", f"/invoices/{invoice_id}")
    assert invoice["number"] in text_of(shown)


def test_an_unknown_invoice_gets_the_same_sign_in_page(client, merchant, account, returning):
    real, unknown = account.open_invoice, "inv_" + "z" * 20
    pages = []
    for invoice_id in (real, unknown):
        response = client.get(f"/portal/invoices/{invoice_id}")
        assert response.location == f"/p/{merchant.id}?invoice={invoice_id}"
        pages.append(without_csrf(page(client, response.location)).replace(invoice_id, "ID"))
    assert pages[0] == pages[1]


def test_another_customers_invoice_lands_on_home_with_the_same_answer(
    client, merchant, price, account, returning
):
    ann = build_account(merchant, first_name="Ann", price=price, email="ann@example.com")
    answers = []
    for invoice_id in (account.open_invoice, ann.open_invoice):
        before = message_ids()
        response = ask_for_link(client, f"/p/{merchant.id}?invoice={invoice_id}", "jo@example.com")
        body = without_csrf(response.get_data(as_text=True)).replace(invoice_id, "ID")
        answers.append((response.status_code, body))
    assert answers[0] == answers[1]
    # Jo's newest link was asked for with Ann's invoice: it lands on Jo's overview.
    landed = follow_link(client, emailed_path("jo@example.com", since=before))
    assert landed.location == "/portal"
    assert (
        LoginToken.select().where(LoginToken.destination_context == ann.open_invoice).count() == 0
    )
    home = text_of(page(client, "/portal"))
    assert "Hello, Jo" in home and "Ann" not in home
    assert client.get(f"/portal/invoices/{ann.open_invoice}").status_code == 404


def test_an_unknown_address_with_an_invoice_gets_the_same_answer(
    client, merchant, account, returning
):
    answers = []
    for email in ("jo@example.com", "nobody@example.com"):
        response = ask_for_link(client, f"/p/{merchant.id}?invoice={account.open_invoice}", email)
        answers.append((response.status_code, without_csrf(response.get_data(as_text=True))))
    assert answers[0] == answers[1]
    sign_in_mail = OutboxMessage.select().where(OutboxMessage.kind == "sign_in")
    assert [m.to_address for m in sign_in_mail] == ["jo@example.com"]


BAD_VALUES = [
    "/portal/payment-methods",
    "https://evil.example/phish",
    "//evil.example",
    "../../merchant",
    "inv/../../x",
    "x" * 65,
    "inv 123",
    "inv_1\n",
    "ínvoice",
    "inv_١٢٣",  # non-ASCII digits
]


@pytest.mark.parametrize("value", BAD_VALUES)
def test_a_path_or_a_non_id_in_the_hidden_field_is_ignored(
    client, merchant, account, returning, value
):
    response = ask_for_link(client, f"/p/{merchant.id}", "jo@example.com", {"invoice": value})
    assert response.status_code == 200
    assert value not in response.get_data(as_text=True)
    landed = follow_link(client, emailed_path("jo@example.com"))
    assert landed.location == "/portal"
    assert LoginToken.get().destination_context is None


@pytest.mark.parametrize("value", BAD_VALUES)
def test_a_path_or_a_non_id_in_the_address_shows_the_plain_sign_in_page(client, merchant, value):
    response = client.get(f"/p/{merchant.id}", query_string={"invoice": value})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Manage your Acme Cloud billing" in html and ASKS_FOR_INVOICE not in html
    assert 'name="invoice"' not in html


def test_an_overlong_invoice_url_is_not_found(client, merchant, returning):
    assert client.get("/portal/invoices/" + "x" * 65).status_code == 404


def test_a_form_error_keeps_the_invoice(client, merchant, account, returning):
    sign_in_path = f"/p/{merchant.id}?invoice={account.open_invoice}"
    response = ask_for_link(client, sign_in_path, "not-an-email")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Enter a valid email address." in html
    assert ASKS_FOR_INVOICE in text_of(html)
    assert form(html, "")["invoice"] == account.open_invoice


def test_without_a_known_company_the_invoice_link_keeps_todays_answer(client, account):
    response = client.get(f"/portal/invoices/{account.open_invoice}")
    assert response.status_code == 303 and response.location == "/portal/session-ended"


def test_on_a_custom_domain_the_invoice_link_leads_to_its_sign_in_page(client, merchant, account):
    domain = add_domain(merchant.id, "billing.acme.test")
    patch_config(merchant, custom_domain_id=domain.id)
    on_domain = {"base_url": "http://billing.acme.test"}
    invoice_id = account.open_invoice
    url = merchant.ok("GET", f"/invoices/{invoice_id}")["hosted_invoice_url"]
    assert url == f"http://billing.acme.test/portal/invoices/{invoice_id}"

    # A browser that never signed in: the domain names the company.
    response = client.get(f"/portal/invoices/{invoice_id}", **on_domain)
    assert response.location == f"/?invoice={invoice_id}"
    html = client.get(response.location, **on_domain).get_data(as_text=True)
    fields = {**form(html, ""), "email": "jo@example.com"}
    assert client.post(response.location, data=fields, **on_domain).status_code == 200

    landed = follow_link(client, emailed_path("jo@example.com"), **on_domain)
    assert landed.location == f"/portal/invoices/{invoice_id}"
    assert client.get(landed.location, **on_domain).status_code == 200


def test_a_signed_in_customer_opens_the_invoice_directly(client, merchant, signed_in):
    assert client.get(f"/portal/invoices/{signed_in.open_invoice}").status_code == 200


# --- B: branding on every signed-out page ---------------------------------------------------


@pytest.fixture
def branded(merchant):
    patch_config(merchant, portal_header=HEADER)
    BrandLogo.create(company=merchant.id, content_type="image/png", digest="ab" * 32, data=b"x")
    return merchant


def assert_branded(html: str, merchant) -> None:
    assert f'<p class="portal-header">{ESCAPED_HEADER}</p>' in html
    assert f'<img class="brand-logo" src="/brand/{merchant.id}/logo?v=abababababab" alt="">' in html
    assert f'href="/brand/{merchant.id}.css"' in html


def assert_neutral(html: str) -> None:
    assert '<span class="brand-name">Billing portal</span>' in html
    assert "portal-header" not in html and "brand-logo" not in html and "Acme" not in html


def test_the_shell_and_the_signed_out_pages_show_the_header_alike(
    client, branded, account, returning
):
    sign_in_with_handoff(client, branded, account.id)
    shell = page(client, "/portal")
    sign_out(client)
    public = page(client, f"/p/{branded.id}")
    for html in (shell, public):
        assert_branded(html, branded)


def test_every_signed_out_page_of_a_company_is_branded(client, branded, account, returning):
    company = branded.id
    assert_branded(page(client, f"/p/{company}"), branded)
    assert_branded(page(client, f"/p/{company}?signed_out=1"), branded)
    assert_branded(page(client, f"/p/{company}?invoice={account.open_invoice}"), branded)

    inbox = ask_for_link(client, f"/p/{company}", "jo@example.com")
    assert "Check your inbox" in inbox.get_data(as_text=True)
    assert_branded(inbox.get_data(as_text=True), branded)

    link = emailed_path("jo@example.com")
    assert_branded(page(client, link), branded)  # the Continue page
    assert "Continue to Acme Cloud billing" in page(client, link)
    ask_for_link(client, f"/p/{company}", "jo@example.com")  # replaces (spends) the first
    spent = page(client, link, status=410)
    assert "This link has expired" in spent
    assert_branded(spent, branded)
    renewed = client.post(link + "/renew", data={"csrf_token": csrf_token(spent)})
    assert_branded(renewed.get_data(as_text=True), branded)

    ended = page(client, "/portal/session-ended")
    assert "Your Acme Cloud billing session has ended." in text_of(ended)
    assert f'<a href="/p/{company}">Sign in again</a>' in ended
    assert_branded(ended, branded)


def test_the_email_confirmation_pages_are_branded(client, branded):
    jo = make_customer(branded, email="jo@example.com")
    sign_in_with_handoff(client, branded, jo["id"])
    html = page(client, "/portal/billing-information")
    fields = {**form(html, "/portal/billing-information/email"), "em-email": "ada@new.example"}
    client.post("/portal/billing-information/email", data=fields)
    message = OutboxMessage.get(OutboxMessage.kind == "email_change")
    link = re.search(r"https?://[^\s\"'<>]+(/portal/confirm-email/[^\s\"'<>]+)", message.text_body)
    shown = page(client, link.group(1))
    assert "Confirm your billing email" in shown
    assert_branded(shown, branded)
    confirmed = client.post(link.group(1), data={"csrf_token": csrf_token(shown)})
    assert "Billing email updated" in confirmed.get_data(as_text=True)
    assert_branded(confirmed.get_data(as_text=True), branded)


def test_pages_of_no_known_company_stay_neutral(client, branded):
    assert_neutral(page(client, "/"))  # the landing page
    assert_neutral(page(client, "/portal/session-ended"))
    assert_neutral(page(client, "/portal/access/not-a-link", status=404))
    assert "Use the sign-in link from the business you pay" in page(client, "/portal/session-ended")


def test_a_custom_domain_brands_even_a_broken_link_page(client, branded):
    add_domain(branded.id, "billing.acme.test")
    on_domain = {"base_url": "http://billing.acme.test"}
    broken = client.get("/portal/access/not-a-link", **on_domain)
    assert broken.status_code == 404
    assert_branded(broken.get_data(as_text=True), branded)
    assert_branded(client.get("/portal/session-ended", **on_domain).get_data(as_text=True), branded)


def test_a_company_without_header_or_logo_shows_just_its_name(client, merchant):
    html = page(client, f"/p/{merchant.id}")
    assert '<span class="brand-name">Acme Cloud</span>' in html
    assert "portal-header" not in html and "brand-logo" not in html


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_sign_in_page_reads_the_config_once(client, branded, account, method):
    sign_in_path = f"/p/{branded.id}?invoice={account.open_invoice}"
    fields = {**form(page(client, sign_in_path), ""), "email": "jo@example.com"}
    with count_queries() as statements:
        if method == "GET":
            response = client.get(sign_in_path)
        else:
            response = client.post(sign_in_path, data=fields)
    assert response.status_code == 200
    reads = [
        s for s in statements if s.lstrip().upper().startswith("SELECT") and '"portal_config"' in s
    ]
    # The header and the return link share one read; a POST's second one is the e-mailed
    # link's origin (tenancy.origin_for), which the page needed before it had a header.
    assert len(reads) == (1 if method == "GET" else 2), reads
