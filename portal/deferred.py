"""Work that waits until the request's transactions committed: waking the mail delivery for
the e-mails the request wrote to the outbox, whichever code wrote them (a sign-in link, a
receipt of an invoice paid through the API...). The delivery thread or the ``deliver-mail``
worker sends them; the request never does."""

from flask import Flask, g

from portal.mail import wakeup
from portal.mail.outbox import QUEUED


def install(app: Flask) -> None:
    @app.before_request
    def _collect_queued_mail():
        g.queued_mail_token = QUEUED.set([])

    @app.after_request
    def _wake_delivery(response):
        # After the view: its transactions have committed (or rolled back; a wake-up for
        # nothing costs the worker one empty pass).
        if QUEUED.get():
            wakeup.wake(app)
        return response

    @app.teardown_request
    def _forget_queued_mail(_exc):
        token = g.pop("queued_mail_token", None)
        if token is not None:
            QUEUED.reset(token)
