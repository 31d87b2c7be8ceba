"""Who may connect to the broker, and what each may do: pure rules from the registry.

One identity per room agent, one per wireless device (call button, occupancy sensor), one per
cloud worker process (ingest, api) and one for the fleet's rollout monitor. Every identity
in the rooms is bound to one client id (the broker refuses any other id, so wildcards in an
id, session take-over and impersonation all fail at CONNECT); cloud workers choose their own
client ids. Each identity gets only the topics it needs.

Usernames are ``{site}.{room}.{device}``, ``cloud.{worker}.{n}`` and ``fleet.monitor`` (no
slug holds a dot, so they cannot collide). The bound client id is what each client uses by
default: the username for the wireless boards and the monitor, ``etp-{site}-{room}-agent``
for the room agent; ``fleet_identities`` refuses two rooms whose client ids would collide
(slugs may hold ``-``).

- a room agent publishes for the devices its adapters speak for (agent, terminal, doccam,
  network) in its own room and may subscribe to its room's command filter, but is delivered
  only those devices' commands (the wireless boards speak for themselves);
- a wireless device publishes only under its own device's topics and receives only its own
  commands;
- cloud workers read the whole tree and publish commands; nobody else publishes commands;
- cloud workers publish on the live tree of the consoles (``etp/live/v1/#``, outside the
  devices' tree) and the API replicas read it; no room identity may touch it;
- the rollout monitor reads only the agents' retained ``status``.
"""
from __future__ import annotations

from dataclasses import dataclass

from cloud.registry import Registry
from protocol.topics import LIVE_ROOT, ROOT
from provisioning.settings import FleetSettings

AGENT_SPOKEN = ("agent", "terminal", "doccam", "network")  # the agent's adapters speak for these
WIRELESS = ("callbutton", "occupancy")  # MicroPython boards with credentials of their own
DEVICE_KINDS = ("health", "telemetry", "event", "ack")  # what any device publishes
MONITOR = "fleet.monitor"


@dataclass(frozen=True, slots=True)
class Grant:
    """One rule of the broker's dynamic-security role: an ACL type and a topic (filter)."""

    acltype: str  # publishClientSend, publishClientReceive, subscribePattern
    topic: str

    def line(self, identity: str) -> str:
        """The rule as one readable line, as ``fleet plan`` shows it."""
        return f"{identity} allow {self.acltype} {self.topic}"


@dataclass(frozen=True, slots=True)
class Identity:
    """A broker identity: its name is its username, client id and certificate CN."""

    name: str
    role: str  # agent, device, cloud, monitor
    grants: tuple[Grant, ...]
    site: str | None = None
    room: str | None = None
    # the only client id the broker accepts for it; None: any (cloud workers pick their own
    # ids, ``ingest-<name>``, ``cloud-<random>``, and run on the operator's own servers)
    client_id: str | None = None


def _publish(*topics: str) -> list[Grant]:
    return [Grant("publishClientSend", t) for t in topics]


def _read(*filters: str) -> list[Grant]:
    return [g for f in filters
            for g in (Grant("subscribePattern", f), Grant("publishClientReceive", f))]


def agent_name(site: str, room: str) -> str:
    """The identity of a room's agent, e.g. ``porvoo.r1.agent``."""
    return f"{site}.{room}.agent"


def agent_client_id(site: str, room: str) -> str:
    """The room agent's client id (its default in ``edge.mqtt``), bound to its identity."""
    return f"etp-{site}-{room}-agent"


def device_name(site: str, room: str, device: str) -> str:
    """The identity (and client id) of a wireless device, e.g. ``porvoo.r1.callbutton``."""
    return f"{site}.{room}.{device}"


def agent_identity(site: str, room: str, devices: tuple[str, ...]) -> Identity:
    """A room agent: speaks for its adapters' devices and hears only their commands."""
    base = f"{ROOT}/{site}/{room}"
    # the agent subscribes its room's command filter once; delivery is per device
    grants = _publish(f"{base}/agent/status") + [Grant("subscribePattern", f"{base}/+/cmd/+")]
    for device in (d for d in AGENT_SPOKEN if d in devices):
        grants += _publish(*(f"{base}/{device}/{kind}" for kind in DEVICE_KINDS))
        grants.append(Grant("publishClientReceive", f"{base}/{device}/cmd/+"))
    return Identity(agent_name(site, room), "agent", tuple(grants), site, room,
                    agent_client_id(site, room))


def wireless_identity(site: str, room: str, device: str) -> Identity:
    """A wireless board: its own device's topics and commands, nothing else."""
    base = f"{ROOT}/{site}/{room}/{device}"
    grants = _publish(*(f"{base}/{kind}" for kind in DEVICE_KINDS)) + _read(f"{base}/cmd/+")
    name = device_name(site, room, device)
    return Identity(name, "device", tuple(grants), site, room, name)


def cloud_identities(settings: FleetSettings) -> list[Identity]:
    """One identity per cloud worker process: ``cloud.ingest.1``, ``cloud.api.1``,
    ``cloud.schedule.1``..."""
    commands = _publish(f"{ROOT}/+/+/+/cmd/+")
    live = _publish(f"{LIVE_ROOT}/#")  # the summon loop's events to the consoles
    # an ingest worker subscribes its partition's sites, or the whole tree alone (decision 80)
    ingest = (*_read(f"{ROOT}/#"), *commands, *live)
    # the room terminal's "call the advisor" button reaches the cloud as a press of the room's
    # call button, published by the API replica that checked the terminal's room token
    terminal_calls = _publish(f"{ROOT}/+/+/callbutton/event")
    api = tuple(_read(f"{ROOT}/#") + commands + live + terminal_calls + _read(f"{LIVE_ROOT}/#"))
    return ([Identity(f"cloud.ingest.{i}", "cloud", ingest)
             for i in range(1, settings.cloud_workers.ingest + 1)]
            + [Identity(f"cloud.api.{i}", "cloud", api)
               for i in range(1, settings.cloud_workers.api + 1)]
            # the schedule publishes the escalated calls' alerts to the consoles and tells
            # the agents their rooms' coming visits, nothing else
            + [Identity(f"cloud.schedule.{i}", "cloud",
                        tuple(live + _publish(f"{ROOT}/+/+/agent/cmd/probe_schedule")))
               for i in range(1, settings.cloud_workers.schedule + 1)])


def monitor_identity() -> Identity:
    """The rollout's health check: reads the agents' retained status, nothing else."""
    return Identity(MONITOR, "monitor", tuple(_read(f"{ROOT}/+/+/agent/status")),
                    client_id=MONITOR)


def fleet_identities(registry: Registry, settings: FleetSettings) -> list[Identity]:
    """Every identity the fleet needs, in a stable order (rooms in registry order)."""
    identities: list[Identity] = []
    for site, room_id, room in registry.rooms():
        identities.append(agent_identity(site, room_id, room.devices))
        identities += [wireless_identity(site, room_id, d) for d in WIRELESS if d in room.devices]
    identities += cloud_identities(settings) + [monitor_identity()]
    ids = [identity.client_id for identity in identities if identity.client_id]
    doubles = sorted({client_id for client_id in ids if ids.count(client_id) > 1})
    if doubles:  # e.g. site "a-b" room "c" and site "a" room "b-c"
        raise ValueError(f"client ids collide: {doubles}; rename a site or room")
    return identities
