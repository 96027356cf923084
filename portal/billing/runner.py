"""The periodic billing pass behind `flask run-billing` (safe on several machines at once).

Each subscription is renewed in its own short transaction under a row lock (SQLite: the write
lock), and renewal is idempotent for a given instant, so overlapping runs cannot bill twice.
Then the due dunning retries run, each once (``dunning.run_attempt``), and expiring cards
are announced, once per card and expiry (``dunning_notices.expiring_cards``).
"""

from dataclasses import dataclass, field
from datetime import datetime

from portal.db import write_transaction
from portal.models import Discount, Subscription, utcnow
from portal.webhooks import notify

from . import dunning, dunning_notices
from .subscription_items import LIVE_STATUSES, lock
from .subscriptions import renew_subscription


@dataclass
class BillingRun:
    renewed: int = 0
    ended: int = 0
    resumed: int = 0  # paused collections that resumed on their date
    past_due: int = 0
    discounts_expired: int = 0
    # Dunning retries run by this pass, by outcome (dunning.OUTCOMES): "exhausted" is a
    # last retry that failed (terminal actions applied), "skipped" one another runner ran
    # first or a later due retry replaced, "canceled" one whose invoice was no longer open.
    retries: dict[str, int] = field(default_factory=lambda: dict.fromkeys(dunning.OUTCOMES, 0))
    expiring_card_emails: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The line `flask run-billing` prints."""
        retries = ", ".join(f"{name} {count}" for name, count in self.retries.items())
        return (
            f"renewed {self.renewed} (past due {self.past_due}), ended {self.ended}, "
            f"resumed {self.resumed}, "
            f"discounts expired {self.discounts_expired}, errors {len(self.errors)}; "
            f"retries {sum(self.retries.values())} ({retries}), "
            f"expiring card e-mails {self.expiring_card_emails}"
        )


def due_subscription_ids(now: datetime, limit: int) -> list[str]:
    """Live subscriptions whose period has ended, or whose paused collection resumes."""
    due = (Subscription.current_period_end <= now) | (Subscription.pause_resumes_at <= now)
    query = (
        Subscription.select(Subscription.id)
        .where(Subscription.status.in_(LIVE_STATUSES) & due)
        .order_by(Subscription.current_period_end)
        .limit(limit)
    )
    return [row.id for row in query]


def expire_discounts(now: datetime) -> int:
    with write_transaction():
        return (
            Discount.update(ended_at=Discount.end)
            .where(
                Discount.ended_at.is_null() & Discount.end.is_null(False) & (Discount.end <= now)
            )
            .execute()
        )


def run_billing(now: datetime | None = None, batch: int = 500) -> BillingRun:
    """Renew what is due, end scheduled cancellations, run due retries, warn about
    expiring cards, expire finished discounts."""
    now = now or utcnow()
    result = BillingRun()
    for sub_id in due_subscription_ids(now, batch):
        try:
            with notify.scope(), write_transaction():  # one event per subscription
                # Read under the lock: a parallel runner that renewed it first must make this
                # one report "nothing to do", not a second renewal.
                before = lock(Subscription(id=sub_id))
                after = renew_subscription(before, now)
        except Exception as exc:  # one bad subscription must not stop the others
            result.errors.append(f"{sub_id}: {exc}")
            continue
        resumed = after.pause_behavior is None and after.status in LIVE_STATUSES
        result.resumed += before.pause_behavior is not None and resumed
        if after.status in ("canceled", "incomplete_expired") and before.status != after.status:
            result.ended += 1
        elif after.current_period_end != before.current_period_end:
            result.renewed += 1
            result.past_due += after.status == "past_due"
    for attempt_id in dunning.due_attempt_ids(now, batch):
        try:
            with notify.scope():
                result.retries[dunning.run_attempt(attempt_id, now)] += 1
        except Exception as exc:  # nor one bad retry
            result.errors.append(f"retry {attempt_id}: {exc}")
    try:
        result.expiring_card_emails = dunning_notices.expiring_cards(now)
    except Exception as exc:
        result.errors.append(f"expiring cards: {exc}")
    result.discounts_expired = expire_discounts(now)
    return result
