"""Pure encoding of twin messages as InfluxDB line protocol.

Schema (documented in docs/telemetry.md): one measurement per device type for telemetry
(fields = the device's metrics, always floats so a field never changes type), ``health``
(field ``level`` 0 ok, 1 degraded, 2 fault, 3 missing), ``event`` (field ``count``=1,
tag ``type``) and ``status`` (field ``offline`` 1 or 0: the agent's presence, at the cloud's
receive time). Tags are site, room, device (and type): never personal data. Other timestamps
are the device's (milliseconds), so a replayed point overwrites itself instead of doubling.
"""
from __future__ import annotations

from protocol.payloads import Event, Health, Telemetry

HEALTH_LEVEL = {"ok": 0, "degraded": 1, "fault": 2, "missing": 3}


def _tags(site: str, room: str, device: str) -> str:
    # topic levels are [a-z0-9_-] only, so no escaping is needed
    return f"site={site},room={room},device={device}"


def telemetry_line(site: str, room: str, device: str, payload: Telemetry) -> str:
    """One point of a device's metrics."""
    fields = ",".join(f"{name}={float(value)!r}" for name, value in payload.metrics.items())
    return f"{device},{_tags(site, room, device)} {fields} {payload.ts}"


def health_line(site: str, room: str, device: str, payload: Health) -> str:
    """One point of a device's health level."""
    return f"health,{_tags(site, room, device)} level={HEALTH_LEVEL[payload.state]}.0 {payload.ts}"


def event_line(site: str, room: str, device: str, payload: Event, received_ms: int) -> str:
    """One point per event; unsynced devices are placed at the cloud's receive time."""
    ts = payload.ts if payload.synced else received_ms
    return f"event,{_tags(site, room, device)},type={payload.data.type} count=1.0 {ts}"


def status_line(site: str, room: str, state: str, received_ms: int) -> str:
    """One point per change of an agent's presence the twin applied, at the cloud's receive
    time: a Last Will carries the time of its connect, not of its loss (``offline`` 1 while
    away)."""
    offline = 1.0 if state == "offline" else 0.0
    return f"status,{_tags(site, room, 'agent')} offline={offline!r} {received_ms}"
