"""Flask commands: init-db, create-merchant, seed-demo, run-billing, deliver-mail."""

import click
from flask import Flask
from playhouse.migrate import SchemaMigrator, migrate

from portal.billing.invoice_parties import snapshot_missing_parties
from portal.db import db
from portal.models import MODELS


def init_schema() -> None:
    """Create missing tables, columns and indexes; safe to run again."""
    with db.connection_context():
        db.create_tables(MODELS, safe=True)
        _add_missing_columns()
        with db.atomic():
            snapshot_missing_parties()


def _add_missing_columns() -> None:
    """Columns added to a model after its table existed (they are nullable or defaulted,
    so old rows stay valid): create_tables only creates whole tables."""
    migrator = SchemaMigrator.from_database(db)
    steps = []
    for model in MODELS:
        table = model._meta.table_name
        present = {column.name for column in db.get_columns(table)}
        for field in model._meta.sorted_fields:
            if field.column_name not in present:
                steps.append(migrator.add_column(table, field.column_name, field))
    if steps:
        with db.atomic():
            migrate(*steps)


def register_commands(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db_command():
        """Create or upgrade the database schema (idempotent)."""
        init_schema()
        click.echo("Database schema is up to date.")

    @app.cli.command("create-merchant")
    @click.option("--name", required=True)
    @click.option("--owner-email", required=True)
    @click.option("--password", required=True)
    def create_merchant_command(name, owner_email, password):
        """Create a company with its owner; print the company id and new API keys."""
        from portal.access.merchants import create_merchant

        init_schema()
        with db.connection_context():
            company, secret, publishable = create_merchant(name, owner_email, password)
        click.echo(f"company_id:      {company.id}")
        click.echo(f"secret key:      {secret}")
        click.echo(f"publishable key: {publishable}")
        click.echo("Keys are shown once; store them now.")

    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Create the Northwind Studio demo company (once); print fresh keys and sign-in details."""
        from portal.cli.demo import seed_demo, summary_lines

        # Demo customers and a known owner email do not belong in a real deployment.
        if app.config["PORTAL_ENV"] == "production":
            raise click.ClickException("seed-demo is for development; PORTAL_ENV is production.")
        init_schema()
        with db.connection_context():
            seed = seed_demo(env=app.config["PORTAL_ENV"])
        for line in summary_lines(seed, app.config["PORTAL_BASE_URL"]):
            click.echo(line)

    @app.cli.command("run-billing")
    @click.option("--loop", is_flag=True, help="Keep running, one pass per interval.")
    @click.option("--interval", default=60, show_default=True, help="Seconds between passes.")
    def run_billing_command(loop, interval):
        """Renew due subscriptions, end scheduled cancellations, retry failed payments, warn
        about expiring cards, expire finished discounts."""
        import time

        from portal.billing.runner import run_billing
        from portal.mail import wakeup
        from portal.mail.outbox import QUEUED
        from portal.webhooks import delivery as webhooks
        from portal.webhooks.events import QUEUED as QUEUED_WEBHOOKS

        while True:
            token, hooks_token = QUEUED.set([]), QUEUED_WEBHOOKS.set([])
            try:
                with db.connection_context():
                    result = run_billing()
                queued, hooks = QUEUED.get(), QUEUED_WEBHOOKS.get()
            finally:
                QUEUED.reset(token)
                QUEUED_WEBHOOKS.reset(hooks_token)
            # Wake the worker for the e-mails and webhooks of this pass; a delivery thread
            # only with --loop, as this process ends right after a single pass (which then
            # delivers its webhooks itself: no serving process may be polling for them).
            background = loop or app.config["PORTAL_MAIL_DELIVERY"] == "worker"
            if queued and background:
                wakeup.wake(app)
            if hooks and background:
                webhooks.wake(app)
            elif hooks:
                with db.connection_context():
                    webhooks.deliver_due(webhooks.worker_name("cli"))
            click.echo(result.summary())
            for line in result.errors:
                click.echo(f"  error: {line}", err=True)
            if not loop:
                if result.errors:
                    raise SystemExit(1)
                break
            time.sleep(interval)
