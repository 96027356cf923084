"""The demo company behind ``flask seed-demo``: a small, believable billing history made
through the billing core (never over HTTP), so every page and API route has data to show."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.access.merchants import create_api_key, create_merchant, hash_password
from portal.billing.instruments import add_instrument, make_default
from portal.billing.invoices import LineSpec, create_invoice
from portal.billing.periods import boundary
from portal.billing.subscriptions import (
    cancel_subscription,
    create_subscription,
    renew_subscription,
)
from portal.db import write_transaction
from portal.models import (
    Company,
    Coupon,
    Customer,
    MerchantUser,
    PaymentMethod,
    Price,
    Product,
    Subscription,
    utcnow,
)
from portal.portal_settings.config import update_config

from .demo_data import (
    COMPANY_NAME,
    CURRENCY,
    DEMO_TAGS,
    OWNER_EMAIL,
    PEOPLE,
    PLANS,
    PORTAL_FEATURES,
    SHOWCASE,
    Person,
)


@dataclass(frozen=True)
class DemoSeed:
    company: Company
    secret: str
    publishable: str
    password: str
    created: bool


def seed_demo(now: datetime | None = None, env: str = "development") -> DemoSeed:
    """Create the demo company and its history, or find the one made earlier. Either way issue
    fresh keys and a fresh owner password: only their hashes are stored, so printing them
    means making new ones. The portal config is set only when the company is created: a
    later run keeps whatever the merchant has changed since. ``env`` is the PORTAL_ENV the
    config rules check against."""
    now = now or utcnow()
    password = secrets.token_urlsafe(12)
    with write_transaction():
        owner = MerchantUser.get_or_none(MerchantUser.email == OWNER_EMAIL)
        if owner is None:
            company, secret, publishable = create_merchant(COMPANY_NAME, OWNER_EMAIL, password)
            _populate(company, now, env)
            return DemoSeed(company, secret, publishable, password, created=True)
        MerchantUser.update(password_hash=hash_password(password)).where(
            MerchantUser.id == owner.id
        ).execute()
        _, secret = create_api_key(owner.company, "secret")
        _, publishable = create_api_key(owner.company, "publishable")
        return DemoSeed(owner.company, secret, publishable, password, created=False)


def demo_links(company: Company, base_url: str) -> list[tuple[str, str]]:
    """(label, url) pairs: the merchant settings sign-in (as the owner printed above) and the
    customer portal's sign-in page (enter a demo customer's email; the link arrives in the
    development mailbox)."""
    return [
        ("Merchant settings", f"{base_url}/merchant/sign-in"),
        ("Customer portal sign-in page", f"{base_url}/p/{company.id}"),
    ]


def summary_lines(seed: DemoSeed, base_url: str) -> list[str]:
    """What the command prints: enough to call the API and sign in straight away."""
    state = "created" if seed.created else "already there; new keys and password issued"
    lines = [
        f"Demo company:    {seed.company.name} ({state})",
        f"company_id:      {seed.company.id}",
        f"secret key:      {seed.secret}",
        f"publishable key: {seed.publishable}",
        f"API base URL:    {base_url}/v1/api",
        f"Merchant owner:  {OWNER_EMAIL}  password: {seed.password}",
        f"Demo customer:   {SHOWCASE.email} ({SHOWCASE.name}, {SHOWCASE.plan} plan)",
        f'Try it:          curl -H "x-easy-api-key: {seed.secret}" {base_url}/v1/api/customer',
        "Portal sign-in and merchant settings links are printed below when available.",
    ]
    return lines + [f"{label}: {url}" for label, url in demo_links(seed.company, base_url)]


def _populate(company: Company, now: datetime, env: str) -> None:
    """Replay every customer's story in date order, so invoice numbers rise with their dates;
    then switch on the portal features the demo shows."""
    Company.update(
        support_email="billing@northwind.example",
        address="Northwind Studio LLC\n215 Water Street\nBrooklyn, NY 11201\nUnited States",
    ).where(Company.id == company.id).execute()
    catalog = _catalog(company)
    coupon = Coupon.create(
        company=company,
        name="Launch offer",
        duration="repeating",
        duration_in_months=3,
        percent_off=20,
        metadata=DEMO_TAGS,
    )
    steps = []
    for index, person in enumerate(PEOPLE):
        story = Story(company, person, catalog, coupon, _start(now, person, index))
        steps += [(when, index, n, step) for n, (when, step) in enumerate(story.steps(now))]
    for when, _, _, step in sorted(steps, key=lambda entry: entry[:3]):
        step(when)
    # Through the config rules, as the settings page and the API write it.
    update_config(company, {**PORTAL_FEATURES, "retention_coupon_id": coupon.id}, env)


def _start(now: datetime, person: Person, index: int) -> datetime:
    # Spread sign-ups over different days and hours so renewals do not all fall on one date.
    return boundary(now, "month", 1, -person.months) - timedelta(days=index % 5 + 1, hours=index)


def _catalog(company: Company) -> dict[tuple[str, str], Price]:
    """Three products, each with a monthly and a yearly USD price (monthly is the default)."""
    prices = {}
    for name, description, monthly, yearly in PLANS:
        product = Product.create(
            company=company, name=name, description=description, metadata=DEMO_TAGS
        )
        for interval, amount in (("month", monthly), ("year", yearly)):
            prices[name, interval] = Price.create(
                company=company,
                product=product,
                type="recurring",
                currency=CURRENCY,
                unit_amount=amount,
                interval=interval,
                interval_count=1,
                description=f"{name}, billed {interval}ly",
            )
        Product.update(default_price_id=prices[name, "month"].id).where(
            Product.id == product.id
        ).execute()
    return prices


class Story:
    """One customer's history as dated steps; each step calls the billing core at its date."""

    def __init__(self, company, person: Person, catalog, coupon: Coupon, start: datetime):
        self.company, self.person, self.start = company, person, start
        self.price = catalog.get((person.plan, person.interval))
        self.coupon = coupon if person.story == "discounted" else None
        self.customer: Customer | None = None
        self.sub: Subscription | None = None

    def steps(self, now: datetime) -> list[tuple[datetime, Callable[[datetime], None]]]:
        steps = [(self.start - timedelta(days=1), self.sign_up)]
        if self.price is not None:
            renewals = self._renewals(now)
            steps.append((self.start, self.subscribe))
            story = self.person.story
            if story == "canceled":
                cancel_at = renewals[-2] - timedelta(days=4)
                renewals = [when for when in renewals if when < cancel_at]
                steps.append((cancel_at, self.cancel_now))
            if story == "past_due":
                steps.append((renewals[-1] - timedelta(days=3), self.switch_to_declining_card))
            if story == "cancel_at_period_end":  # after the last renewal: it ends this period
                last_billed = renewals[-1] if renewals else self.start
                steps.append((min(last_billed + timedelta(hours=6), now), self.schedule_cancel))
            steps += [(when, self.renew) for when in renewals]
        if self.person.extra_invoice:
            steps.append((now - timedelta(days=self.person.extra_invoice[2]), self.bill_extra))
        return steps

    def _renewals(self, now: datetime) -> list[datetime]:
        moments, n = [], 1
        while (when := boundary(self.start, self.price.interval, 1, n)) <= now:
            moments.append(when)
            n += 1
        return moments

    def sign_up(self, when: datetime) -> None:
        first, last = self.person.name.split(" ", 1)
        line1, city, region, postal_code, country = self.person.address
        self.customer = Customer.create(
            company=self.company,
            first_name=first,
            last_name=last,
            email=self.person.email,
            phone=self.person.phone,
            address_line1=line1,
            city=city,
            region=region or None,
            postal_code=postal_code,
            country=country,
            tags=DEMO_TAGS,
            created_at=when,
        )
        for token in self.person.tokens:
            self._add_card(token, when)

    def _add_card(self, token: str, when: datetime) -> PaymentMethod:
        method = add_instrument(self.customer, token)
        PaymentMethod.update(created_at=when).where(PaymentMethod.id == method.id).execute()
        return method

    def subscribe(self, when: datetime) -> None:
        items = [(self.price, self.person.quantity)]
        self.sub = create_subscription(
            self.company, self.customer, items, coupon=self.coupon, now=when
        )

    def renew(self, when: datetime) -> None:
        renew_subscription(self.sub, when)

    def switch_to_declining_card(self, when: datetime) -> None:
        """A new card that will decline: the next renewal fails and the plan goes past due."""
        make_default(self._add_card("tok_chargeDeclined", when))

    def schedule_cancel(self, when: datetime) -> None:
        cancel_subscription(self.sub, at_period_end=True, reason="Too expensive", now=when)

    def cancel_now(self, when: datetime) -> None:
        cancel_subscription(
            self.sub,
            at_period_end=False,
            reason="Not using it enough",
            comment="Our studio project wrapped up; we may be back next season.",
            now=when,
        )

    def bill_extra(self, when: datetime) -> None:
        description, cents, _ = self.person.extra_invoice
        create_invoice(
            company=self.company,
            customer=self.customer,
            currency=CURRENCY,
            lines=[LineSpec(description=description, quantity=1, unit_amount=cents, amount=cents)],
            now=when,
        )
