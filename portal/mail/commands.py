"""``flask deliver-mail``: the worker that sends whatever the outbox has due, and with
``--loop`` the merchants' webhooks too (from a thread of its own).

With ``--loop`` it runs until Ctrl-C: a pass, then a sleep until a request wakes it
(``wakeup.listen``: NOTIFY on PostgreSQL, a datagram socket on SQLite) or ``--interval``
seconds pass, which is when due retries and mail queued by other commands go out.
"""

import click
from flask import Flask, current_app
from peewee import DatabaseError

from portal.db import db
from portal.webhooks import delivery as webhook_delivery

from . import wakeup
from .delivery import BATCH, deliver_due, worker_name
from .transport import MailNotConfigured, transport_for


def register_commands(app: Flask) -> None:
    @app.cli.command("deliver-mail")
    @click.option("--loop", is_flag=True, help="Keep delivering until Ctrl-C.")
    @click.option(
        "--interval",
        type=click.FloatRange(min=0.1),
        default=None,
        help="Seconds between polls with --loop  [default: PORTAL_MAIL_POLL_INTERVAL, 5]",
    )
    def deliver_mail_command(loop, interval):
        """Send due e-mails from the outbox: one pass, or --loop until Ctrl-C."""
        if interval is None:
            interval = float(current_app.config.get("PORTAL_MAIL_POLL_INTERVAL", 5.0))
        try:
            if loop:
                _run_loop(worker_name("cli"), interval)
            else:
                _run_once(worker_name("cli"))
        except KeyboardInterrupt:
            click.echo("Stopped.")


def _mail_problem(app: Flask) -> str | None:
    """Why mail cannot leave this server (no SMTP configured), or None. Webhooks still go
    out without it, so the worker reports this instead of refusing to start."""
    try:
        transport_for(app)
    except MailNotConfigured as exc:
        return str(exc)
    return None


def _run_once(worker_id: str) -> None:
    problem = _mail_problem(current_app)
    with db.connection_context():
        sent = 0 if problem else deliver_due(worker_id)
        hooks = webhook_delivery.deliver_due(worker_id)
    if not problem:
        click.echo(f"Sent {sent} message(s).")
    click.echo(f"Made {hooks} webhook delivery attempt(s).")
    if problem:
        raise click.ClickException(problem)


def _run_loop(worker_id: str, interval: float) -> None:
    # Listening starts before the first pass, so mail committed after that pass wakes us.
    app = current_app._get_current_object()
    app.config["PORTAL_MAIL_POLL_INTERVAL"] = interval  # the webhook thread polls as often
    problem = _mail_problem(app)
    if problem:
        click.echo(f"Mail is not delivered: {problem}.", err=True)
    what = "webhooks" if problem else "mail and webhooks"
    with wakeup.listen(current_app.config) as listener:
        sent = 0 if problem else _pass(worker_id)
        webhook_delivery.poke_thread(app)
        click.echo(f"Delivering {what}, {listener.description} and every {interval:g}s.")
        while True:
            if sent < BATCH:  # a full batch: there may be more due at once
                listener.wait(interval)
            # Webhooks go out from their own thread: an endpoint that hangs delays no mail.
            webhook_delivery.poke_thread(app)
            sent = 0 if problem else _pass(worker_id)


def _pass(worker_id: str) -> int:
    try:
        with db.connection_context():
            sent = deliver_due(worker_id)
    except DatabaseError as exc:
        click.echo(f"Database error, retrying: {exc}", err=True)
        return 0
    if sent:
        click.echo(f"Sent {sent} message(s).")
    return sent
