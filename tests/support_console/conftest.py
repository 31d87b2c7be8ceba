"""The real app for the incident pages, on a migrated SQLite file or a PostgreSQL database,
with a settable clock, staff of every party the pages are tested with, and incidents whose
SLA clocks stand where the tests need them."""
from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from cloud.accounts import service as accounts
from cloud.accounts.settings import AccountSettings
from cloud.db import migrate
from cloud.incidents import service
from cloud.incidents.settings import IncidentSettings
from cloud.incidents.views import routing_of
from cloud.settings import CloudSettings
from cloud.web.app import create_app
from tests.accounts.conftest import ADMIN_TOKEN, PASSWORD, Clock

# username: (role, organisation = the party id in the responsibility matrix, sites)
STAFF = {
    "adv-porvoo": ("advisor", "porvoo", ["porvoo"]),
    "adv-imatra": ("advisor", "imatra", ["imatra"]),
    "exp-kela": ("expert", "kela", []),
    "sup-desk": ("support", "supplier", []),
    "sup-property": ("support", "porvoo-property", []),
    "admin": ("admin", None, []),
}
# Monday 10 November 2025, 08:10 in Helsinki: the supplier's desk opened at 08:00
NOW = datetime(2025, 11, 10, 6, 10, tzinfo=UTC)
HELSINKI_OFFSET = timedelta(hours=2)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """A SQLite file migrated once; each SQLite test copies it."""
    path = tmp_path_factory.mktemp("template") / "cloud.sqlite"
    migrate(f"sqlite:///{path}")
    return path


def make_app(url: str):
    """The app on the store at ``url``, its clock at ``NOW``, the staff added, the console
    refreshing every second."""
    app = create_app(CloudSettings(database_url=url, admin_token=ADMIN_TOKEN))
    app.state.account_settings = AccountSettings(cookie_secure=False)
    app.state.clock = Clock(NOW)
    app.state.incident_settings = IncidentSettings(console_refresh_s=1.0)
    with app.state.sessionmaker() as session:
        for username, (role, org, sites) in STAFF.items():
            accounts.create_staff(session, app.state.registry, username=username,
                                  display_name=username, role=role, organisation=org,
                                  sites=sites, password=PASSWORD, now=NOW)
        session.commit()
    return app


@pytest.fixture
def sqlite_app(tmp_path, migrated_template):
    """The app on a copy of the migrated SQLite file."""
    shutil.copy(migrated_template, tmp_path / "cloud.sqlite")
    return make_app(f"sqlite:///{tmp_path / 'cloud.sqlite'}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request):
    """The app on SQLite, then on PostgreSQL (for what the SLA clock shows)."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_app")
    url = request.getfixturevalue("postgres").create_database(f"t_{uuid.uuid4().hex[:12]}")
    migrate(url)
    return make_app(url)


def routing(app) -> service.Routing:
    """The app's routing (matrix, registry, settings), as its pages and API use it."""
    return routing_of(app)


def helsinki(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of November 2025 given in Helsinki's wall time (UTC+2 then)."""
    return datetime(2025, 11, day, hour, minute, tzinfo=UTC) - HELSINKI_OFFSET


def incident(app, *, category: str, site: str = "porvoo", opened: datetime,
             notified: datetime | None = None, severity: str = "major", owner=None,
             summary: str = "Testi") -> int:
    """Open an incident through the service; ``notified``: the party's channel accepted it
    then, and the clock's due time is set by the party's own SLA clock."""
    rules = routing(app)
    with app.state.sessionmaker() as session:
        row = service.open_incident(session, routing=rules, site=site, room="r1", device=None,
                                    rule=f"reported_{category}", category=category,
                                    owner=owner, severity=severity, summary=summary,
                                    manual=True, actor="adv-porvoo", now=opened)
        if notified is not None:
            party = rules.matrix.party(row.party)
            row.state, row.notified_at = "notified", notified
            row.due_at = rules.matrix.clock(row.party).due(notified, party.response_time)
        session.commit()
        return row.id


def advance(app, by: timedelta) -> None:
    """Move the app's clock on."""
    clock: Clock = app.state.clock
    clock.now += by
