"""The invoice PDF: a well-formed file with the invoice's facts in its text, downloaded as an
attachment with a safe filename, never cached, and only for the session's own invoices."""

import re

import pytest
from browsing import form, sign_in_with_handoff
from builders import add_payment_method, build_account, make_customer, make_price, subscribe
from pdftext import _stream, check_structure, objects, page_text

from portal.models import Company, Customer, Invoice
from portal.portal_settings.branding import MIN_CONTRAST, contrast_with_white

# The receipts of the payments these tests make stay in the outbox (nothing tries SMTP).
pytestmark = pytest.mark.usefixtures("queued_mail")

SAFE_ATTACHMENT = re.compile(r'^attachment; filename="invoice-[A-Za-z0-9._-]+\.pdf"$')


def pdf_of(client, invoice_id: str):
    response = client.get(f"/portal/invoices/{invoice_id}/pdf")
    assert response.status_code == 200, response.status_code
    return response


@pytest.fixture
def billed(merchant):
    """A customer with full billing details and a paid EUR invoice."""
    Company.update(
        address="Hauptstraße 1\n10115 Berlin", support_email="billing@acme.example"
    ).where(Company.id == merchant.id).execute()
    customer = make_customer(
        merchant,
        "Ada",
        "Lovelace",
        email="ada@example.com",
        tax_id="DE123456788",
        personal_address={
            "line1": "12 St James's Sq",
            "city": "London",
            "postal_code": "SW1Y 4JH",
            "country": "GB",
        },
    )
    add_payment_method(merchant, customer["id"], "tok_visa")
    price = make_price(merchant, name="Team plan", unit_amount=4900, currency="EUR")
    sub = subscribe(merchant, customer["id"], price["id"], quantity=2)
    return customer, Invoice.get_by_id(sub["latest_invoice_id"])


def test_the_pdf_is_a_pdf_with_the_invoice_in_it(client, merchant, billed):
    customer, invoice = billed
    sign_in_with_handoff(client, merchant, customer["id"])
    response = pdf_of(client, invoice.id)
    assert response.mimetype == "application/pdf"
    check_structure(response.data)
    text = page_text(response.data)
    for expected in (
        f"Invoice {invoice.number}",
        "Acme Cloud",
        "Hauptstraße 1",
        "billing@acme.example",
        "Ada Lovelace",
        "12 St James's Sq",
        "London",
        "SW1Y 4JH",
        "United Kingdom",
        "Tax ID: DE123456788",
        "Status: Paid",
        "Team plan",
        "€98.00",
        "Amount due:  €0.00",
    ):
        assert expected in text, expected


def test_the_pdf_writes_dates_as_the_pages_and_e_mails_do(client, merchant, billed):
    customer, invoice = billed
    sign_in_with_handoff(client, merchant, customer["id"])
    text = page_text(pdf_of(client, invoice.id).data)
    issued = invoice.created_at
    assert f"Issued: {issued:%b} {issued.day}, {issued.year}" in text
    assert re.search(r"Period: \w{3} \d{1,2}, \d{4} – \w{3} \d{1,2}, \d{4}", text)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)  # no wire-format dates on paper


def test_the_pdf_downloads_as_an_uncached_attachment(client, merchant, billed):
    customer, invoice = billed
    sign_in_with_handoff(client, merchant, customer["id"])
    response = pdf_of(client, invoice.id)
    assert (
        response.headers["Content-Disposition"]
        == f'attachment; filename="invoice-{invoice.number}.pdf"'
    )
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "number", ['X"; filename=evil.exe', "A/../../B\\C", "Ж-€-00001", "a\r\nSet-Cookie: x=1"]
)
def test_the_filename_is_sanitized(client, merchant, billed, number):
    customer, invoice = billed
    Invoice.update(number=number[:32]).where(Invoice.id == invoice.id).execute()
    sign_in_with_handoff(client, merchant, customer["id"])
    response = pdf_of(client, invoice.id)
    assert SAFE_ATTACHMENT.match(response.headers["Content-Disposition"])
    assert "Set-Cookie" not in response.headers or "x=1" not in response.headers["Set-Cookie"]
    assert f"Invoice {number[:32]}".replace("\r\n", "") in page_text(response.data).replace(
        "\n", ""
    )


def test_euro_and_non_latin_names_print(client, merchant):
    Company.update(name="Café Ωmega € Ltd").where(Company.id == merchant.id).execute()
    customer = make_customer(merchant, "Жанна", "Łukasiewicz-Müller", email="zh@example.com")
    add_payment_method(merchant, customer["id"], "tok_visa")
    price = make_price(merchant, name="Тариф «Про»", unit_amount=1999, currency="EUR")
    sub = subscribe(merchant, customer["id"], price["id"])
    sign_in_with_handoff(client, merchant, customer["id"])
    response = pdf_of(client, sub["latest_invoice_id"])
    check_structure(response.data)
    text = page_text(response.data)
    for expected in ("Café Ωmega € Ltd", "Жанна Łukasiewicz-Müller", "Тариф «Про»", "€19.99"):
        assert expected in text, expected
    assert "\ufffd" not in text and "\x00" not in text  # every glyph maps back to a character


def test_another_customers_pdf_is_not_found(client, merchant, other_merchant, billed):
    customer, invoice = billed
    neighbour = build_account(merchant, "Neighbour")
    stranger = build_account(other_merchant, "Stranger")
    sign_in_with_handoff(client, merchant, customer["id"])
    for foreign in (neighbour.paid_invoice, stranger.paid_invoice, "no-such-invoice"):
        response = client.get(f"/portal/invoices/{foreign}/pdf")
        assert response.status_code == 404
        assert not response.data.startswith(b"%PDF")


def test_the_merchant_pdf_data_matches_what_the_portal_draws(client, merchant, billed):
    customer, invoice = billed
    data = merchant.ok("GET", f"/invoices/{invoice.id}/pdf")
    assert data["number"] == invoice.number and data["customer"]["tax_id"] == "DE123456788"
    sign_in_with_handoff(client, merchant, customer["id"])
    text = page_text(pdf_of(client, invoice.id).data)
    assert data["lines"][0]["description"] in text


def test_editing_billing_details_later_leaves_an_issued_invoice_as_it_was(client, merchant, billed):
    customer, invoice = billed
    sign_in_with_handoff(client, merchant, customer["id"])
    before = page_text(pdf_of(client, invoice.id).data)
    assert "12 St James's Sq" in before and "DE123456788" in before
    # The customer moves and changes tax ID in the portal; the merchant moves too.
    page_html = client.get("/portal/billing-information").get_data(as_text=True)
    fields = {**form(page_html, "/portal/billing-information")}
    fields.update({"bi-address_line1": "1 New Road", "bi-tax_id": "DE999999995"})
    assert client.post("/portal/billing-information", data=fields).status_code in (200, 303)
    assert Customer.get_by_id(customer["id"]).tax_id == "DE999999995"  # the edit happened
    Company.update(address="Neue Allee 9\n20095 Hamburg").where(Company.id == merchant.id).execute()
    assert page_text(pdf_of(client, invoice.id).data) == before
    html = client.get(f"/portal/invoices/{invoice.id}").get_data(as_text=True)
    assert "12 St James&#39;s Sq" in html and "Hauptstraße 1" in html and "1 New Road" not in html


# --- colours in the page content stream ----------------------------------------------------
# Enough of a content-stream interpreter to know, for every rectangle filled and every piece
# of text shown, the fill colour in force (rg/g, with q/Q saving and restoring it).

_TOKEN = re.compile(
    rb"\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>|\[|\]|/[^\s/\[\]()<>]+"
    rb"|[-+]?(?:\d+\.?\d*|\.\d+)|[A-Za-z'\"*]+",
    re.S,
)
_FILLS = {b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"}
WHITE = (255, 255, 255)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _contrast(one: tuple[int, int, int], other: tuple[int, int, int]) -> float:
    # Luminance is read back from the project's WCAG helper (ratio = 1.05 / (L + 0.05)), so the
    # formula lives in one place.
    lum = sorted(1.05 / contrast_with_white(_hex(c)) - 0.05 for c in (one, other))
    return (lum[1] + 0.05) / (lum[0] + 0.05)


def painted(pdf: bytes):
    """(page size, fills, texts): fills are (colour, (x0, y0, x1, y1) or None for a path that is
    not a rectangle) in drawing order; texts are (colour, (x, y), index into fills so far)."""
    objs = objects(pdf)
    width, height = map(float, re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf).groups())
    fills, texts = [], []
    for body in objs.values():
        if b"/Type /Page\n" not in body:
            continue
        stream = _stream(objs[int(re.search(rb"/Contents (\d+) 0 R", body).group(1))])
        fill, saved, operands, rects, path, at = (0, 0, 0), [], [], [], False, (0.0, 0.0)
        for token in _TOKEN.findall(stream):
            if not re.fullmatch(rb"[A-Za-z'\"*]+", token):
                operands.append(token)
                continue
            nums = [float(t) for t in operands if re.fullmatch(rb"[-+.\d]+", t)]
            if token == b"q":
                saved.append(fill)
            elif token == b"Q":
                fill = saved.pop()
            elif token == b"rg":
                fill = tuple(round(v * 255) for v in nums[-3:])
            elif token == b"g":
                fill = (round(nums[-1] * 255),) * 3
            elif token == b"re":
                x, y, w, h = nums[-4:]
                rects.append((min(x, x + w), min(y, y + h), max(x, x + w), max(y, y + h)))
            elif token in (b"m", b"l", b"c", b"v", b"y"):
                path = True
            elif token in _FILLS or token in (b"S", b"s", b"n"):
                if token in _FILLS:
                    fills += [(fill, rect) for rect in rects] + ([(fill, None)] if path else [])
                rects, path = [], False
            elif token == b"BT":
                at = (0.0, 0.0)
            elif token == b"Td":
                at = (at[0] + nums[-2], at[1] + nums[-1])
            elif token == b"Tm":
                at = (nums[-2], nums[-1])
            elif token in (b"Tj", b"TJ", b"'", b'"'):
                texts.append((fill, at, len(fills)))
            operands = []
    return (width, height), fills, texts


def _behind(fills, index: int, point) -> tuple[int, int, int] | None:
    """The colour of the last rectangle filled before a text and under it (tested just above
    its baseline, where the glyphs are), or None for the white page."""
    x, y = point[0] + 0.5, point[1] + 1
    for colour, rect in reversed(fills[:index]):
        if rect and rect[0] <= x <= rect[2] and rect[1] <= y <= rect[3]:
            return colour
    return None


@pytest.mark.parametrize("brand", ["#111111", "#fafafa", "#4338ca"])
def test_the_brand_colour_fills_only_the_header_stripe_and_text_stays_readable(
    client, merchant, billed, brand
):
    """The brand colour is for the thin stripe at the top; the line table and everything else
    sit on light neutral fills with text at WCAG AA contrast, however dark or light the brand.
    (A stored colour may predate the branding form's check, so #fafafa is possible.)"""
    customer, invoice = billed
    Company.update(brand_color=brand).where(Company.id == merchant.id).execute()
    sign_in_with_handoff(client, merchant, customer["id"])
    pdf = pdf_of(client, invoice.id).data
    (width, height), fills, texts = painted(pdf)
    brand_rgb = tuple(int(brand[i : i + 2], 16) for i in (1, 3, 5))

    stripes = [rect for colour, rect in fills if colour == brand_rgb]
    assert len(stripes) == 1, f"the brand colour fills {len(stripes)} shapes, not just the stripe"
    x0, y0, x1, y1 = stripes[0]
    assert (x0, x1, y1) == (0, pytest.approx(width, abs=0.1), pytest.approx(height, abs=0.1))
    assert 0 < y1 - y0 <= 20  # thin: at most 20 pt tall

    assert len(texts) >= 20  # the header, the parties, the line table and the totals
    for colour, at, index in texts:
        background = _behind(fills, index, at) or WHITE
        if background != brand_rgb:
            assert _contrast(background, (0, 0, 0)) >= 15, f"dark fill {background} under text"
        ratio = _contrast(colour, background)
        assert ratio >= MIN_CONTRAST, f"text {colour} on {background} at {at}: {ratio:.2f}:1"
