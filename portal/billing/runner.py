"""The periodic billing pass behind `flask run-billing` (safe on several machines at once).

Each subscription is renewed in its own short transaction under a row lock (SQLite: the write
lock), and renewal is idempotent for a given instant, so overlapping runs cannot bill twice.
"""

from dataclasses import dataclass, field
from datetime import datetime

from portal.db import write_transaction
from portal.models import Discount, Subscription, utcnow

from .subscription_items import LIVE_STATUSES, lock
from .subscriptions import renew_subscription


@dataclass
class BillingRun:
    renewed: int = 0
    ended: int = 0
    past_due: int = 0
    discounts_expired: int = 0
    errors: list[str] = field(default_factory=list)


def due_subscription_ids(now: datetime, limit: int) -> list[str]:
    query = (
        Subscription.select(Subscription.id)
        .where(Subscription.status.in_(LIVE_STATUSES) & (Subscription.current_period_end <= now))
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
    """Renew what is due, end scheduled cancellations, expire finished discounts."""
    now = now or utcnow()
    result = BillingRun()
    for sub_id in due_subscription_ids(now, batch):
        try:
            with write_transaction():
                # Read under the lock: a parallel runner that renewed it first must make this
                # one report "nothing to do", not a second renewal.
                before = lock(Subscription(id=sub_id))
                after = renew_subscription(before, now)
        except Exception as exc:  # one bad subscription must not stop the others
            result.errors.append(f"{sub_id}: {exc}")
            continue
        if after.status in ("canceled", "incomplete_expired") and before.status != after.status:
            result.ended += 1
        elif after.current_period_end != before.current_period_end:
            result.renewed += 1
            result.past_due += after.status == "past_due"
    result.discounts_expired = expire_discounts(now)
    return result
