"""Invoice → PDF bytes with fpdf2. A drawing library: nothing in the text can fetch a URL.

DejaVu Sans is embedded so €, ł, ß, Ω and Cyrillic or Greek names print.
"""

import json
from datetime import date
from functools import lru_cache
from pathlib import Path

from flask_babel import gettext as _
from fpdf import FPDF, FontFace

from portal.billing.addresses import address_lines
from portal.billing.money import format_money
from portal.i18n import N_, current_language, language
from portal.timefmt import human_date

from .line_text import line_text

FONTS = Path(__file__).parent / "fonts"
INK = (17, 24, 39)
MUTED = (75, 85, 99)
# The brand colour can be anything (even a near-white stored before the branding form checked
# it), so it only paints the thin stripe at the top and never sits behind text. Text sits on
# fixed neutral fills instead: INK on either is 16:1 or more, MUTED on the white page 7.5:1,
# both well above WCAG AA's 4.5:1 whatever the brand colour.
HEADING_FILL = (243, 244, 246)
ROW_FILL = (255, 255, 255)
STATUSES = {
    "PAID": N_("Paid"),
    "OPEN": N_("Open"),
    "PAST_DUE": N_("Past due"),
    "VOID": N_("Void"),
    "UNCOLLECTIBLE": N_("Uncollectible"),
    "DRAFT": N_("Draft"),
}


def _rgb(hex_color: str) -> tuple[int, int, int]:
    try:
        return tuple(int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    except (ValueError, TypeError):
        return (67, 56, 202)


class _InvoicePdf(FPDF):
    def __init__(self):
        super().__init__(format="A4")
        self.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(True, margin=18)
        self.set_margins(18, 18, 18)

    def text_line(self, text: str, size: float = 10, bold: bool = False, color=INK, align="L"):
        self.set_font("DejaVu", "B" if bold else "", size)
        self.set_text_color(*color)
        self.multi_cell(0, size * 0.5, text or "", align=align, new_x="LMARGIN", new_y="NEXT")


def _kind(data: dict) -> str:
    """A document whose total is a credit is a credit note, not an invoice."""
    return _("Credit note") if data["totals"]["total"] < 0 else _("Invoice")


def _header(pdf: _InvoicePdf, data: dict) -> None:
    merchant = data["merchant"]
    # fpdf keeps the last fill colour set, and a table takes it as its cells' background, so
    # the brand colour is set only for this rectangle and restored right after it.
    with pdf.local_context(fill_color=_rgb(merchant["brand_color"])):
        pdf.rect(0, 0, pdf.w, 6, style="F")
    pdf.text_line(merchant["name"], 16, bold=True)
    for line in merchant["address_lines"]:
        pdf.text_line(line, 9, color=MUTED)
    if merchant["support_email"]:
        pdf.text_line(merchant["support_email"], 9, color=MUTED)
    pdf.ln(4)
    pdf.text_line(f"{_kind(data)} {data['number']}", 14, bold=True)
    status = STATUSES.get(data["status"])
    facts = [
        (_("Status"), _(status) if status else data["status"].replace("_", " ").title()),
        (_("Issued"), _day(data["issue_date"])),
        (_("Due"), _day(data["due_date"])),
        (_("Paid"), _day(data["paid_date"])),
    ]
    if data["period_start"] and data["period_end"]:
        facts.append((_("Period"), _span(data["period_start"], data["period_end"])))
    for label, value in facts:
        if value:
            pdf.text_line(f"{label}: {value}", 9, color=MUTED)
    pdf.ln(3)


def _day(iso_day: str | None) -> str:
    """The data's YYYY-MM-DD in the one date style of pages and e-mails."""
    return human_date(date.fromisoformat(iso_day)) if iso_day else ""


def _span(start: str, end: str) -> str:
    return f"{_day(start)} – {_day(end)}"


def _bill_to(pdf: _InvoicePdf, customer: dict) -> None:
    pdf.text_line(_("Bill to"), 9, bold=True, color=MUTED)
    # Invoices issued before company names existed have no such key.
    if customer.get("company_name"):
        pdf.text_line(customer["company_name"], 10, bold=True)
        pdf.text_line(customer["name"], 9)
    else:
        pdf.text_line(customer["name"], 10, bold=True)
    for line in [*address_lines(customer["address"]), customer["email"], customer["phone"]]:
        if line:
            pdf.text_line(line, 9)
    if customer["tax_id"]:
        pdf.text_line(_("Tax ID: %(tax_id)s", tax_id=customer["tax_id"]), 9)
    pdf.ln(4)


def _lines(pdf: _InvoicePdf, data: dict) -> None:
    currency = data["currency"]
    # Fills and text colour are explicit rather than inherited from whatever was drawn before.
    pdf.set_text_color(*INK)
    with pdf.table(
        col_widths=(60, 10, 15, 15),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=5.5,
        headings_style=FontFace(emphasis="B", color=INK, fill_color=HEADING_FILL),
        cell_fill_color=ROW_FILL,
        cell_fill_mode="ALL",
    ) as table:
        pdf.set_font("DejaVu", "B", 9)
        table.row((_("Description"), _("Qty"), _("Unit price"), _("Amount")))
        pdf.set_font("DejaVu", "", 9)
        for line in data["lines"]:
            description = line_text(line["description"])
            if line["period_start"] and line["period_end"]:
                description += "\n" + _span(line["period_start"], line["period_end"])
            if line["proration"]:
                description += "\n" + _("(prorated)")
            table.row(
                (
                    description,
                    str(line["quantity"]),
                    format_money(line["unit_amount"], currency),
                    format_money(line["amount"], currency),
                )
            )
    pdf.ln(3)


def _totals(pdf: _InvoicePdf, data: dict) -> None:
    totals, currency = data["totals"], data["currency"]
    rows = [(_("Subtotal"), totals["subtotal"], False)]
    if totals["discount_amount"]:
        rows.append((_("Discount"), -totals["discount_amount"], False))
    rows.append((_("Total"), totals["total"], True))
    if totals["credit_applied"]:
        rows.append((_("Credit applied"), -totals["credit_applied"], False))
    rows += [(_("Amount paid"), totals["amount_paid"], False)]
    rows += [(_("Amount due"), totals["amount_remaining"], True)]
    for label, amount, bold in rows:
        pdf.text_line(f"{label}:  {format_money(amount, currency)}", 10, bold=bold, align="R")


def render_invoice_pdf(data: dict, lang: str | None = None) -> bytes:
    """Draw the invoice described by ``data`` (the /invoices/:id/pdf payload) in ``lang``
    (default: the language being rendered now, portal/i18n.py).

    Drawing costs far more than reading the data, so bytes are cached by the data's content
    and the language: any change to the invoice, customer or merchant details gives a new key."""
    data_json = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return _render_cached(data_json, lang or current_language())


@lru_cache(maxsize=256)
def _render_cached(data_json: str, lang: str) -> bytes:
    with language(lang):
        return _draw(json.loads(data_json))


def _draw(data: dict) -> bytes:
    pdf = _InvoicePdf()
    pdf.set_title(f"{_kind(data)} {data['number']}")
    pdf.set_author(data["merchant"]["name"])
    pdf.add_page()
    _header(pdf, data)
    _bill_to(pdf, data["customer"])
    _lines(pdf, data)
    _totals(pdf, data)
    return bytes(pdf.output())
