"""What must hold after a load test, checked against the database and the SMTP sink."""

from collections import Counter
from dataclasses import dataclass

from portal.db import db, is_sqlite
from portal.mail.transport import message_id
from portal.models import FormNonce, OutboxMessage, PortalEvent

BAD_TOTALS = """
SELECT COUNT(*) FROM invoice i
WHERE i.subtotal <> COALESCE((SELECT SUM(l.amount) FROM invoice_line l WHERE l.invoice_id = i.id), 0)
   OR i.total <> i.subtotal - i.discount_amount
"""  # noqa: E501
# Consistency queries run on both databases (PostgreSQL enforces keys itself; these go further).
CONSISTENCY = {
    "customers with more than one default payment method": """
        SELECT COUNT(*) FROM (SELECT customer_id FROM payment_method WHERE is_default = %(true)s
        GROUP BY customer_id HAVING COUNT(*) > 1) AS t""",
    "subscriptions paying with another customer's method": """
        SELECT COUNT(*) FROM subscription s JOIN payment_method m ON m.id = s.payment_method_id
        WHERE m.customer_id <> s.customer_id""",
    "live subscriptions without items": """
        SELECT COUNT(*) FROM subscription s WHERE s.status IN ('active', 'past_due', 'trialing')
        AND NOT EXISTS (SELECT 1 FROM subscription_item i WHERE i.subscription_id = s.id)""",
    "invoices paid for more than their total": """
        SELECT COUNT(*) FROM invoice WHERE amount_paid > total AND total >= 0""",
    "invoice numbers used twice in a company": """
        SELECT COUNT(*) FROM (SELECT company_id, number FROM invoice GROUP BY company_id, number
        HAVING COUNT(*) > 1) AS t""",
    "rows pointing at a missing invoice, customer or subscription": """
        SELECT (SELECT COUNT(*) FROM invoice_line l LEFT JOIN invoice i ON i.id = l.invoice_id
                WHERE i.id IS NULL)
             + (SELECT COUNT(*) FROM invoice i LEFT JOIN customer c ON c.id = i.customer_id
                WHERE c.id IS NULL)
             + (SELECT COUNT(*) FROM subscription_item si LEFT JOIN subscription s
                ON s.id = si.subscription_id WHERE s.id IS NULL)""",
}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _scalar(sql: str) -> int:
    true = "1" if is_sqlite() else "TRUE"
    return db.execute_sql(sql.replace("%(true)s", true)).fetchone()[0]


def totals() -> Check:
    bad = _scalar(BAD_TOTALS)
    count = _scalar("SELECT COUNT(*) FROM invoice")
    return Check(
        "every invoice total equals the sum of its lines (minus discount)",
        bad == 0,
        f"{bad} of {count:,} invoices differ",
    )


def changes(confirms: Counter, replayed: int) -> Check:
    """A confirmed change writes its event in the transaction that claims the form's nonce,
    so events = claimed nonces, and no subscription has more events than confirm forms sent."""
    events = Counter(
        row.subscription_id
        for row in PortalEvent.select(PortalEvent.subscription_id).where(
            PortalEvent.action == "subscription.changed"
        )
    )
    claimed = FormNonce.select().where(FormNonce.action == "change").count()
    over = {sub: n for sub, n in events.items() if n > confirms.get(sub, 0)}
    total = sum(events.values())
    return Check(
        "no subscription changed twice by one confirm",
        total == claimed and not over,
        f"{total} changes, {claimed} claimed confirm nonces, "
        f"{sum(confirms.values())} confirm forms submitted, {replayed} of them twice; "
        f"subscriptions with more changes than confirms: {len(over)}",
    )


def mail(received: Counter, sender: str) -> Check:
    rows = list(OutboxMessage.select())
    states = Counter(row.status for row in rows)
    expected = {message_id(row, sender) for row in rows}
    twice = [mid for mid, n in received.items() if n > 1]
    missing = expected - set(received)
    unknown = set(received) - expected
    ok = states.get("sent", 0) == len(rows) and not twice and not missing and not unknown
    return Check(
        "every queued email sent exactly once",
        ok,
        f"outbox {dict(states)}; sink got {sum(received.values())} messages, "
        f"{len(twice)} twice, {len(missing)} missing, {len(unknown)} unknown",
    )


def integrity() -> list[Check]:
    checks = []
    if is_sqlite():
        result = db.execute_sql("PRAGMA integrity_check").fetchone()[0]
        checks.append(Check("SQLite integrity_check", result == "ok", result))
        broken = db.execute_sql("PRAGMA foreign_key_check").fetchall()
        checks.append(Check("SQLite foreign_key_check", not broken, f"{len(broken)} violations"))
    else:
        invalid = _scalar("SELECT COUNT(*) FROM pg_index WHERE NOT indisvalid OR NOT indisready")
        checks.append(Check("PostgreSQL indexes valid", invalid == 0, f"{invalid} invalid"))
    for name, sql in CONSISTENCY.items():
        count = _scalar(sql)
        checks.append(Check(f"no {name}", count == 0, f"{count} found"))
    return checks


def drain_state() -> Counter:
    return Counter(row.status for row in OutboxMessage.select(OutboxMessage.status))


def activity() -> dict:
    """What the run did to the data, for the report."""
    from portal.models import Invoice, PaymentMethod

    events = Counter(
        row.action
        for row in PortalEvent.select(PortalEvent.action).where(
            PortalEvent.action.startswith("subscription.")
            | PortalEvent.action.startswith("payment_method.")
        )
    )
    return {
        "invoices_after": Invoice.select().count(),
        "payment_methods_after": PaymentMethod.select().count(),
        "emails": OutboxMessage.select().count(),
        "events": dict(events),
    }
