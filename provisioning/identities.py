"""Who may connect to the broker, and what each may do: pure rules from the registry.

One identity per room agent, one per wireless device (call button, occupancy sensor), one per
cloud worker process (ingest, api) and one for the fleet's rollout monitor. Every identity
in the rooms connects with client id == its name (the broker refuses any other id, so
wildcards in an id, session take-over and impersonation all fail at CONNECT); cloud workers
choose their own client ids. Each identity gets only the topics it needs.
Names are ``etp-{site}-{room}-{device}`` (the room agent's default client id),
``etp-cloud-{worker}-{n}`` and ``etp-fleet-monitor``; ``fleet_identities`` refuses two rooms
whose names would collide (slugs may hold ``-``).


- a room agent publishes for the devices its adapters speak for (agent, terminal, doccam,
  network) in its own room and may subscribe to its room's command filter, but is delivered
  only those devices' commands (the wireless boards speak for themselves);
- a wireless device publishes only under its own device's topics and receives only its own
  commands;
- cloud workers read the whole tree and publish commands; nobody else publishes commands;
- the rollout monitor reads only the agents' retained ``status``.
"""
from __future__ import annotations

from dataclasses import dataclass

from cloud.registry import Registry
from protocol.topics import ROOT
from provisioning.settings import FleetSettings

AGENT_SPOKEN = ("agent", "terminal", "doccam", "network")  # the agent's adapters speak for these
WIRELESS = ("callbutton", "occupancy")  # MicroPython boards with credentials of their own
DEVICE_KINDS = ("health", "telemetry", "event", "ack")  # what any device publishes
MONITOR = "etp-fleet-monitor"


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
    # the broker refuses any other client id; cloud workers pick their own ids
    # (``ingest-<name>``, ``cloud-<random>``) and run on the operator's own servers
    bound_client_id: bool = True


def _publish(*topics: str) -> list[Grant]:
    return [Grant("publishClientSend", t) for t in topics]


def _read(*filters: str) -> list[Grant]:
    return [g for f in filters
            for g in (Grant("subscribePattern", f), Grant("publishClientReceive", f))]


def agent_name(site: str, room: str) -> str:
    """The identity of a room's agent, e.g. ``etp-porvoo-r1-agent``."""
    return f"etp-{site}-{room}-agent"


def device_name(site: str, room: str, device: str) -> str:
    """The identity of a wireless device, e.g. ``etp-porvoo-r1-callbutton``."""
    return f"etp-{site}-{room}-{device}"


def agent_identity(site: str, room: str, devices: tuple[str, ...]) -> Identity:
    """A room agent: speaks for its adapters' devices and hears only their commands."""
    base = f"{ROOT}/{site}/{room}"
    # the agent subscribes its room's command filter once; delivery is per device
    grants = _publish(f"{base}/agent/status") + [Grant("subscribePattern", f"{base}/+/cmd/+")]
    for device in (d for d in AGENT_SPOKEN if d in devices):
        grants += _publish(*(f"{base}/{device}/{kind}" for kind in DEVICE_KINDS))
        grants.append(Grant("publishClientReceive", f"{base}/{device}/cmd/+"))
    return Identity(agent_name(site, room), "agent", tuple(grants), site, room)


def wireless_identity(site: str, room: str, device: str) -> Identity:
    """A wireless board: its own device's topics and commands, nothing else."""
    base = f"{ROOT}/{site}/{room}/{device}"
    grants = _publish(*(f"{base}/{kind}" for kind in DEVICE_KINDS)) + _read(f"{base}/cmd/+")
    return Identity(device_name(site, room, device), "device", tuple(grants), site, room)


def cloud_identities(settings: FleetSettings) -> list[Identity]:
    """One identity per cloud worker process: ``etp-cloud-ingest-1``, ``etp-cloud-api-1``..."""
    commands = _publish(f"{ROOT}/+/+/+/cmd/+")
    ingest = (Grant("subscribePattern", f"$share/ingest/{ROOT}/#"),
              Grant("publishClientReceive", f"{ROOT}/#"), *commands)
    api = tuple(_read(f"{ROOT}/#") + commands)
    return ([Identity(f"etp-cloud-ingest-{i}", "cloud", ingest, bound_client_id=False)
             for i in range(1, settings.cloud_workers.ingest + 1)]
            + [Identity(f"etp-cloud-api-{i}", "cloud", api, bound_client_id=False)
               for i in range(1, settings.cloud_workers.api + 1)])


def monitor_identity() -> Identity:
    """The rollout's health check: reads the agents' retained status, nothing else."""
    return Identity(MONITOR, "monitor", tuple(_read(f"{ROOT}/+/+/agent/status")))


def fleet_identities(registry: Registry, settings: FleetSettings) -> list[Identity]:
    """Every identity the fleet needs, in a stable order (rooms in registry order)."""
    identities: list[Identity] = []
    for site, room_id, room in registry.rooms():
        identities.append(agent_identity(site, room_id, room.devices))
        identities += [wireless_identity(site, room_id, d) for d in WIRELESS if d in room.devices]
    identities += cloud_identities(settings) + [monitor_identity()]
    names = [identity.name for identity in identities]
    doubles = sorted({name for name in names if names.count(name) > 1})
    if doubles:  # e.g. site "a-b" room "c" and site "a" room "b-c"
        raise ValueError(f"identity names collide: {doubles}; rename a site or room")
    return identities
