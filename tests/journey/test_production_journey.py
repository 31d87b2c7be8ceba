"""One journey through the production commands.

Mosquitto runs the generated TLS listener and dynamic-security file; the cloud role writes the
env files and units into a temporary root; ingest, engine, notify, schedule and api run as
separate processes (each unit's own ``ExecStart``, with its ``EnvironmentFile``s) on
PostgreSQL; a room agent runs ``etapalvelu edge run`` with its generated credentials. Then a
document camera fault becomes an incident, an e-mail reaches the SMTP relay (aiosmtpd), its
action link acknowledges the incident, and the camera's return resolves it; a booking is
confirmed and reminded, cancelled, and its personal data purged after the retention. Every
wait is short because the settings are (debounce, reminder lead, retention, periods), and at
the end every process stops on SIGTERM with status 0 and hands back what it held.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest
import yaml
from sqlalchemy import select

from cloud.db import make_engine, make_sessionmaker
from cloud.incidents.models import EngineCursor
from cloud.notify.models import OutboxMessage
from cloud.runtime.heartbeat import process_status
from protocol.topics import topic
from provisioning.generate import agent_placement
from provisioning.runner import run_playbook
from tests.fleet.conftest import close, connect, make_fleet, stage_broker
from tests.journey.processes import Processes, Unit, unit_instance
from tests.notify.receivers import SmtpReceiver
from tests.servers import free_port, wait_for

ADMIN_TOKEN = "journey-" + uuid.uuid4().hex
EXECUTABLE = str(Path(sys.executable).with_name("etapalvelu"))
SERVICES = ("etapalvelu-ingest@1", "etapalvelu-engine", "etapalvelu-notify", "etapalvelu-api@1")


@pytest.fixture
def smtp():
    """The organisation's SMTP relay: aiosmtpd recording what it accepts."""
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


def short_timers(smtp_port: int, api_port: int, **more) -> dict:
    """Production settings with every wait of the journey made short."""
    return {"ETP_HEARTBEAT_S": "0.5", "ETP_SCHEDULE_PERIOD_S": "1",
            "ETP_INCIDENTS_OPEN_AFTER_S": "1", "ETP_INCIDENTS_RESOLVE_AFTER_S": "2",
            "ETP_INCIDENTS_TWIN_INTERVAL_S": "1",
            "ETP_INCIDENTS_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
            "ETP_NOTIFY_SMTP_HOST": "127.0.0.1", "ETP_NOTIFY_SMTP_PORT": str(smtp_port),
            "ETP_NOTIFY_POLL_INTERVAL_S": "0.1",
            "ETP_BOOKINGS_RETENTION_DAYS": str(2 / 86400), **more}


def apply_cloud_role(fleet, root: Path, database_url: str, environment: dict) -> None:
    """The cloud playbook on this machine: env files and units under ``root``; the processes
    run from this checkout's environment (the venv install is the cloud-role test's)."""
    result = run_playbook("cloud.yml", fleet.folder, extravars={
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "etp_system": False, "etp_root": "", "cloud_install": False,
        "cloud_run_migrations": False, "cloud_dir": str(root / "etc"),
        "cloud_unit_dir": str(root / "units"), "cloud_state_dir": str(root / "state"),
        "cloud_executable": EXECUTABLE, "cloud_database_url": database_url,
        "cloud_admin_token": ADMIN_TOKEN, "cloud_environment": environment})
    assert result.ok, result.tail


def place_agent(fleet, tmp_path: Path) -> Path:
    """The room's generated files where its generated config names them; the devices are the
    simulated ones (this machine has no camera), everything else as generated."""
    for source, target in agent_placement(fleet.settings, "porvoo", "r1").items():
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(fleet.folder / source, target)
    config_file = Path(fleet.settings.agent_dir) / "agent.yaml"
    config = yaml.safe_load(config_file.read_text())
    config["devices"] = [{**device, "backend": "sim"} for device in config["devices"]]
    config["intervals"] = {"health_s": 1, "telemetry_s": 5}
    config_file.write_text(yaml.safe_dump(config))
    return config_file


class Api:
    """The API replica as an operator's script reaches it (the admin token)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.client = httpx.Client(base_url=self.base, timeout=10,
                                   headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})

    def get(self, path: str, **params) -> dict | list:
        answer = self.client.get(path, params=params)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        return answer.json()

    def post(self, path: str, body: dict | None = None, status: int = 200) -> dict:
        answer = self.client.post(path, json=body)
        assert answer.status_code == status, (path, answer.status_code, answer.text[:300])
        return answer.json()

    def ready(self) -> bool:
        try:
            return self.client.get("/readyz").status_code == 200
        except httpx.TransportError:
            return False


class Command:
    """Commands to the room as the cloud sends them: the API's broker identity over TLS."""

    def __init__(self, fleet) -> None:
        self.client, self.outcome = connect(fleet.settings.broker_port, "cloud.api.1",
                                            fleet.password("cloud.api.1"),
                                            fleet.tls_files("cloud.api.1"),
                                            client_id=f"journey-{uuid.uuid4().hex[:8]}")
        assert self.outcome.connected.is_set(), self.outcome.reason
        self.client.subscribe(topic("porvoo", "r1", "agent", "ack"), qos=1)

    def inject(self, device: str, fault: str) -> None:
        """``cmd/inject_fault`` to the agent; wait for its positive ack."""
        command_id = f"journey-{uuid.uuid4().hex[:12]}"
        payload = orjson.dumps({"v": 1, "ts": int(time.time() * 1000), "seq": 1,
                                "id": command_id, "args": {"device": device, "fault": fault}})
        self.client.publish(topic("porvoo", "r1", "agent", "cmd", "inject_fault"), payload,
                            qos=1)
        with self.outcome.got_message:
            assert self.outcome.got_message.wait_for(lambda: any(
                command_id.encode() in body for _, body in self.outcome.messages), 15), \
                f"no ack of {fault}"
        ack = next(orjson.loads(b) for _, b in self.outcome.messages if command_id.encode() in b)
        assert ack["ok"], ack


def incident_link(body: str, action: str) -> str:
    """The action link of an incident e-mail (Finnish or English template)."""
    label = {"ack": "(?:Kuittaa vastaanotetuksi|Acknowledge)",
             "resolve": "(?:Merkitse korjatuksi|Mark resolved)"}[action]
    return re.search(label + r": (\S+)", body).group(1)


def test_doccam_fault_to_acknowledged_and_resolved_incident_and_a_booking_reminded_then_purged(
        tmp_path, postgres, broker_factory, smtp):
    fleet = make_fleet(tmp_path / "fleet", broker_port=free_port(), broker_bind="127.0.0.1",
                       broker_dir=str(tmp_path / "broker-etc"),
                       agent_dir=str(tmp_path / "agent-etc"),
                       agent_state_dir=str(tmp_path / "agent-state"),
                       cloud_workers={"ingest": 1, "api": 1})
    broker = broker_factory("broker", plain_listener=False, extra_config=stage_broker(fleet))
    broker.port = fleet.settings.broker_port
    broker.start()

    database_url = postgres.create_database(f"journey_{uuid.uuid4().hex[:8]}")
    api_port, root = free_port(), tmp_path / "host"
    timers = short_timers(smtp.port, api_port)
    apply_cloud_role(fleet, root, database_url, {**timers, "ETP_API_PORT": str(api_port)})
    (root / "state").mkdir(exist_ok=True)
    unit = {name: unit_instance(root / "units", name)
            for name in (*SERVICES, "etapalvelu-schedule@1")}
    # ETP_API_PORT is the replica's (worker.env); the generated base port would clash here
    worker_env = root / "etc/cloud.api.1/worker.env"
    worker_env.write_text(worker_env.read_text().replace("ETP_API_PORT=8080",
                                                          f"ETP_API_PORT={api_port}"))

    migrate = subprocess.run([EXECUTABLE, "cloud", "migrate"], capture_output=True, text=True,
                             timeout=120, check=False, env=unit["etapalvelu-engine"].environment())
    assert migrate.returncode == 0, migrate.stderr

    processes = Processes(tmp_path)
    sessions = make_sessionmaker(make_engine(database_url))
    api = Api(api_port)
    try:
        for name in SERVICES:
            processes.start(unit[name])
        wait_for(lambda: processes.assert_running() or api.ready(), 60, "the API ready")
        wait_for(lambda: processes.assert_running() or _all_ready(
            sessions, {"ingest", "engine", "notify", "api"}), 60, "every process ready")

        agent = processes.start(Unit("agent", [EXECUTABLE, "edge", "run", "--config",
                                               str(place_agent(fleet, tmp_path))]))
        wait_for(lambda: processes.assert_running() or _agent_online(api), 30, "agent online")
        command = Command(fleet)

        # a document camera fault -> an incident -> an e-mail with its action links
        command.inject("doccam", "unplugged")
        wait_for(lambda: any("doccam" in m.subject for m in smtp.received), 45,
                 "the incident e-mail")
        mail = next(m for m in smtp.received if "doccam" in m.subject)
        assert mail.to == "servicedesk@supplier.example.invalid"
        [incident] = api.get("/api/incidents", site="porvoo", room="r1")
        assert incident["device"] == "doccam"
        wait_for(lambda: api.get(f"/api/incidents/{incident['id']}")["state"] == "notified", 20,
                 "the relay's acceptance recorded")

        # the supplier acknowledges through the link: a confirmation page, then the action
        link = incident_link(mail.body, "ack")
        assert link.startswith(f"http://127.0.0.1:{api_port}/")
        page = httpx.get(link, timeout=10)
        assert page.status_code == 200 and "<form" in page.text
        acknowledged = httpx.post(link, timeout=10)
        assert acknowledged.status_code == 200, acknowledged.text
        assert acknowledged.json()["state"] == "acknowledged"

        # the camera returns -> the engine resolves the incident
        command.inject("doccam", "clear")
        wait_for(lambda: api.get(f"/api/incidents/{incident['id']}")["state"] in
                 ("resolved", "closed"), 45, "the incident resolved")

        # a booking -> its confirmation; the schedule, started with a reminder lead that
        # falls due in a moment, reminds; a cancellation -> purged after the retention
        free = api.get("/api/bookings/availability", site="porvoo", service="kela-benefits",
                       first=date.today().isoformat(),
                       last=(date.today() + timedelta(days=14)).isoformat())
        booking = api.post("/api/bookings", {
            "site": "porvoo", "service": "kela-benefits", "start": free[0]["start"],
            "minutes": 30, "channel": "phone_service",
            "customer": {"name": "Journey Customer", "email": "customer@example.invalid",
                         "language": "en"}}, status=201)
        wait_for(lambda: _mails_to(smtp, "customer@example.invalid") >= 1, 30,
                 "the confirmation")
        # due two seconds from now: after the booking was made, before the schedule's round
        start = datetime.fromisoformat(booking["start"])
        lead = (start - datetime.now(UTC)).total_seconds() - 2
        apply_cloud_role(fleet, root, database_url, {
            **timers, "ETP_API_PORT": str(api_port), "ETP_BOOKINGS_REMINDER_LEAD_S": str(lead)})
        processes.start(unit["etapalvelu-schedule@1"])
        wait_for(lambda: _mails_to(smtp, "customer@example.invalid") >= 2, 30, "the reminder")
        assert any("booking_reminder" in (m.key or "") for m in smtp.received)

        api.post(f"/api/bookings/{booking['id']}/cancel", {"reason": "customer cancelled"})
        wait_for(lambda: api.get(f"/api/bookings/{booking['id']}")["customer_email"] is None,
                 30, "the personal data purged")
        purged = api.get(f"/api/bookings/{booking['id']}")
        assert purged["customer_name"] is None and purged["status"] == "cancelled"
        with sessions() as session:
            recipients = session.scalars(select(OutboxMessage.recipient).where(
                OutboxMessage.reference == f"booking:{booking['id']}")).all()
        assert recipients and set(recipients) == {""}

        close(command.client)
        assert agent.poll() is None
        statuses = processes.stop_all()
    finally:
        leftover = processes.stop_all()
    assert statuses == {name: 0 for name in statuses}, (statuses, leftover)
    assert set(statuses) == {*SERVICES, "etapalvelu-schedule@1", "agent"}
    with sessions() as session:
        assert session.get(EngineCursor, "transitions").holder is None  # the lease handed back
        rows = process_status(session, now=datetime.now(UTC), stale_after=timedelta(minutes=1))
    assert rows and all(row.stopped for row in rows)


def _all_ready(sessions, kinds: set[str]) -> bool:
    with sessions() as session:
        rows = process_status(session, now=datetime.now(UTC), stale_after=timedelta(seconds=10))
    return kinds <= {row.kind for row in rows if row.ready and row.fresh}


def _agent_online(api: Api) -> bool:
    room = api.get("/api/rooms/porvoo/r1")
    return bool(room.get("online") or (room.get("agent") or {}).get("online"))


def _mails_to(smtp, address: str) -> int:
    return sum(1 for m in smtp.received if m.to == address)
