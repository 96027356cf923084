"""Steps in the customer portal that several browser journeys take, as a person would:

- ``sign_in_with_handoff``: open a one-time handoff link from the merchant API and land on
  the page it leads to (its level-1 ``heading``);
- ``add_card``: fill in the portal's card form and press Add card;
- ``MARK`` and ``SAME_PAGE``: evaluate ``MARK`` before an action and ``SAME_PAGE`` after it to
  tell an htmx swap (the mark survives) from a full page load (which wipes it).

Only the merchant API (through ``builders``) and the browser are used.
"""

from datetime import date

from builders import handoff
from playwright.sync_api import expect

EXPIRY = f"12/{(date.today().year + 3) % 100:02d}"
MARK = "window.__stillSamePage = true"
SAME_PAGE = "window.__stillSamePage === true"


def heading(page, name):
    """The page's level-1 heading called ``name``."""
    return page.get_by_role("heading", level=1, name=name)


def sign_in_with_handoff(page, site, customer_id: str, lands_on: str, **handoff_fields) -> None:
    """Follow a handoff link for the customer; the page headed ``lands_on`` opens."""
    page.goto(handoff(site, customer_id, **handoff_fields)["url"])
    expect(heading(page, lands_on)).to_be_visible()


def add_card(page, number: str, postal_code: str | None = None) -> None:
    """Type a card (expiring in three years, CVC 123, Ada Lovelace's name) and press Add card."""
    form = page.locator("form", has=page.get_by_role("button", name="Add card"))
    form.get_by_label("Card number").fill(number)
    form.get_by_label("Expiry date (MM/YY)").fill(EXPIRY)
    form.get_by_label("Security code").fill("123")
    form.get_by_label("Name on card").fill("Ada Lovelace")
    if postal_code is not None:
        form.get_by_label("Postal code").fill(postal_code)
    form.get_by_role("button", name="Add card").click()
