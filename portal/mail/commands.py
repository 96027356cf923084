"""``flask deliver-mail``: the worker that sends whatever the outbox still has due."""

import time

import click
from flask import Flask
from peewee import DatabaseError

from portal.db import db

from .delivery import deliver_due, worker_name
from .transport import MailNotConfigured


def register_commands(app: Flask) -> None:
    @app.cli.command("deliver-mail")
    @click.option("--loop", is_flag=True, help="Keep delivering until Ctrl-C.")
    @click.option("--interval", type=click.FloatRange(min=0.1), default=5.0, show_default=True)
    def deliver_mail_command(loop, interval):
        """Send due e-mails from the outbox: one pass, or --loop until Ctrl-C."""
        try:
            _run_worker(worker_name("cli"), loop, interval)
        except MailNotConfigured as exc:
            raise click.ClickException(str(exc)) from exc
        except KeyboardInterrupt:
            click.echo("Stopped.")


def _run_worker(worker_id: str, loop: bool, interval: float) -> None:
    while True:
        try:
            with db.connection_context():
                sent = deliver_due(worker_id)
        except DatabaseError as exc:
            if not loop:
                raise
            click.echo(f"Database error, retrying: {exc}", err=True)
            sent = 0
        if sent or not loop:
            click.echo(f"Sent {sent} message(s).")
        if not loop:
            return
        time.sleep(interval)
