"""REST views of the twin: the fleet overview and one room's status."""
from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from cloud.accounts.deps import AccessDep
from cloud.api.deps import RegistryDep, SessionDep
from cloud.api.inputs import Code
from cloud.api.refusals import not_found
from cloud.twin.models import AgentPresence, DeviceState
from cloud.twin.rules import room_condition
from cloud.twin.service import room_links

router = APIRouter(tags=["twin"])


def _device_view(device: str, row: DeviceState | None) -> dict:
    if row is None:
        return {"device": device, "state": None}
    return {
        "device": device, "state": row.state, "code": row.code, "detail": row.detail,
        "state_since": row.state_since, "last_seen_at": row.last_seen_at,
        "skew_ms": row.skew_ms, "seq_gaps": row.seq_gaps, "duplicates": row.duplicates,
    }


def _link_view(link) -> dict | None:
    if link is None:
        return None
    return {"rtt_ms": link.rtt_ms, "jitter_ms": link.jitter_ms,
            "loss_up_pct": link.loss_up_pct, "loss_down_pct": link.loss_down_pct,
            "bitrate_kbps": link.bitrate_kbps, "setup_ms": link.setup_ms,
            "measured_at": link.measured_at}


def _room_view(site: str, room_id: str, room, agent: AgentPresence | None,
               devices: dict[str, DeviceState], link=None) -> dict:
    views = [_device_view(d, devices.get(d)) for d in room.devices if d != "agent"]
    online = None if agent is None else agent.online
    return {
        "site": site, "room": room_id, "name": room.name,
        "condition": room_condition(online, {v["device"]: v["state"] for v in views}),
        "agent": None if agent is None else {
            "online": agent.online, "since": agent.since, "version": agent.version},
        "agent_device": _device_view("agent", devices.get("agent")),
        "devices": views,
        "link": _link_view(link),  # the last link probe's figures
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
def fleet(session: SessionDep, registry: RegistryDep, access: AccessDep) -> dict:
    """Every site and room the caller may see (an advisor: their sites; support parties and
    administrators: all) with its agent's presence and each device's state."""
    visible = access.visible_sites("fleet.read", list(registry.sites))
    agents, devices = _load(session)
    links = room_links(db=session)
    sites = []
    for site_id, site in ((s, registry.sites[s]) for s in visible):
        rooms = [_room_view(site_id, r, room, agents.get((site_id, r)),
                            devices.get((site_id, r), {}), links.get((site_id, r)))
                 for r, room in site.rooms.items()]
        sites.append({"site": site_id, "name": site.name.model_dump(),
                      "municipality": site.municipality, "rooms": rooms})
    return {"sites": sites}


@router.get("/rooms/{site}/{room}")
def room_status(site: Code, room: Code, session: SessionDep, registry: RegistryDep,
                access: AccessDep) -> dict:
    """One room's status (staff who may read the fleet of its site)."""
    known = registry.sites.get(site)
    # refused before 404, so another site's rooms cannot be told from missing ones
    access.require("fleet.read", site=site, resource=f"room:{site}/{room}"[:120])
    if known is None or room not in known.rooms:
        raise not_found("room")
    agents, devices = _load(session, site, room)
    links = room_links(db=session, site=site, room=room)
    return _room_view(site, room, known.rooms[room], agents.get((site, room)),
                      devices.get((site, room), {}), links.get((site, room)))
