"""The demo's MQTT broker: amqtt on loopback, every client with a password of its own and
the topics of its own room only.

Each room agent is ``{site}.{room}.agent`` and may publish only under its own room (the demo's
simulated boards speak through the agent) and hear only its room's commands; the cloud is
``cloud.demo`` and alone may publish commands. Anonymous clients are refused. Passwords are
new at every start and written, readable by the owner only, to ``broker-passwords.json`` in
the demo's data folder for tools that want to connect. Production runs Mosquitto with the
generated dynamic-security file (docs/fleet.md).
"""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher

from protocol.topics import LIVE_ROOT, ROOT

CLOUD = "cloud.demo"
# cheap parameters: the demo's passwords are random, long and live only while it runs
_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


@dataclass(frozen=True)
class DemoIdentity:
    """A broker user of the demo and the topic filters it may publish and subscribe."""

    username: str
    password: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def agent_identity(site: str, room: str) -> DemoIdentity:
    """A demo room agent: its room's device topics and its status; its room's commands."""
    base = f"{ROOT}/{site}/{room}"
    publish = (f"{base}/agent/status", *(f"{base}/+/{kind}"
                                         for kind in ("health", "telemetry", "event", "ack")))
    return DemoIdentity(f"{site}.{room}.agent", secrets.token_urlsafe(18), publish,
                        (f"{base}/+/cmd/+",))


def cloud_identity() -> DemoIdentity:
    """The demo's cloud (ingest and the API's commands): reads everything, sends commands,
    and alone publishes and reads the consoles' live tree."""
    return DemoIdentity(CLOUD, secrets.token_urlsafe(18),
                        (f"{ROOT}/+/+/+/cmd/+", f"{LIVE_ROOT}/#"), (f"{ROOT}/#", f"{LIVE_ROOT}/#"))


def demo_identities(registry) -> dict[str, DemoIdentity]:
    """The cloud's and every room agent's identity, by username."""
    identities = [cloud_identity(), *(agent_identity(site, room)
                                      for site, room, _ in registry.rooms())]
    return {identity.username: identity for identity in identities}


def broker_config(identities: dict[str, DemoIdentity], port: int, password_file: Path) -> dict:
    """amqtt's configuration: loopback only, the password file, the topic checks."""
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "plugins": {
            "amqtt.plugins.authentication.FileAuthPlugin": {"password_file": str(password_file)},
            "amqtt.plugins.topic_checking.TopicAccessControlListPlugin": {
                "publish_acl": {u: list(i.publish) for u, i in identities.items()},
                "acl": {u: list(i.subscribe) for u, i in identities.items()},
            },
        },
    }


def write_credentials(identities: dict[str, DemoIdentity], data: Path) -> Path:
    """Write the hashed password file for amqtt and the plain one for tools (owner only)."""
    hashed = data / "broker-users.txt"
    _write_private(hashed, "".join(f"{u}:{_HASHER.hash(i.password)}\n"
                                   for u, i in identities.items()))
    _write_private(data / "broker-passwords.json",
                   json.dumps({u: i.password for u, i in identities.items()}, indent=1))
    return hashed


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    os.chmod(path, 0o600)


class EmbeddedBroker:
    """amqtt in a thread of its own: good for a demo, not for production (use Mosquitto)."""

    def __init__(self, config: dict) -> None:
        self._config = config
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="demo-broker",
                                        daemon=True)
        self._broker = None

    def start(self) -> EmbeddedBroker:
        """Start listening (raises when the port cannot be bound)."""
        from amqtt.broker import Broker

        self._thread.start()
        self._broker = Broker(self._config, loop=self._loop)
        asyncio.run_coroutine_threadsafe(self._broker.start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        """Disconnect everyone and stop the thread."""
        if self._broker is not None:
            asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
