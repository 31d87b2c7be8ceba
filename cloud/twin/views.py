"""REST views of the twin: the fleet overview and one room's status."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException
from sqlalchemy import select

from cloud.twin.models import AgentPresence, DeviceState
from cloud.twin.rules import room_condition
from cloud.web.deps import AdminDep, RegistryDep, SessionDep

router = APIRouter(tags=["twin"])


def _device_view(device: str, row: DeviceState | None) -> dict:
    if row is None:
        return {"device": device, "state": None}
    return {
        "device": device, "state": row.state, "code": row.code, "detail": row.detail,
        "state_since": row.state_since, "last_seen_at": row.last_seen_at,
        "skew_ms": row.skew_ms, "seq_gaps": row.seq_gaps, "duplicates": row.duplicates,
    }


def _room_view(site: str, room_id: str, room, agent: AgentPresence | None,
               devices: dict[str, DeviceState]) -> dict:
    views = [_device_view(d, devices.get(d)) for d in room.devices if d != "agent"]
    online = None if agent is None else agent.online
    return {
        "site": site, "room": room_id, "name": room.name,
        "condition": room_condition(online, {v["device"]: v["state"] for v in views}),
        "agent": None if agent is None else {
            "online": agent.online, "since": agent.since, "version": agent.version},
        "agent_device": _device_view("agent", devices.get("agent")),
        "devices": views,
    }


def _load(session, site: str | None = None, room: str | None = None):
    agents_q, devices_q = select(AgentPresence), select(DeviceState)
    if site:
        agents_q = agents_q.where(AgentPresence.site == site, AgentPresence.room == room)
        devices_q = devices_q.where(DeviceState.site == site, DeviceState.room == room)
    agents = {(a.site, a.room): a for a in session.scalars(agents_q)}
    devices: dict[tuple[str, str], dict[str, DeviceState]] = {}
    for row in session.scalars(devices_q):
        devices.setdefault((row.site, row.room), {})[row.device] = row
    return agents, devices


@router.get("/fleet")
def fleet(session: SessionDep, registry: RegistryDep, _: AdminDep) -> dict:
    """Every site and room with its agent's presence and each device's state."""
    agents, devices = _load(session)
    sites = []
    for site_id, site in registry.sites.items():
        rooms = [_room_view(site_id, r, room, agents.get((site_id, r)),
                            devices.get((site_id, r), {})) for r, room in site.rooms.items()]
        sites.append({"site": site_id, "name": site.name.model_dump(),
                      "municipality": site.municipality, "rooms": rooms})
    return {"sites": sites}


@router.get("/rooms/{site}/{room}")
def room_status(site: str, room: str, session: SessionDep, registry: RegistryDep,
                _: AdminDep) -> dict:
    """One room's status."""
    known = registry.sites.get(site)
    if known is None or room not in known.rooms:
        raise HTTPException(404, f"no room {site}/{room} in the registry")
    agents, devices = _load(session, site, room)
    return _room_view(site, room, known.rooms[room], agents.get((site, room)),
                      devices.get((site, room), {}))
