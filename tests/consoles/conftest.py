"""The consoles' world: the real app on a migrated SQLite store, advisors of Porvoo (two) and
Imatra, experts of Kela and Vero, today's bookings at both sites, and Porvoo's room in the
twin. The app's clock stands at Monday 16 November 2026, 10:10 in Helsinki."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloud.accounts import service as accounts
from cloud.bookings import service as bookings
from cloud.bookings.service import BookingRules, Customer
from cloud.sites.hours import HELSINKI
from cloud.twin.models import AgentPresence, DeviceState
from tests.accounts.conftest import PASSWORD, make_app

NOW = datetime(2026, 11, 16, 8, 10, tzinfo=UTC)  # Monday 10:10 in Helsinki
STAFF = {
    "adv-porvoo": ("advisor", "porvoo", ["porvoo"]),
    "adv-porvoo2": ("advisor", "porvoo", ["porvoo"]),
    "adv-imatra": ("advisor", "imatra", ["imatra"]),
    "adv-both": ("advisor", "porvoo", ["porvoo", "imatra"]),
    "exp-kela": ("expert", "kela", []),
    "exp-vero": ("expert", "vero", []),
}
# (site, service, local hh:mm, minutes, customer pseudonym)
TODAY = [
    ("porvoo", "kela-benefits", "10:30", 30, "Asiakas A"),
    ("porvoo", "dvv-population", "11:30", 30, "Asiakas B"),
    ("porvoo", "vero-taxation", "13:00", 60, "Asiakas C"),
    ("imatra", "kela-benefits", "10:30", 30, "Asiakas D"),
    ("imatra", "poliisi-permits", "11:00", 30, "Asiakas E"),
]


def local(hhmm: str, day=NOW) -> datetime:
    """Today's Helsinki wall time ``hh:mm`` as an instant."""
    hours, minutes = map(int, hhmm.split(":"))
    return day.astimezone(HELSINKI).replace(hour=hours, minute=minutes, second=0,
                                            microsecond=0)


def seed_bookings(sessions, registry, booked: list = TODAY) -> dict[str, int]:
    """Book the visits (a working day ahead, as a phone service would); customer -> id."""
    rules = BookingRules.load(registry)
    ids = {}
    with sessions() as session:
        for site, service_id, hhmm, minutes, name in booked:
            booking = bookings.create_booking(
                session, rules, site=site, service=service_id, start=local(hhmm),
                minutes=minutes, channel="phone_service", customer=Customer(name=name),
                actor="seed", now=NOW - timedelta(days=3))
            ids[name] = booking.id
        session.commit()
    return ids


def seed_twin(sessions, site: str = "porvoo", room: str = "r1", online: bool = True,
              states: dict | None = None) -> None:
    """The room as the ingest would have left it: the agent online, devices well."""
    states = states or {"terminal": "ok", "doccam": "ok", "network": "ok", "callbutton": "ok",
                        "occupancy": "ok"}
    with sessions() as session:
        session.add(AgentPresence(site=site, room=room, online=online, since=NOW,
                                  updated_at=NOW))
        for device, state in states.items():
            session.add(DeviceState(site=site, room=room, device=device, state=state,
                                    seq_count=0, duplicates=0, state_since=NOW,
                                    last_seen_at=NOW))
        session.commit()


@pytest.fixture
def app(tmp_path, migrated_file):
    """The app with the consoles' staff, today's bookings and Porvoo's room."""
    app = make_app(tmp_path, NOW, migrated_file)
    with app.state.sessionmaker() as session:
        for username, (role, org, sites) in STAFF.items():
            accounts.create_staff(session, app.state.registry, username=username,
                                  display_name=username, role=role, organisation=org,
                                  sites=sites, password=PASSWORD, now=NOW)
        session.commit()
    app.state.booking_ids = seed_bookings(app.state.sessionmaker, app.state.registry)
    seed_twin(app.state.sessionmaker)
    return app


@pytest.fixture(scope="session")
def migrated_file(tmp_path_factory):
    """A SQLite file migrated with every domain's revisions."""
    from cloud.db import migrate

    path = tmp_path_factory.mktemp("template") / "cloud.sqlite"
    migrate(f"sqlite:///{path}")
    return path
