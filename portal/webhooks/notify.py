"""What the billing core calls when an object changed: one event per object and action.

An action often saves its object several times (a new subscription is saved, invoiced,
then made active by the payment). Within one scope (a request, one subscription of a
billing run) the events of one object are folded together: a later ``*.updated`` of the
same object rewrites the event already written with the object's latest state instead of
adding another, so a receiver gets one ``subscription.created`` carrying the final state.
Each event's ``data`` is the object exactly as the API returns it.
"""

import contextlib
from contextvars import ContextVar

from . import events

# object id → the events written for it in this scope, each (event id, type, ids of the
# endpoints it went to); None outside a scope: no folding.
_SCOPE: ContextVar[dict | None] = ContextVar("portal_webhooks_scope", default=None)


@contextlib.contextmanager
def scope():
    token = open_scope()
    try:
        yield
    finally:
        close_scope(token)


def open_scope():
    """Start folding (a request's before_request); the token closes it (``close_scope``)."""
    return _SCOPE.set({})


def close_scope(token) -> None:
    _SCOPE.reset(token)


def subscription(sub, event_type: str = "subscription.updated", *, portal: dict | None = None):
    """The subscription changed (``portal``: what the customer did there); returns it."""

    def render():
        from portal.billing import objects

        data = objects.subscriptions([sub])[0]
        if portal:
            data["portal"] = portal
        return data

    _changed(sub.company_id, sub.id, event_type, render)
    return sub


def invoice(inv, event_type: str) -> None:
    def render():
        from portal.billing import objects
        from portal.models import Invoice

        return objects.invoices([Invoice.get_by_id(inv.id)])[0]  # updated by UPDATE

    _changed(inv.company_id, (inv.id, event_type), event_type, render)


def customer(c, event_type: str = "identity.updated") -> None:
    def render():
        from portal.billing import objects

        return objects.customers([c])[0]

    _changed(c.company_id, c.id, event_type, render)


def instrument(method, event_type: str = "payment_instrument.updated") -> None:
    def render():
        from portal.billing import wire
        from portal.models import PaymentMethod

        fresh = PaymentMethod.get_or_none(PaymentMethod.id == method.id)  # gone when removed
        return wire.payment_method(fresh or method)

    _changed(method.company_id, method.id, event_type, render)


def _changed(company_id, key, event_type: str, render) -> None:
    listeners = events.listening(company_id, event_type)
    if not listeners:
        return
    folded = _SCOPE.get()
    written = folded.setdefault(key, []) if folded is not None else []
    waiting = {endpoint.id: endpoint for endpoint in listeners}
    for event_id, earlier_type, reached in written:
        # An update folds into whatever this scope already wrote about the object; another
        # action only into an event of its own type.
        if not (event_type.endswith(".updated") or earlier_type == event_type):
            continue
        if events.rewrite(event_id, render()):
            for endpoint_id in reached:
                waiting.pop(endpoint_id, None)
    if not waiting:
        return
    # Endpoints the folded events did not reach (they listen to this type only) get their own.
    event = events.emit(company_id, event_type, render(), to=list(waiting.values()))
    if folded is not None and event is not None:
        written.append((event.id, event_type, set(waiting)))
