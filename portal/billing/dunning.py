"""Dunning: a failed renewal charge is retried on the company's schedule
(``dunning_config.timeline``), each retry runs exactly once however many ``run-billing``
processes race for it, and after the last failure the company's terminal actions apply.
Paying the invoice any other way cancels the retries left. Every step is an activity event;
the e-mails are in ``dunning_notices``.

Only renewals start dunning: a failed first invoice leaves the subscription ``incomplete``
(it expires after its period), and a plan change whose charge fails leaves its open invoice
to the customer (the past-due banner), as the caller asked for the change there and then.
"""

from datetime import datetime

from peewee import JOIN

from portal.access.activity import record_event
from portal.db import locked, write_transaction
from portal.models import Charge, DunningAttempt, Invoice, PaymentMethod, Subscription, utcnow
from portal.timefmt import iso
from portal.webhooks import notify

from . import dunning_notices as notices
from . import invoices
from .dunning_config import settings_for, timeline
from .subscription_items import default_method, lock

SCHEDULED = "scheduled"
# What the subscription terminal actions may change: an ended one stays ended.
ACTIONABLE = ("trialing", "active", "past_due", "unpaid", "paused")
OUTCOMES = ("succeeded", "failed", "exhausted", "canceled", "skipped")


def _event(invoice: Invoice, action: str, details: dict) -> None:
    record_event(
        invoice.company_id,
        invoice.customer_id,
        action,
        {"invoice_id": invoice.id, **details},
        invoice.subscription_id,
    )


def renewal_failed(invoice_id: str, now: datetime) -> list[DunningAttempt]:
    """Inside the renewal's transaction, after its charge failed (or found nothing to
    charge): schedule the retries, record ``dunning.started`` and send the first "payment
    failed" e-mail. With no retries (bank debits with bank retries off) this failure was
    the last one, so the terminal actions apply at once. Nothing for an invoice that got
    paid after all, or that has retries already."""
    invoice = Invoice.get_by_id(invoice_id)
    if invoice.status != "OPEN" or not invoice.payment_failed:
        return []
    if DunningAttempt.select().where(DunningAttempt.invoice == invoice).exists():
        return []
    settings = settings_for(invoice.company_id)
    charge = _last_charge(invoice)
    method = charge.payment_method if charge and charge.payment_method_id else None
    bank_debit = method is not None and method.type == "BANK_ACCOUNT"
    due = timeline(settings, now, bank_debit=bank_debit)
    attempts = [
        DunningAttempt.create(
            company=invoice.company_id,
            invoice=invoice,
            subscription=invoice.subscription_id,
            number=number,
            due_at=at,
            created_at=now,
            updated_at=now,
        )
        for number, at in enumerate(due, 1)
    ]
    _event(
        invoice,
        "dunning.started",
        {
            "amount_due": invoice.amount_due - invoice.amount_paid,
            "currency": invoice.currency,
            "charge_id": charge.id if charge else None,
            "failure_message": notices.failure_reason(charge),
            "bank_debit": bank_debit,
            "retry_at": [iso(at) for at in due],
        },
    )
    final = None if attempts else _exhaust(invoice, settings, now)
    notices.payment_failed(invoice.id, settings, 0, charge, due[0] if due else None, final, now)
    return attempts


def _last_charge(invoice: Invoice) -> Charge | None:
    return (
        Charge.select(Charge, PaymentMethod)
        .join(PaymentMethod, JOIN.LEFT_OUTER)
        .where(Charge.invoice == invoice)
        .order_by(Charge.created_at.desc(), Charge.id.desc())
        .first()
    )


def due_attempt_ids(now: datetime, limit: int) -> list[str]:
    query = (
        DunningAttempt.select(DunningAttempt.id)
        .where((DunningAttempt.status == SCHEDULED) & (DunningAttempt.due_at <= now))
        .order_by(DunningAttempt.due_at, DunningAttempt.number)
        .limit(limit)
    )
    return [row.id for row in query]


def run_attempt(attempt_id: str, now: datetime) -> str:
    """Run one due retry in its own transaction; one of OUTCOMES. The invoice and then the
    attempt are read under a row lock (the order paying the invoice takes them in), so a
    runner that comes second sees the attempt finished and skips it."""
    with write_transaction():
        invoice_id = (
            DunningAttempt.select(DunningAttempt.invoice)
            .where(DunningAttempt.id == attempt_id)
            .scalar()
        )
        if invoice_id is None:
            return "skipped"
        invoice = locked(Invoice.select().where(Invoice.id == invoice_id)).get()
        attempt = locked(DunningAttempt.select().where(DunningAttempt.id == attempt_id)).get()
        if attempt.status != SCHEDULED:
            return "skipped"
        if invoice.status != "OPEN":
            cancel_left(invoice, "invoice_closed", now)
            return "canceled"
        if _later_one_due(attempt, now):
            # A missed run: only the latest due retry charges, not all of them at once.
            _finish(attempt, "canceled", now)
            _event(invoice, "dunning.attempt_skipped", {"attempt": attempt.number})
            return "skipped"
        return _charge(attempt, invoice, now)


def _later_one_due(attempt: DunningAttempt, now: datetime) -> bool:
    return (
        DunningAttempt.select()
        .where(
            (DunningAttempt.invoice == attempt.invoice_id)
            & (DunningAttempt.status == SCHEDULED)
            & (DunningAttempt.number > attempt.number)
            & (DunningAttempt.due_at <= now)
        )
        .exists()
    )


def _finish(attempt: DunningAttempt, status: str, now: datetime, charge=None) -> None:
    attempt.status, attempt.finished_at, attempt.charge = status, now, charge
    attempt.save()


def _charge(attempt: DunningAttempt, invoice: Invoice, now: datetime) -> str:
    # Claimed before the charge: the paid hook then cancels only the other attempts.
    _finish(attempt, "failed", now)
    method = default_method(invoice.customer_id)
    charge = None
    if method is not None:
        charge = invoices.pay_invoice(invoice, method, now, key=f"dunning:{attempt.id}")
    details = {
        "attempt": attempt.number,
        "charge_id": charge.id if charge else None,
        "payment_method_id": method.id if method else None,
    }
    if charge is not None and charge.status == "succeeded":
        _finish(attempt, "succeeded", now, charge)
        _event(invoice, "dunning.attempt_succeeded", details)
        return "succeeded"
    _finish(attempt, "failed", now, charge)
    upcoming = (
        DunningAttempt.select()
        .where((DunningAttempt.invoice == invoice) & (DunningAttempt.status == SCHEDULED))
        .order_by(DunningAttempt.number)
        .first()
    )
    next_at = upcoming.due_at if upcoming else None
    details.update(failure_message=notices.failure_reason(charge), next_attempt_at=iso(next_at))
    _event(invoice, "dunning.attempt_failed", details)
    settings = settings_for(invoice.company_id)
    final = None if upcoming else _exhaust(invoice, settings, now)
    notices.payment_failed(invoice.id, settings, attempt.number, charge, next_at, final, now)
    return "exhausted" if final else "failed"


def _exhaust(invoice: Invoice, settings: dict, now: datetime) -> str:
    """After the last failure: the invoice and subscription terminal actions; returns the
    subscription action (what the last e-mail tells the customer)."""
    invoice_action = settings["invoice_terminal_action"]
    if invoice_action == "uncollectible":
        marked = Invoice.update(
            status="UNCOLLECTIBLE", updated_at=now, version=Invoice.version + 1
        ).where((Invoice.id == invoice.id) & (Invoice.status == "OPEN"))
        if marked.execute():
            notify.invoice(invoice, "invoice.marked_uncollectible")
    action = settings["subscription_terminal_action"]
    status = None
    if invoice.subscription_id:
        status = _subscription_action(invoice.subscription_id, invoice.id, action, now)
    _event(
        invoice,
        "dunning.exhausted",
        {
            "invoice_action": invoice_action,
            "invoice_status": Invoice.get_by_id(invoice.id).status,
            "subscription_action": action,
            "subscription_status": status,
        },
    )
    return action


def _subscription_action(sub_id: str, invoice_id: str, action: str, now: datetime) -> str | None:
    """Apply ``action`` to a subscription that has not ended; its status afterwards. Only
    while ``invoice_id`` is its latest invoice: a later renewal that was paid means the
    subscription is paid up, whatever an older invoice's last retry did."""
    sub = Subscription.get_or_none(Subscription.id == sub_id)
    if sub is None:
        return None
    sub = lock(sub)
    if sub.status not in ACTIONABLE or action == "past_due" or sub.latest_invoice_id != invoice_id:
        return sub.status
    if action == "cancel":
        from .subscriptions import cancel_subscription  # the lifecycle imports this module

        return cancel_subscription(sub, at_period_end=False, now=now).status
    sub.status = {"unpaid": "unpaid", "pause": "paused"}[action]
    sub.version += 1
    sub.save()
    notify.subscription(sub, "subscription.paused" if action == "pause" else "subscription.updated")
    return sub.status


def cancel_left(invoice: Invoice, reason: str, now: datetime) -> list[int]:
    """Cancel the invoice's scheduled retries; their numbers (an event when there were)."""
    left = DunningAttempt.select(DunningAttempt.number).where(
        (DunningAttempt.invoice == invoice.id) & (DunningAttempt.status == SCHEDULED)
    )
    numbers = sorted(row.number for row in left)
    if numbers:
        DunningAttempt.update(status="canceled", finished_at=now, updated_at=now).where(
            (DunningAttempt.invoice == invoice.id) & (DunningAttempt.status == SCHEDULED)
        ).execute()
        _event(invoice, "dunning.canceled", {"attempts": numbers, "reason": reason})
    return numbers


def invoice_paid(invoice_id: str) -> None:
    """``invoices.PAID_HOOKS``: however the invoice got paid (a retry, the portal, the API),
    inside that transaction: the retries left are canceled, and a subscription that dunning
    paused for this invoice is active again (``pay_invoice`` already reactivates past-due
    and unpaid ones)."""
    if not DunningAttempt.select().where(DunningAttempt.invoice == invoice_id).exists():
        return  # one query for the invoices dunning never touched
    invoice = Invoice.get_by_id(invoice_id)
    now = invoice.paid_at or utcnow()
    cancel_left(invoice, "invoice_paid", now)
    resumed = invoice.subscription_id and (
        Subscription.update(status="active", version=Subscription.version + 1, updated_at=now)
        .where(
            (Subscription.id == invoice.subscription_id)
            & (Subscription.status == "paused")
            & Subscription.pause_behavior.is_null()  # paused by dunning, not on purpose
            & (Subscription.latest_invoice_id == invoice.id)
        )
        .execute()
    )
    if resumed:
        _event(invoice, "dunning.subscription_reactivated", {"from": "paused"})
        notify.subscription(Subscription.get_by_id(invoice.subscription_id), "subscription.resumed")


if invoice_paid not in invoices.PAID_HOOKS:
    invoices.PAID_HOOKS.append(invoice_paid)
