"""Fixtures of the fleet tests: a generated fleet folder and a real Mosquitto running its
generated configuration, the demo's embedded broker holding the same identities, plus an MQTT
client helper that reports how a connection ended."""
from __future__ import annotations

import shutil
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cloud.registry import PILOT_REGISTRY, load_registry
from provisioning.generate import broker_placement, build, write
from provisioning.identities import agent_client_id
from provisioning.settings import FleetSettings, save_settings

NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


@dataclass
class Fleet:
    """A generated fleet folder for the pilot registry."""

    folder: Path
    settings: FleetSettings

    def regenerate(self, now: datetime = NOW) -> list[str]:
        """Build and write the folder again; return the changed paths."""
        registry = load_registry(self.folder / self.settings.registry)
        return write(self.folder, build(self.folder, registry, self.settings, now))

    def password(self, identity: str) -> str:
        return (self.folder / "secrets" / f"{identity}.password").read_text().strip()

    def tls_files(self, identity: str) -> tuple[str, str, str]:
        """(CA file, client certificate, client key) of an identity."""
        return (str(self.folder / "pki/ca.crt"), str(self.folder / f"pki/certs/{identity}.crt"),
                str(self.folder / f"secrets/{identity}.key"))


ONE_ROOM = """
authorities:
  kela: {name: {fi: Kela, sv: FPA, en: Kela}}
sites:
  porvoo:
    name: {fi: Porvoo-info, sv: Borgå-info, en: Porvoo Info}
    municipality: Porvoo
    authorities: [kela]
    rooms:
      r1: {name: Neuvotteluhuone}
"""


def make_fleet(folder: Path, registry: str | None = None, **settings) -> Fleet:
    """Generate a fleet folder from a copy of the pilot registry (or the given text)."""
    folder.mkdir(parents=True, exist_ok=True)
    if registry is None:
        shutil.copy(PILOT_REGISTRY, folder / "registry.yaml")
    else:
        (folder / "registry.yaml").write_text(registry, encoding="utf-8")
    fleet = Fleet(folder, FleetSettings(registry=Path("registry.yaml"), broker_host="localhost",
                                        broker_alt_names=["127.0.0.1"], **settings))
    save_settings(folder, fleet.settings)
    fleet.regenerate()
    return fleet


def stage_broker(fleet: Fleet) -> list[str]:
    """Put the broker's files where its generated config names them (what the broker role
    does on a real host); return the generated config's lines."""
    placement = broker_placement(fleet.settings)
    for source, target in placement.items():
        if target.startswith(fleet.settings.broker_dir):
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(fleet.folder / source, target)
    return (fleet.folder / "broker/etapalvelu.conf").read_text().splitlines()


@pytest.fixture
def fleet(tmp_path) -> Fleet:
    """A pilot fleet whose broker listens on a free loopback port (TLS profile)."""
    from tests.servers import free_port

    return make_fleet(tmp_path / "fleet", broker_port=free_port(), broker_bind="127.0.0.1",
                      broker_dir=str(tmp_path / "broker-etc"))


@pytest.fixture
def fleet_broker(fleet, broker_factory):
    """A real Mosquitto started with the fleet's generated configuration and files."""
    server = broker_factory("fleet-broker", plain_listener=False,
                            extra_config=stage_broker(fleet))
    server.port = fleet.settings.broker_port
    server.start()
    return server


def bound_client_id(identity: str) -> str:
    """The client id a test client uses for ``identity``: the agent's is its own form."""
    site, room, device = (identity.split(".") + ["", "", ""])[:3]
    return agent_client_id(site, room) if device == "agent" else identity


@dataclass
class Outcome:
    """How a connection attempt went and what the client saw afterwards."""

    connected: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    settled: threading.Event = field(default_factory=threading.Event)  # accepted or ended
    reason: str = ""
    tls_error: str = ""
    messages: list[tuple[str, bytes]] = field(default_factory=list)
    got_message: threading.Condition = field(default_factory=threading.Condition)
    acks: dict[int, str] = field(default_factory=dict)
    subacks: dict[int, list[str]] = field(default_factory=dict)


def connect(port: int, identity: str, password: str | None, tls: tuple[str, str, str] | None,
            client_id: str | None = None, timeout: float = 5,
            protocol: int = mqtt.MQTTv5) -> tuple[mqtt.Client, Outcome]:
    """Connect a real paho client (MQTT 5 unless told) and wait until it is accepted or
    refused; the client id defaults to the one the broker binds to the identity."""
    outcome = Outcome()
    client = mqtt.Client(CallbackAPIVersion.VERSION2,
                         client_id=client_id or bound_client_id(identity),
                         protocol=protocol)
    if password is not None:
        client.username_pw_set(identity, password)
    if tls is not None:
        client.tls_set(ca_certs=tls[0], certfile=tls[1], keyfile=tls[2])

    def on_connect(_c, _u, _f, reason, _p):
        outcome.reason = str(reason)
        (outcome.connected if not reason.is_failure else outcome.ended).set()
        outcome.settled.set()

    def on_disconnect(_c, _u, _f, reason, _p):
        outcome.reason = outcome.reason or str(reason)
        outcome.ended.set()
        outcome.settled.set()

    def on_message(_c, _u, message):
        with outcome.got_message:
            outcome.messages.append((message.topic, message.payload))
            outcome.got_message.notify_all()

    client.on_connect, client.on_disconnect, client.on_message = (on_connect, on_disconnect,
                                                                  on_message)
    client.on_publish = lambda _c, _u, mid, reason, _p: outcome.acks.__setitem__(mid, str(reason))
    client.on_subscribe = lambda _c, _u, mid, reasons, _p: outcome.subacks.__setitem__(
        mid, [str(r) for r in reasons])
    try:
        client.connect("127.0.0.1", port, keepalive=10)
    except (ssl.SSLError, OSError) as exc:  # a refused client certificate ends here (TLS 1.2)
        outcome.tls_error = repr(exc)
        outcome.ended.set()
        return client, outcome
    client.loop_start()
    if not outcome.settled.wait(timeout):
        raise TimeoutError(f"no CONNACK and no disconnect for {identity} in {timeout}s")
    return client, outcome


@dataclass
class BrokerUnderTest:
    """A broker holding the pilot fleet's identities, and how it answers a refusal."""

    port: int
    password: Callable[[str], str]
    tls: Callable[[str], tuple[str, str, str] | None]
    protocol: int

    def login(self, identity: str, password: str | None = None,
              **kwargs) -> tuple[mqtt.Client, Outcome]:
        """Connect an identity with its own credentials (or the given password)."""
        return connect(self.port, identity, password or self.password(identity),
                       self.tls(identity), protocol=self.protocol, **kwargs)

    @property
    def refused_publish(self) -> str:
        """The PUBACK of a refused message: MQTT 3.1.1's carries no reason (the broker drops
        the message, so only its absence at the watcher shows the refusal)."""
        return "Not authorized" if self.protocol == mqtt.MQTTv5 else "Success"

    @property
    def refused_subscription(self) -> str:
        """The SUBACK of a refused subscription (3.1.1 has only 0x80, "failure")."""
        return "Not authorized" if self.protocol == mqtt.MQTTv5 else "Unspecified error"


@pytest.fixture(params=["mosquitto", "demo"])
def broker_under_test(request, tmp_path) -> BrokerUnderTest:
    """Production's broker (Mosquitto with the generated files, MQTT 5 over mutual TLS) and
    the demo's embedded one (MQTT 3.1.1 on loopback), both holding the pilot's identities."""
    if request.param == "mosquitto":
        fleet, server = request.getfixturevalue("fleet"), request.getfixturevalue("fleet_broker")
        return BrokerUnderTest(server.port, fleet.password, fleet.tls_files, mqtt.MQTTv5)
    from etapalvelu.demo_broker import EmbeddedBroker, broker_config, demo_users
    from tests.servers import free_port

    users, port = demo_users(load_registry(PILOT_REGISTRY)), free_port()
    broker = EmbeddedBroker(broker_config(port), users).start()
    request.addfinalizer(broker.stop)
    return BrokerUnderTest(port, lambda identity: users[identity].password, lambda _: None,
                           mqtt.MQTTv311)


def wait_message(outcome: Outcome, topic: str, timeout: float = 5) -> bytes:
    """The payload of the first message on ``topic``; fail after ``timeout``."""
    with outcome.got_message:
        if not outcome.got_message.wait_for(
                lambda: any(t == topic for t, _ in outcome.messages), timeout):
            raise TimeoutError(f"no message on {topic} in {timeout}s")
    return next(p for t, p in outcome.messages if t == topic)


def close(*clients: mqtt.Client) -> None:
    """Disconnect and stop the clients' network threads."""
    for client in clients:
        client.disconnect()
        client.loop_stop()


PROJECT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "etapalvelu", "protocol", "edge", "cloud",
           "provisioning")


@pytest.fixture(scope="session")
def cloud_wheelhouse(tmp_path_factory) -> Path:
    """The project's own wheel and its cloud dependencies, built once per test session (from
    a copy of the sources, so no build folder lands in the tree); pip's cache makes repeats
    quick."""
    import subprocess
    import sys

    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        path = PROJECT / name
        if path.is_dir():
            shutil.copytree(path, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(path, source / name)
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", f"{source}[cloud]", "-w",
                    str(wheels)], check=True, timeout=600, capture_output=True)
    return wheels
