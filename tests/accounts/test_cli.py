"""The accounts command line against a real SQLite store."""
from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from cloud.accounts.cli import accounts
from cloud.accounts.models import Staff
from cloud.cli import cloud
from cloud.db import make_engine, make_sessionmaker

STAFF_CSV = """username,display_name,role,organisation,sites,email,oidc_subject
adv-two,Advisor,advisor,porvoo,porvoo imatra,adv@example.invalid,
exp-kela-9,Expert,expert,kela,,,sub-9
"""
# the cloud's command hands accounts the matrix's parties: no incident is routed to "elisa";
# a refused row creates nobody, not even the valid one before it
SUPPORT_CSV = """username,display_name,role,organisation,sites,email,oidc_subject
sup-v,Desk,support,valtori,,,
sup-x,Supplier,support,elisa,,,
"""


def test_first_admin_and_staff_import(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("ETP_DATABASE_URL", url)
    runner = CliRunner()
    made = runner.invoke(accounts, ["create-admin", "--username", "root", "--password-stdin"],
                         input="a long enough password\n")
    assert made.exit_code == 0, made.output
    short = runner.invoke(accounts, ["create-admin", "--username", "r2", "--password-stdin"],
                          input="short\n")
    assert short.exit_code != 0 and "12 characters" in short.output
    (tmp_path / "staff.csv").write_text(STAFF_CSV, encoding="utf-8")
    imported = runner.invoke(accounts, ["import", str(tmp_path / "staff.csv"),
                                        "--issuer", "https://idp.example.invalid"])
    assert imported.exit_code == 0 and "created=2 skipped=0" in imported.output
    again = runner.invoke(accounts, ["import", str(tmp_path / "staff.csv")])
    assert "created=0 skipped=2" in again.output
    (tmp_path / "support.csv").write_text(SUPPORT_CSV, encoding="utf-8")
    unrouted = runner.invoke(cloud, ["accounts", "import", str(tmp_path / "support.csv")])
    assert unrouted.exit_code != 0 and "responsibility matrix" in unrouted.output
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        rows = {s.username: s for s in session.scalars(select(Staff))}
    engine.dispose()
    assert "sup-v" not in rows and "sup-x" not in rows
    assert rows["root"].role == "admin" and rows["root"].password_hash.startswith("$argon2")
    assert rows["adv-two"].sites == ["imatra", "porvoo"]
    assert (rows["exp-kela-9"].oidc_issuer, rows["exp-kela-9"].oidc_subject) == \
        ("https://idp.example.invalid", "sub-9")
