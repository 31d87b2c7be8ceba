"""Staged rollout of a new agent version: canary rooms first, then the rest in batches, stopping
at the first batch whose rooms do not all report ``online`` with the new version in time.

The order and the stop rule are pure (``batches``, ``rollout``); deploying (Ansible) and the
health check (the agents' retained status on the broker) are passed in.
"""
from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from protocol.codec import Rejected, decode
from protocol.payloads import Status
from protocol.topics import topic
from provisioning.identities import MONITOR

log = logging.getLogger("etapalvelu.fleet")
Room = tuple[str, str]  # (site, room)


def batches(rooms: Sequence[Room], canaries: Sequence[Room], size: int) -> list[list[Room]]:
    """The canaries (those in the fleet) as the first batch, then the other rooms in registry
    order in batches of ``size``."""
    first = [room for room in rooms if room in set(canaries)]
    rest = [room for room in rooms if room not in set(canaries)]
    return ([first] if first else []) + [rest[i:i + size] for i in range(0, len(rest), size)]


@dataclass
class RolloutReport:
    """What a rollout did: the batches deployed, and the rooms that failed, if any."""

    deployed: list[list[Room]] = field(default_factory=list)
    failed: list[Room] = field(default_factory=list)
    reason: str = ""

    @property
    def completed(self) -> bool:
        """Whether every batch was deployed and found healthy."""
        return not self.failed and not self.reason


def rollout(plan: list[list[Room]], deploy: Callable[[list[Room]], bool],
            unhealthy: Callable[[list[Room]], list[Room]]) -> RolloutReport:
    """Deploy batch after batch; stop at the first batch that fails to deploy or whose rooms
    are not all healthy afterwards. The remaining batches are left untouched."""
    report = RolloutReport()
    for number, batch in enumerate(plan, start=1):
        report.deployed.append(batch)
        if not deploy(batch):
            report.failed, report.reason = list(batch), f"batch {number} failed to deploy"
            break
        failed = unhealthy(batch)
        if failed:
            report.failed = failed
            report.reason = f"batch {number}: {len(failed)} room(s) not online with new version"
            break
        log.info("rollout batch=%d rooms=%d healthy", number, len(batch))
    return report


@dataclass(frozen=True)
class MonitorLogin:
    """How the health check reaches the broker: the fleet's monitor identity over mutual TLS."""

    host: str
    port: int
    ca_file: Path
    cert_file: Path
    key_file: Path
    password_file: Path

    @classmethod
    def from_fleet(cls, fleet_dir: Path, host: str, port: int) -> MonitorLogin:
        """The monitor identity's files in a fleet folder."""
        fleet_dir = Path(fleet_dir)
        return cls(host, port, fleet_dir / "pki/ca.crt", fleet_dir / f"pki/certs/{MONITOR}.crt",
                   fleet_dir / f"secrets/{MONITOR}.key",
                   fleet_dir / f"secrets/{MONITOR}.password")


def is_online_with(payload: Status, version: str) -> bool:
    """The health rule: the agent says ``online`` and runs the wanted version."""
    return payload.state == "online" and payload.version == version


def not_online(login: MonitorLogin, rooms: list[Room], version: str,
               timeout: float) -> list[Room]:
    """The rooms whose agent does not report ``online`` with ``version`` within ``timeout``
    seconds, read from the retained ``etp/v1/{site}/{room}/agent/status``."""
    wanted = {topic(site, room, "agent", "status"): (site, room) for site, room in rooms}
    healthy: set[Room] = set()
    done = threading.Event()

    def on_message(_client, _userdata, message) -> None:
        room = wanted.get(message.topic)
        try:
            status = decode(message.topic, message.payload).payload
        except Rejected:
            return
        if room and isinstance(status, Status):
            (healthy.add if is_online_with(status, version) else healthy.discard)(room)
            if len(healthy) == len(wanted):
                done.set()

    def on_connect(client, _userdata, _flags, reason, _props) -> None:
        if not reason.is_failure:
            client.subscribe([(t, 1) for t in wanted])

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=MONITOR, protocol=mqtt.MQTTv5)
    client.username_pw_set(MONITOR, login.password_file.read_text(encoding="utf-8").strip())
    client.tls_set(ca_certs=str(login.ca_file), certfile=str(login.cert_file),
                   keyfile=str(login.key_file), tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.on_connect, client.on_message = on_connect, on_message
    deadline = time.monotonic() + timeout
    client.connect(login.host, login.port, keepalive=10)
    client.loop_start()
    try:
        done.wait(max(0.0, deadline - time.monotonic()))
    finally:
        client.disconnect()
        client.loop_stop()
    return [room for room in rooms if room not in healthy]
