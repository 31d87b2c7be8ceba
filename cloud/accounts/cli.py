"""``etapalvelu cloud accounts``: the first administrator, staff import, passwords."""
from __future__ import annotations

import csv
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
import yaml
from sqlalchemy import select

from cloud.accounts import service
from cloud.accounts.access import ADMIN
from cloud.accounts.models import Staff
from cloud.db import make_engine, make_sessionmaker, migrate
from cloud.registry import load_registry
from cloud.settings import CloudSettings

FIELDS = ("username", "display_name", "role", "organisation", "sites", "email", "oidc_subject")


def _store():
    settings = CloudSettings()
    migrate(settings.database_url)
    return settings, make_sessionmaker(make_engine(settings.database_url))


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("password", hide_input=True, confirmation_prompt=True)


@click.group()
def accounts() -> None:
    """Staff accounts of the cloud (database from ETP_DATABASE_URL)."""


@accounts.command("create-admin")
@click.option("--username", required=True)
@click.option("--display-name", default="Administrator", show_default=True)
@click.option("--email")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def create_admin(username: str, display_name: str, email: str | None,
                 password_stdin: bool) -> None:
    """Create an administrator with a local password (at least 12 characters)."""
    settings, sessions = _store()
    password = _password(password_stdin)
    with sessions() as session:
        try:
            service.create_staff(session, load_registry(settings.registry_file),
                                 username=username, display_name=display_name, role=ADMIN,
                                 password=password, email=email,
                                 now=datetime.now(UTC))
        except service.AccountError as error:
            raise click.ClickException(str(error)) from None
        session.commit()
    click.echo(f"administrator {username} created")


@accounts.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def set_password(username: str, password_stdin: bool) -> None:
    """Set a local password for a member of staff; their sessions end."""
    _, sessions = _store()
    password = _password(password_stdin)
    with sessions() as session:
        staff = session.scalar(select(Staff).where(Staff.username == username))
        if staff is None:
            raise click.ClickException(f"no staff {username!r}")
        try:
            service.set_password(session, staff=staff, password=password)
            session.commit()
        except service.AccountError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"password of {username} set")


def read_staff_file(path: Path) -> list[dict]:
    """Rows of a staff file: YAML (a list of mappings) or CSV with a header of ``FIELDS``;
    ``sites`` is a list in YAML and space-separated in CSV."""
    if path.suffix.lower() == ".csv":
        with open(path, newline="", encoding="utf-8") as handle:
            rows = [dict(row) for row in csv.DictReader(handle)]
        for row in rows:
            row["sites"] = (row.get("sites") or "").split()
    else:
        rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    unknown = {key for row in rows for key in row} - set(FIELDS)
    if unknown:
        raise click.ClickException(f"unknown columns {sorted(unknown)}; known: {FIELDS}")
    return [{k: (v or None) if k != "sites" else (v or []) for k, v in row.items()}
            for row in rows]


@accounts.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--issuer", help="OIDC issuer the oidc_subject values belong to")
@click.pass_context
def import_staff(ctx: click.Context, path: Path, issuer: str | None) -> None:
    """Create staff from a YAML or CSV file, all or none (a refused row creates nobody);
    existing usernames are skipped. Imported staff log in with OIDC, or get a password with
    ``set-password``. A support agent's party is checked against the parties the cloud's
    command hands over (``support_parties`` of the context: the incidents' matrix)."""
    settings, sessions = _store()
    registry = load_registry(settings.registry_file)
    parties_of = (ctx.find_object(dict) or {}).get("support_parties")
    parties = parties_of(registry) if parties_of else None
    created = skipped = 0
    with sessions() as session:
        for row in read_staff_file(path):
            if session.scalar(select(Staff.id).where(Staff.username == row["username"])):
                skipped += 1
                continue
            try:
                service.create_staff(session, registry, now=datetime.now(UTC),
                                     oidc_issuer=issuer if row.get("oidc_subject") else None,
                                     parties=parties, **row)
            except service.AccountError as error:
                raise click.ClickException(f"{row['username']}: {error}") from None
            created += 1
        session.commit()
    click.echo(f"created={created} skipped={skipped}")
