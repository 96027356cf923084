"""The demo company's cast and catalogue for ``flask seed-demo``: who its customers are, what
happened to each of them, the plans they buy and the portal features the demo switches on."""

from dataclasses import dataclass

COMPANY_NAME = "Northwind Studio"
OWNER_EMAIL = "demo@northwind.example"
DEMO_TAGS = {"demo": True}
CURRENCY = "USD"

# name, description, monthly and yearly price in cents (a year costs ten months)
PLANS = (
    ("Starter", "One designer, 50 GB of project storage and client review links.", 1500, 15000),
    ("Team", "Up to 10 seats, shared asset libraries and version history.", 4900, 49000),
    ("Enterprise", "Unlimited seats, SSO, audit log and a named account manager.", 19900, 199000),
)


@dataclass(frozen=True)
class Person:
    """A demo customer and what happened to them over the last few months."""

    name: str
    email: str
    phone: str
    address: tuple[str, str, str, str, str]  # line1, city, region, postal code, country
    tokens: tuple[str, ...] = ("tok_visa",)
    plan: str | None = None  # product name; None: no subscription yet
    interval: str = "month"
    quantity: int = 1
    months: int = 3  # how long ago they subscribed
    story: str = "active"  # active | discounted | past_due | cancel_at_period_end | canceled
    extra_invoice: tuple[str, int, int] | None = None  # description, cents, days ago (unpaid)


# fmt: off
PEOPLE = (
    Person("Maya Okafor", "maya@okafor-architects.example", "+1 503 555 0142",
           ("412 NW Alder Street", "Portland", "OR", "97209", "US"),
           plan="Team", months=5),
    Person("Lucas Brennan", "lucas.brennan@fernhill.example", "+1 312 555 0187",
           ("1840 W Division Street", "Chicago", "IL", "60622", "US"), ("tok_mastercard",),
           plan="Starter", months=4),
    Person("Priya Raman", "priya@ramanlabs.example", "+1 415 555 0119",
           ("77 Townsend Street, Suite 300", "San Francisco", "CA", "94107", "US"), ("tok_amex",),
           plan="Enterprise", interval="year", months=4),
    Person("Tomás Herrera", "tomas.herrera@solarmesa.example", "+1 512 555 0163",
           ("2301 E Cesar Chavez Street", "Austin", "TX", "78702", "US"),
           plan="Team", quantity=3, months=2, story="discounted"),
    Person("Hannah Schultz", "hannah@schultz-grafik.example", "+49 30 5557 2281",
           ("Oranienstraße 45", "Berlin", "BE", "10969", "DE"),
           plan="Starter", months=3, story="past_due"),
    Person("Kenji Watanabe", "kenji.watanabe@kumo-design.example", "+1 206 555 0135",
           ("1522 Pike Place", "Seattle", "WA", "98101", "US"), ("tok_mastercard",),
           plan="Team", months=3, story="cancel_at_period_end"),
    Person("Olivia Grant", "olivia.grant@grantandfield.example", "+44 20 7946 0321",
           ("18 Exmouth Market", "London", "", "EC1R 4QE", "GB"),
           plan="Starter", months=4, story="canceled"),
    Person("Samuel Adeyemi", "samuel@adeyemi-studio.example", "+1 404 555 0178",
           ("650 North Avenue NE", "Atlanta", "GA", "30308", "US"), ("tok_bank_account",),
           plan="Team", interval="year", months=2),
    Person("Chloé Dubois", "chloe.dubois@atelier-lumen.example", "+1 514 555 0126",
           ("4200 Boulevard Saint-Laurent", "Montréal", "QC", "H2W 1Z3", "CA"), ("tok_mastercard",),
           plan="Starter", months=1, extra_invoice=("Onboarding workshop (2 hours)", 30000, 2)),
    Person("Rafael Costa", "rafael@costa-media.example", "+1 305 555 0191",
           ("1100 Brickell Bay Drive", "Miami", "FL", "33131", "US"), ("tok_amex",),
           plan="Enterprise", months=3, extra_invoice=("Custom brand template design", 45000, 12)),
    Person("Emma Lindqvist", "emma.lindqvist@nordljus.example", "+46 8 555 123 45",
           ("Götgatan 22", "Stockholm", "", "118 46", "SE"), months=0),
    Person("Noah Fischer", "noah@fischer-build.example", "+1 720 555 0150",
           ("1550 Wewatta Street", "Denver", "CO", "80202", "US"), ("tok_visa", "tok_amex"),
           plan="Team", quantity=5, months=6),
)
# fmt: on
SHOWCASE = PEOPLE[0]  # the customer whose email the command prints

# Portal features the defaults leave off, switched on so the demo shows them all. The
# retention offer (``retention_coupon_id``) is added next to them: the demo's coupon.
PORTAL_FEATURES = {
    "allow_plan_switch": True,
    "allow_quantity_updates": True,
    "accepted_payment_methods": ["card", "bank_account"],
    "cancellation_reasons_enabled": True,
}
