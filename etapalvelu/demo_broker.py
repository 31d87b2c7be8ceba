"""The demo's MQTT broker: amqtt on loopback, keeping production's rules for every client.

Its users are production's broker identities (``provisioning.identities``: each room's agent
and wireless boards, the cloud's workers, the rollout monitor), each with a password of its own,
and every CONNECT, publish, subscription and delivery is decided by the same grants and
client-id bindings Mosquitto reads from the generated dynamic-security file
(``provisioning.access``). The one difference: the demo has no boards, its agent simulates
them, so each agent also holds its own room's boards' grants. The demo's cloud (every service
in one process, its ingest reading the whole tree as partition 0/1) is the API replica's identity,
whose grants cover all it does. Passwords are new at every start and written, readable by the
owner only, to ``broker-passwords.json`` in the demo's data folder for tools that connect.

amqtt itself decides nothing here: it would take over a session before checking the password,
offer a new client the retained messages of everyone's subscriptions, and never check a Last
Will; ``DemoBroker`` closes each of these.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from amqtt.adapters import ReaderAdapter
from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.mqtt.connack import NOT_AUTHORIZED, ConnackPacket
from amqtt.mqtt.connect import ConnectPacket

from provisioning import access
from provisioning.identities import Identity, fleet_identities
from provisioning.settings import FleetSettings

CLOUD = "cloud.api.1"
MQTT_311 = 4  # the only protocol level amqtt speaks; it refuses others itself
CONNECT_WITHIN_S = 10  # a connection that sends no CONNECT in time is closed


@dataclass(frozen=True)
class DemoUser:
    """A broker user of the demo: a production identity and its password of this run."""

    identity: Identity
    password: str

    @property
    def username(self) -> str:
        """The MQTT username (the identity's name)."""
        return self.identity.name


def simulating_boards(agent: Identity, identities: list[Identity]) -> Identity:
    """The demo's agent with its room's wireless boards' grants too: it simulates them."""
    boards = [i for i in identities
              if i.role == "device" and (i.site, i.room) == (agent.site, agent.room)]
    return dataclasses.replace(agent, grants=agent.grants + tuple(
        grant for board in boards for grant in board.grants))


def demo_users(registry) -> dict[str, DemoUser]:
    """Every production identity of the registry with a fresh password, by username."""
    identities = fleet_identities(registry, FleetSettings())
    return {i.name: DemoUser(simulating_boards(i, identities) if i.role == "agent" else i,
                             secrets.token_urlsafe(18))
            for i in identities}


def admits(users: dict[str, DemoUser], connect: ConnectPacket) -> bool:
    """Whether a CONNECT names a user with its password, under a client id that user may use,
    with a Last Will (if any) on a topic that user may publish."""
    user = users.get(connect.username or "")
    password = connect.password
    password = password.decode() if isinstance(password, bytes) else password or ""
    return (user is not None and secrets.compare_digest(password.encode(), user.password.encode())
            and access.may_connect(user.identity, connect.client_id or "")
            and not (connect.will_flag
                     and not access.may_publish(user.identity, connect.will_topic or "")))


def broker_config(port: int) -> dict:
    """amqtt's configuration: loopback only, no plugins (``DemoBroker`` decides access)."""
    return {"listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
            "plugins": {}}


def write_credentials(users: dict[str, DemoUser], data: Path) -> Path:
    """Write the passwords for tools (owner only); returns the file."""
    path = data / "broker-passwords.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(json.dumps({u: user.password for u, user in users.items()}, indent=1))
    os.chmod(path, 0o600)
    return path


class ReplayingReader(ReaderAdapter):
    """Reads a connection and keeps what it read until ``replay``, which hands the same bytes
    out again: the CONNECT is checked before amqtt reads it."""

    def __init__(self, reader: ReaderAdapter) -> None:
        self._reader, self._kept, self._keeping = reader, bytearray(), True

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes: the kept ones first, then the connection's."""
        if not self._keeping and self._kept:
            head = bytes(self._kept[:n] if n >= 0 else self._kept)
            del self._kept[:len(head)]
            rest = n - len(head) if n >= 0 else 0
            return head + (await self._reader.read(rest) if rest else b"")
        data = await self._reader.read(n)
        if self._keeping:
            self._kept += data
        return data

    def replay(self) -> None:
        """Hand out what was read again, then read on."""
        self._keeping = False

    def feed_eof(self) -> None:
        """Acknowledge EOF."""
        self._reader.feed_eof()


class DemoBroker(Broker):
    """amqtt deciding every CONNECT, publish, subscription and delivery by production's grants
    and client-id bindings."""

    def __init__(self, config: dict, users: dict[str, DemoUser], **kwargs) -> None:
        super().__init__(config, **kwargs)
        self.users = users

    async def _client_connected(self, listener_name, reader, writer) -> None:
        # a refused CONNECT must not touch the session of the id it names: amqtt would end
        # the owner's connection and clear its session before it checks the password
        replaying = ReplayingReader(reader)
        try:
            async with asyncio.timeout(CONNECT_WITHIN_S):
                connect = await ConnectPacket.from_stream(replaying)
        except Exception:  # noqa: BLE001 - not an MQTT CONNECT: drop the connection
            await writer.close()
            return
        if connect.proto_level == MQTT_311 and not admits(self.users, connect):
            await ConnackPacket.build(0, NOT_AUTHORIZED).to_stream(writer)
            await writer.close()
            return
        replaying.replay()
        await super()._client_connected(listener_name, replaying, writer)

    async def _authenticate(self, session, _listener) -> bool:
        user = self.users.get(session.username or "")
        return user is not None and access.may_connect(user.identity, session.client_id or "")

    async def _topic_filtering(self, session, topic, action) -> bool:
        user = self.users.get(session.username or "") if session else None
        if user is None or not topic:
            return False
        rule = {Action.PUBLISH: access.may_publish, Action.SUBSCRIBE: access.may_subscribe,
                Action.RECEIVE: access.may_receive}[action]
        return rule(user.identity, topic)

    async def _publish_retained_messages_for_subscription(self, subscription, session) -> None:
        # amqtt calls this at every CONNECT for everyone's subscriptions: offer only the
        # session's own, and only the retained messages it may receive
        topic_filter, qos = subscription
        holders = self._subscriptions.get(topic_filter, [])
        handler = self._get_handler(session)
        if handler is None or all(s.client_id != session.client_id for s, _ in holders):
            return
        sending = [asyncio.ensure_future(handler.mqtt_publish(
                       retained.topic, retained.data, min(qos, retained.qos or qos), retain=True))
                   for topic, retained in list(self._retained_messages.items())
                   if self._matches(topic, topic_filter)
                   and await self._topic_filtering(session, topic, Action.RECEIVE)]
        if sending:
            await asyncio.wait(sending)


class EmbeddedBroker:
    """The demo's broker in a thread of its own: good for a demo, not for production (use
    Mosquitto)."""

    def __init__(self, config: dict, users: dict[str, DemoUser]) -> None:
        self._config, self._users = config, users
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="demo-broker",
                                        daemon=True)
        self._broker = None

    def start(self) -> EmbeddedBroker:
        """Start listening (raises when the port cannot be bound)."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    async def _start(self) -> None:
        # made in its loop's thread: amqtt makes futures of the current loop in __init__,
        # and a thread with no current loop (one after ``asyncio.run``) has none to give
        self._broker = DemoBroker(self._config, self._users, loop=self._loop)
        await self._broker.start()

    def stop(self) -> None:
        """Disconnect everyone and stop the thread."""
        if self._broker is not None:
            asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
