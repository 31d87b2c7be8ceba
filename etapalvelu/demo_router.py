"""The demo's fault injection through the cloud: staff ask the API, and the cloud, with its
own broker identity, sends the room agent an ``inject_fault`` command and returns its ack.
Only the demo mounts it (its rooms are simulated); no one else may publish commands."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from cloud.accounts.deps import AccessDep

Level = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]


class FaultIn(BaseModel):
    """A simulated fault (or ``clear``, ``press``, ``occupied``...) for one device."""

    model_config = ConfigDict(extra="forbid")
    device: Level
    fault: Level


class FaultOut(BaseModel):
    """The agent's answer."""

    ok: bool
    detail: str | None


def mount_demo_commands(app: FastAPI, *, broker_url: str, username: str,
                        password: str) -> None:
    """Add ``POST /api/demo/rooms/{site}/{room}/faults`` to ``app``."""
    router = APIRouter(prefix="/api/demo", tags=["demo"])

    @router.post("/rooms/{site}/{room}/faults", response_model=FaultOut)
    def inject(site: Level, room: Level, body: FaultIn, access: AccessDep) -> FaultOut:
        """Inject a simulated fault into a room's device and return the agent's ack."""
        from edge.sim_cli import AckTimeout, send_command

        access.require("room.simulate", site=site, resource=f"room:{site}/{room}")
        if room not in getattr(app.state.registry.sites.get(site), "rooms", {}):
            raise HTTPException(404, "no such room")
        try:
            ok, detail = send_command(broker_url, site, room, "inject_fault",
                                      {"device": body.device, "fault": body.fault},
                                      timeout=10, username=username, password=password)
        except AckTimeout as timeout:
            raise HTTPException(504, str(timeout)) from None
        return FaultOut(ok=ok, detail=detail)

    app.include_router(router)
