"""``etapalvelu demo``: the whole system on one machine with no set-up.

An embedded MQTT broker (amqtt on loopback, production's identities and grants), the cloud
on a SQLite file in the data folder (the same ``var/`` the other commands use by default), a
simulated room agent and room terminal (video) for every room of the pilot registry, demo
staff of every role, and a development-only identity provider for third parties.
Telemetry history stays off unless ETP_INFLUX_URL is set.
"""
from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

DEMO_PASSWORD = "etapalvelu-demo"  # of the demo's staff only; printed at start
# username: (role, organisation, sites)
DEMO_STAFF = {
    "demo-advisor": ("advisor", "porvoo", ["porvoo"]),
    "demo-expert": ("expert", "kela", []),
    "demo-support": ("support", "supplier", []),  # the supplier's service desk
    "demo-admin": ("admin", None, []),
}


def demo_environment(host: str, port: int, data: Path) -> dict[str, str]:
    """The settings the demo gives the cloud unless the environment says otherwise: its data
    folder, and its own address for the links in notifications and for browsers' origin."""
    public = f"http://{host}:{port}"
    return {
        "ETP_DATABASE_URL": f"sqlite:///{data}/etapalvelu.sqlite",
        "ETP_INCIDENTS_PUBLIC_URL": public,
        "ETP_BOOKINGS_PUBLIC_URL": public,  # the feedback links of the (logged) SMS
        "ETP_WEB_PUBLIC_URL": public,
        "ETP_ACCOUNTS_COOKIE_SECURE": "false",  # the demo serves plain HTTP on loopback
        "ETP_SESSIONS_COOKIE_SECURE": "false",
    }


ALL_DAY = {"mon-sun": ["00:00-24:00"]}


def round_the_clock(data: Path) -> dict[str, str]:
    """The pilot's registry and booking catalogue with every site open, and every authority's
    experts serving, all day on every day, holidays included, so the demo can be tried at any
    hour: written to ``data``; returns the settings that point the cloud at them."""
    import yaml

    from cloud.bookings.catalogue import CATALOGUE_FILE
    from cloud.registry import PILOT_REGISTRY

    registry = yaml.safe_load(PILOT_REGISTRY.read_text(encoding="utf-8"))
    for site in registry["sites"].values():
        site.pop("building_hours", None)
        site.update(service_hours=ALL_DAY, observes_holidays=False)
    catalogue = yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))
    for authority, table in catalogue.get("experts", {}).items():
        experts = max(int(span.rpartition("x")[2]) for spans in table.values() for span in spans)
        catalogue["experts"][authority] = {"mon-sun": [f"00:00-24:00 x {experts}"]}
    files = {"ETP_REGISTRY_FILE": (data / "demo-registry.yaml", registry),
             "ETP_BOOKINGS_CATALOGUE_FILE": (data / "demo-catalogue.yaml", catalogue)}
    for path, content in files.values():
        path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
    return {name: str(path) for name, (path, _) in files.items()}


def start_identity_provider(public: str, stack: list):
    """DEVELOPMENT ONLY: the local OIDC provider that stands in for the national
    e-identification for the demo's third parties (it approves everyone at once, with the
    assurance level "high"); the cloud's session settings point at it."""
    from etapalvelu.dev_identity import Provider

    provider = Provider("demo-sessions", "development-only-demo-sessions-secret").__enter__()
    stack.append(lambda: provider.__exit__(None, None, None))
    provider.claims = {"acr": "http://ftn.ficora.fi/2017/loa3", "name": "Demo Tulkki"}
    for name, value in {"ETP_SESSIONS_OIDC_ISSUER": provider.issuer,
                        "ETP_SESSIONS_OIDC_CLIENT_ID": provider.client_id,
                        "ETP_SESSIONS_OIDC_CLIENT_SECRET": provider.client_secret,
                        "ETP_SESSIONS_OIDC_REDIRECT_URL":
                            f"{public}/api/sessions/invite/callback"}.items():
        os.environ.setdefault(name, value)
    return provider


def add_demo_staff(sessions, registry) -> None:
    """Create the demo's staff of every role unless they exist."""
    from sqlalchemy import select

    from cloud.accounts import service
    from cloud.accounts.models import Staff

    with sessions() as session:
        for username, (role, organisation, sites) in DEMO_STAFF.items():
            if session.scalar(select(Staff.id).where(Staff.username == username)) is None:
                service.create_staff(session, registry, username=username,
                                     display_name=username, role=role,
                                     organisation=organisation, sites=sites,
                                     password=DEMO_PASSWORD, now=datetime.now(UTC))
        session.commit()


# the demo's visits at Porvoo, by pseudonym: what the sample advisor's console shows
DEMO_VISITS = (("kela-benefits", "Asiakas A"), ("dvv-population", "Asiakas B"),
               ("vero-taxation", "Asiakas C"), ("kela-benefits", "Asiakas D"))


DEMO_INTERPRETER = "tulkki@example.invalid"  # the first visit's sign-language interpreter
INVITATIONS: list[str] = []  # the interpreter invitations the seed queued, for the banner


def add_demo_bookings(sessions, registry, *, site: str = "porvoo", now: datetime | None = None,
                      days_ahead: int = 7, base_url: str = "http://127.0.0.1:8080") -> int:
    """Book the demo's visits at ``site`` on the first day from today that still has free
    times (today unless the service has closed), unless that day has bookings already;
    the first has a Finnish Sign Language interpreter by video, whose invitation is queued
    (its link also in ``INVITATIONS``). Returns how many were booked."""
    from datetime import timedelta

    from cloud.bookings import service
    from cloud.sites.hours import HELSINKI, local_instant

    now = now or datetime.now(UTC)
    from cloud.bookings.settings import BookingSettings

    rules = BookingSettings().rules(registry)
    today = now.astimezone(HELSINKI).date()
    with sessions() as session:
        for offset in range(days_ahead):
            day = today + timedelta(days=offset)
            free = service.availability(session, rules, site=site, service="kela-benefits",
                                        first=day, last=day, now=now, minutes=30)
            if free:
                break
        else:
            return 0
        if service.bookings_between(session, start=local_instant(day, 0),
                                    end=local_instant(day, 1440), site=site):
            return 0
        booked = 0
        for (service_id, pseudonym), visit in zip(DEMO_VISITS, free):
            try:
                booking = service.create_booking(
                    session, rules, site=site, service=service_id, start=visit.start,
                    minutes=30, channel="phone_service",
                    customer=service.Customer(name=pseudonym), actor="demo", now=now)
                if not booked:
                    _with_interpreter(session, rules, booking, base_url, now)
                booked += 1
            except service.BookingRefused:  # that authority has no expert free then
                continue
        session.commit()
    return booked


def _with_interpreter(session, rules, booking, base_url: str, now: datetime) -> None:
    """The demo's interpreted visit: Finnish Sign Language by video, invited at once."""
    from cloud.bookings import service
    from cloud.bookings.interpretation import Interpreter
    from cloud.flows.interpretation import invite_interpreter
    from cloud.sessions.settings import SessionSettings

    service.need_interpreter(session, booking=booking, interpreter=Interpreter(
        language="fse", mode="video", email=DEMO_INTERPRETER))
    invite_interpreter(session, rules, SessionSettings(), booking=booking, actor="demo",
                       now=now, link=lambda token: INVITATIONS.append(
                           f"{base_url}/sessions/interpreter/{token}") or INVITATIONS[-1])


def _agents(registry, broker_url: str, data: Path, users: dict, cloud_url: str) -> list:
    from cloud.probe.settings import ProbeSettings
    from cloud.probe.tokens import room_token
    from edge.agent import Agent
    from edge.config import AgentConfig
    from provisioning.identities import agent_name

    probe_secret = ProbeSettings().secret.get_secret_value()

    agents = []
    for site, room_id, room in registry.rooms():
        me = users[agent_name(site, room_id)]
        config = AgentConfig(
            site=site, room=room_id,
            broker={"url": broker_url, "keepalive_s": 5, "username": me.username,
                    "password": me.password},
            outbox={"path": data / f"outbox-{site}-{room_id}.sqlite"},
            intervals={"health_s": 5, "telemetry_s": 5},
            devices=[{"type": device, "backend": "sim"} for device in room.devices],
            # each room probes its link against the demo's own cloud (a failed first try,
            # while the cloud still loads, is tried again half a minute later)
            probe={"url": cloud_url, "token": room_token(probe_secret, site, room_id),
                   "every_s": 300, "pings": 100} if "network" in room.devices else None,
        )
        agents.append(Agent(config).start())
    return agents


def _banner(host: str, port: int, broker_url: str) -> str:
    from cloud.sessions.service import room_token
    from cloud.sessions.settings import SessionSettings

    staff = "\n".join(f"  {name:<13} {role}" + (f" ({org})" if org else "")
                      for name, (role, org, _) in DEMO_STAFF.items())
    kiosk = (f"http://{host}:{port}/sessions/terminal?site=porvoo&room=r1"
             f"#token={room_token(SessionSettings(), site='porvoo', room='r1')}")
    return f"""
Status page: http://{host}:{port}/   (log in as one of the demo's staff)
Consoles:    http://{host}:{port}/console   (demo-advisor: Porvoo's day, rooms and call alerts)
Room terminal (Porvoo, r1; the customer's kiosk page): {kiosk}
API docs:    http://{host}:{port}/docs
Broker:      {broker_url}  (embedded, loopback, production's grants; production uses Mosquitto)

Demo staff, password "{DEMO_PASSWORD}":
{staff}

From a second terminal, inject a fault and clear it (sent through the cloud's API):
  .venv/bin/etapalvelu sim fault porvoo r1 doccam unplugged --api http://{host}:{port}
  .venv/bin/etapalvelu sim clear porvoo r1 doccam --api http://{host}:{port}
  .venv/bin/etapalvelu sim press porvoo r1     (rings demo-advisor's console; sim cancel clears it)

A video session: as demo-advisor open http://{host}:{port}/sessions/new, start a session in a
room (its simulated terminal joins at once and sends generated video), then in a second tab
log in as demo-expert and open the session's page. Third parties log in at the demo's
DEVELOPMENT-ONLY identity provider, which approves everyone.
Ctrl-C stops everything.
"""


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address of the web UI")
@click.option("--port", default=8080, show_default=True, help="port of the web UI and API")
@click.option("--mqtt-port", default=1883, show_default=True, help="port of the embedded broker")
@click.option("--real-hours", is_flag=True,
              help="the pilot's opening hours and holidays (default: open round the clock, so "
                   "the demo works at any hour)")
@click.option("--data", default=lambda: os.environ.get("ETP_DATA_DIR", "var"),
              show_default="$ETP_DATA_DIR or var", type=click.Path(path_type=Path),
              help="folder of the SQLite file (the one `etapalvelu cloud ...` uses by default) "
                   "and of the agents' outboxes")
def demo(host: str, port: int, mqtt_port: int, data: Path, real_hours: bool) -> None:
    """Run the broker, the cloud and the three pilot rooms locally; Ctrl-C stops."""
    from etapalvelu.logs import setup_logging

    setup_logging("info", "demo")
    for noisy in ("amqtt", "alembic", "transitions", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from cloud.web.serve import check_port_free

    check_port_free(host, port)
    check_port_free("127.0.0.1", mqtt_port)
    try:
        _run(host, port, mqtt_port, data, real_hours)
    except KeyboardInterrupt:  # Ctrl-C while starting: everything started was stopped
        click.echo("stopped", err=True)


def _run(host: str, port: int, mqtt_port: int, data: Path, real_hours: bool = False) -> None:
    from cloud.registry import load_registry
    from cloud.settings import CloudSettings
    from etapalvelu.demo_broker import (
        CLOUD,
        EmbeddedBroker,
        broker_config,
        demo_users,
        write_credentials,
    )

    data.mkdir(parents=True, exist_ok=True)
    hours = {} if real_hours else round_the_clock(data)
    for name, value in {**demo_environment(host, port, data), **hours}.items():
        os.environ.setdefault(name, value)
    broker_url = f"mqtt://127.0.0.1:{mqtt_port}"
    registry = load_registry(CloudSettings().registry_file)
    users = demo_users(registry)
    cloud_me = users[CLOUD]
    settings = CloudSettings(broker_url=broker_url, broker_username=CLOUD,
                             broker_password=cloud_me.password, mqtt_protocol="3.1.1",
                             ingest_partition="0/1", spool_file=data / "telemetry-spool.sqlite")
    stack: list = []
    try:
        write_credentials(users, data)
        broker = EmbeddedBroker(broker_config(mqtt_port), users).start()
        stack.append(broker.stop)
        _serve(settings, registry, users, host, port, broker_url, data, stack)
    finally:
        logging.getLogger("amqtt").setLevel(logging.CRITICAL)  # its shutdown chatter
        for stop in reversed(stack):
            stop()


def _serve(settings, registry, users, host, port, broker_url, data, stack) -> None:
    from cloud.db import make_engine, make_sessionmaker, migrate
    from cloud.services import start_services, stop_services
    from cloud.sessions.settings import SessionSettings
    from cloud.web.app import create_app
    from cloud.web.serve import make_server
    from etapalvelu.demo_router import mount_demo_commands
    from etapalvelu.demo_terminal import SimulatedTerminals

    # rooms come up while the cloud loads
    agents = _agents(registry, broker_url, data, users, f"http://{host}:{port}")
    stack.append(lambda: [agent.stop() for agent in agents])
    click.echo("preparing the database ...", err=True)
    migrate(settings.database_url)
    engine = make_engine(settings.database_url, pool=settings.database_pool)
    stack.append(engine.dispose)
    sessions = make_sessionmaker(engine)  # the services' engine; the API keeps its own
    add_demo_staff(sessions, registry)
    add_demo_bookings(sessions, registry, base_url=f"http://{host}:{port}")
    services = start_services(settings, registry, sessions=sessions)
    stack.append(lambda: stop_services(services))
    start_identity_provider(f"http://{host}:{port}", stack)
    app = create_app(settings, registry=registry)
    mount_demo_commands(app, broker_url=broker_url, username=settings.broker_username,
                        password=settings.broker_password.get_secret_value())
    terminals = SimulatedTerminals(f"http://{host}:{port}", [
        (site, room) for site, room, _ in registry.rooms()], settings=SessionSettings()).start()
    stack.append(terminals.stop)
    click.echo(_banner(host, port, broker_url), err=True)
    for link in INVITATIONS:  # the demo sends no mail: its outbox logs it (notify.email_logged)
        click.echo(f"Interpreter's invitation (Finnish Sign Language, by video; the e-mail "
                   f"to {DEMO_INTERPRETER}): {link}", err=True)
    make_server(app, host=host, port=port).run()


if __name__ == "__main__":
    sys.exit(demo())
