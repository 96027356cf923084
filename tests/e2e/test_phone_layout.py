"""The portal on a 360 px phone: the header and section nav take at most 120 px, invoice rows
stay one or two lines, and a screen has at most one primary pay action."""

import re

from browser_checks import assert_accessible, assert_no_horizontal_scroll
from portal_steps import sign_in_with_handoff
from test_portal_pages_a11y import full_portal_customer, phone_page, portal_pages

__all__ = ["phone_page"]  # the fixture, imported so this module can use it

PAY = re.compile(r"^\s*(Pay|Fix payment)")


def shell_height(page) -> float:
    header = page.locator("header.brand-bar").bounding_box()
    nav = page.locator("nav.tabs").bounding_box()
    return nav["y"] + nav["height"] - header["y"]


def row_lines(page, selector: str) -> list[int]:
    """How many lines each row's visible cells sit on, and that no cell's text wraps."""
    return page.locator(selector).evaluate_all(
        """rows => rows.map(row => {
            const cells = [...row.querySelectorAll('td')].filter(td => td.offsetHeight > 0);
            const tops = new Set(cells.map(td => Math.round(td.getBoundingClientRect().top / 8)));
            const line = parseFloat(getComputedStyle(cells[0]).lineHeight);
            const wraps = cells.some(td => !td.querySelector('.button')
                && td.getBoundingClientRect().height > 1.6 * line + 8);
            return wraps ? 99 : tops.size;
        })"""
    )


def test_a_phone_screen_is_compact_and_has_one_pay_action(phone_page, merchant_site):
    page, site = phone_page, merchant_site
    customer = full_portal_customer(site)
    sign_in_with_handoff(page, site, customer["id"], "Hello, Ada")
    for path in portal_pages(page):
        page.goto(path)
        assert shell_height(page) <= 120, (path, shell_height(page))
        primaries = page.locator(".button.primary:visible").all_inner_texts()
        assert len([t for t in primaries if PAY.match(t)]) <= 1, (path, primaries)
        assert_no_horizontal_scroll(page)
    for path, rows in (
        ("/portal/invoices", "#invoice-list tbody tr"),
        ("/portal", "table tbody tr"),
    ):
        page.goto(path)
        lines = row_lines(page, rows)
        assert lines and max(lines) <= 2, (path, lines)
    assert_accessible(page)
