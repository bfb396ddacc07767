"""Command line: ``flask --app service.app migrate | seed``, or ``annotation-store ...``."""

from __future__ import annotations

from pathlib import Path

import click
import flask
from flask.cli import FlaskGroup, with_appcontext

from service import migrate as migrations
from service.errors import DomainError
from service.formats import native
from service.paths import project_directory
from service.services import api_keys, corpus, label_schema


def register(app: flask.Flask) -> None:
    app.cli.add_command(migrate_command)
    app.cli.add_command(seed_command)
    app.cli.add_command(revision_command)
    app.cli.add_command(import_command)
    app.cli.add_command(keys_group)


@click.command("migrate")
@with_appcontext
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def migrate_command(revision: str) -> None:
    """Apply the database migrations (a release step)."""
    engine = flask.current_app.extensions["db"].engine
    migrations.upgrade(engine, revision)
    click.echo(
        f"database at revision {migrations.head_revision() if revision == 'head' else revision}"
    )


@click.command("revision")
@with_appcontext
@click.option("-m", "--message", required=True, help="What the migration does.")
def revision_command(message: str) -> None:
    """Write a new migration from the models (for developers)."""
    migrations.new_revision(flask.current_app.extensions["db"].engine, message)


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Load the project's seed corpus (seeds/). Running it again changes nothing."""
    _import(project_directory("seeds", corpus.MANIFEST), actor="seed")


@click.command("import")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--as",
    "actor",
    default="import",
    show_default=True,
    help="Name recorded as created_by of what is loaded.",
)
def import_command(path: Path, actor: str) -> None:
    """Load a folder of corpus files (*.txt), with a manifest.json and bundles
    (annotations/<name>.bundle.json) if it has them."""
    _import(path, actor=actor)


def _import(folder: Path, *, actor: str) -> None:
    session = flask.current_app.extensions["db"].write_sessions()
    with session:
        schema = label_schema.current(session)
        try:
            reports = corpus.import_folder(session, folder, actor=actor)
        except corpus.CorpusError as error:
            session.rollback()
            raise click.ClickException(str(error)) from None
        session.commit()
    click.echo(f"label schema version {schema.version}")
    for report in reports:
        state = "created" if report.document_created else "already stored"
        click.echo(
            f"{report.external_id}: document {report.document_id} {state}; "
            f"annotations {report.annotations.created} created, "
            f"{report.annotations.matched} already stored; "
            f"links {report.links.created} created, {report.links.matched} already stored"
        )


@click.group("keys")
def keys_group() -> None:
    """Manage API keys (AUTH_MODE=apikey)."""


@keys_group.command("create")
@click.option("--name", required=True, help="Who uses the key; becomes created_by.")
@click.option(
    "--role", required=True, type=click.Choice(api_keys.ROLES), help="What the key may do."
)
@with_appcontext
def keys_create(name: str, role: str) -> None:
    """Create a key and print its secret, once, alone on the last line."""
    session = flask.current_app.extensions["db"].write_sessions()
    with session:
        try:
            new = api_keys.create(session, name, role)
        except DomainError as error:
            raise click.ClickException(error.detail) from None
        session.commit()
    click.echo(f"created key {name!r} with role {role}; the secret below is shown only once:")
    click.echo(new.secret)


@keys_group.command("list")
@with_appcontext
def keys_list() -> None:
    """List keys: name, role, created, revoked."""
    session = flask.current_app.extensions["db"].sessions()
    with session:
        for key in api_keys.list_all(session):
            revoked = f"revoked {native.timestamp(key.revoked_at)}" if key.revoked_at else "active"
            click.echo(
                f"{key.name}\t{key.role}\tcreated {native.timestamp(key.created_at)}\t{revoked}"
            )


@keys_group.command("revoke")
@click.option("--name", required=True, help="The key to revoke.")
@with_appcontext
def keys_revoke(name: str) -> None:
    """Revoke a key: it stops working at once."""
    session = flask.current_app.extensions["db"].write_sessions()
    with session:
        try:
            api_keys.revoke(session, api_keys.find_by_name(session, name))
        except DomainError as error:
            raise click.ClickException(error.detail) from None
        session.commit()
    click.echo(f"revoked key {name!r}")


def main() -> None:
    from service.app import create_app

    FlaskGroup(create_app=create_app)()
