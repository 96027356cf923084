"""Flask commands: init-db, create-merchant, seed-demo, run-billing, deliver-mail."""

import click
from flask import Flask

from portal.db import db
from portal.models import MODELS


def init_schema() -> None:
    """Create missing tables and indexes; safe to run again."""
    with db.connection_context():
        db.create_tables(MODELS, safe=True)


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
        from portal.merchants import create_merchant

        init_schema()
        with db.connection_context():
            company, secret, publishable = create_merchant(name, owner_email, password)
        click.echo(f"company_id:      {company.id}")
        click.echo(f"secret key:      {secret}")
        click.echo(f"publishable key: {publishable}")
        click.echo("Keys are shown once; store them now.")
