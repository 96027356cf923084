"""Work that waits until the request's transactions committed: waking the mail delivery for
the e-mails the request wrote to the outbox, whichever code wrote them (a sign-in link, a
receipt of an invoice paid through the API...), and the webhook delivery for the events it
wrote. The delivery threads or the ``deliver-mail`` worker send them; the request never does."""

from flask import Flask, g

from portal.mail import wakeup
from portal.mail.outbox import QUEUED
from portal.webhooks import delivery as webhook_delivery
from portal.webhooks import notify
from portal.webhooks.events import QUEUED as QUEUED_WEBHOOKS


def install(app: Flask) -> None:
    @app.before_request
    def _collect_queued_mail():
        g.queued_mail_token = QUEUED.set([])
        g.queued_webhooks_token = QUEUED_WEBHOOKS.set([])
        g.webhook_scope_token = notify.open_scope()

    @app.after_request
    def _wake_delivery(response):
        # After the view: its transactions have committed (or rolled back; a wake-up for
        # nothing costs the worker one empty pass).
        if QUEUED.get():
            wakeup.wake(app)
        if QUEUED_WEBHOOKS.get():
            webhook_delivery.wake(app)
        return response

    @app.teardown_request
    def _forget_queued_mail(_exc):
        token = g.pop("queued_mail_token", None)
        if token is not None:
            QUEUED.reset(token)
        token = g.pop("queued_webhooks_token", None)
        if token is not None:
            QUEUED_WEBHOOKS.reset(token)
        token = g.pop("webhook_scope_token", None)
        if token is not None:
            notify.close_scope(token)
