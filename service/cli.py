"""Command line: ``flask --app service.app migrate | seed``, or ``annotation-store ...``."""

from __future__ import annotations

import click
import flask
from flask.cli import FlaskGroup

from service import migrate as migrations
from service.services import label_schema


def register(app: flask.Flask) -> None:
    app.cli.add_command(migrate_command)
    app.cli.add_command(seed_command)
    app.cli.add_command(revision_command)


@click.command("migrate")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def migrate_command(revision: str) -> None:
    """Apply the database migrations (a release step)."""
    engine = flask.current_app.extensions["db"].engine
    migrations.upgrade(engine, revision)
    click.echo(
        f"database at revision {migrations.head_revision() if revision == 'head' else revision}"
    )


@click.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does.")
def revision_command(message: str) -> None:
    """Write a new migration from the models (for developers)."""
    migrations.new_revision(flask.current_app.extensions["db"].engine, message)


@click.command("seed")
def seed_command() -> None:
    """Load the seed data. Running it again changes nothing."""
    session = flask.current_app.extensions["db"].sessions()
    with session:
        schema = label_schema.current(session)
        click.echo(f"label schema at version {schema.version}")


def main() -> None:
    from service.app import create_app

    FlaskGroup(create_app=create_app)()
