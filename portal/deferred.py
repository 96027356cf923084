"""Work that waits until the response is on its way, i.e. after the request's transaction
committed: sending the e-mails the request queued in the outbox."""

from flask import after_this_request, current_app

from portal.mail import delivery


def send_mail_after_response(message_ids: list[str]) -> None:
    if not message_ids:
        return
    app = current_app._get_current_object()

    @after_this_request
    def _send(response):
        delivery.send_soon(app, message_ids)
        return response
