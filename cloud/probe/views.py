"""The probe endpoint: a room agent posts its SDP offer with its room token and gets the
answer of an echoing peer (``cloud.probe.peers``)."""
from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from cloud.api.credentials import MalformedAuthorization, bearer_token
from cloud.api.deps import NowDep, RegistryDep, SessionDep
from cloud.api.inputs import Code, HeaderText, free_text
from cloud.api.refusals import Refusal, invalid, not_found
from cloud.flows.probe_schedule import coming_starts
from cloud.probe.peers import ProbePeers, ProbesBusy, UnusableOffer
from cloud.probe.tokens import token_matches

MAX_SDP = 16_000  # an offer of two data channels and a few candidates is about 1-2 kB


@asynccontextmanager
async def lifespan(app: FastAPI):
    """The replica's probe peers: made at start, every one closed at shutdown."""
    settings = app.state.probe_settings  # loaded once by the app factory
    app.state.probe_peers = ProbePeers(settings.max_concurrent, settings.max_duration_s,
                                       settings.stun_urls)
    yield
    await app.state.probe_peers.close_all()


router = APIRouter(tags=["probe"], lifespan=lifespan)


class Offer(BaseModel):
    """An agent's SDP offer for a link probe of its room."""

    model_config = ConfigDict(extra="forbid")
    site: Code
    room: Code
    type: Literal["offer"]
    sdp: free_text(MAX_SDP, lines=True)


class Answer(BaseModel):
    """The cloud peer's SDP answer, and the starts of the room's coming bookings (epoch ms
    UTC, at most ``MAX_STARTS``, nothing else of them) so the agent probes before each."""

    type: str
    sdp: str
    booking_starts: list[int] = []


MAX_STARTS = 64


def booking_starts(session: Session, *, site: str, room: str, now: datetime,
                   horizon: timedelta) -> list[int]:
    """Starts of the room's visits to come within ``horizon`` of ``now``, as epoch ms."""
    starts = coming_starts(session, now=now, horizon=horizon, site=site).get((site, room), [])
    return [int(start.timestamp() * 1000) for start in sorted(starts)][:MAX_STARTS]


def _peers(request: Request) -> ProbePeers:
    return request.app.state.probe_peers


@router.post("/probe/offer", response_model=Answer,
             responses={401: {"description": "not that room's probe token"},
                        404: {"description": "no such room"},
                        422: {"description": "not an offer of a data channel"},
                        503: {"description": "every probe slot taken; try at the next turn"}})
async def probe_offer(offer: Offer, request: Request, registry: RegistryDep,
                      session: SessionDep, peers: Annotated[ProbePeers, Depends(_peers)],
                      now: NowDep,
                      authorization: Annotated[HeaderText | None, Header()] = None) -> Answer:
    """Answer a room agent's probe offer. The agent shows its room's probe token as
    ``Authorization: Bearer <token>``; the peer echoes the ``echo`` channel, answers
    ``{"op":"counts"}`` on ``control`` and is closed after the probe or a short timeout."""
    settings = request.app.state.probe_settings
    secret = settings.secret.get_secret_value()
    try:
        token = bearer_token(authorization) or ""
    except MalformedAuthorization:
        token = ""
    if not token or not token_matches(secret, offer.site, offer.room, token):
        raise Refusal(401, "not_authenticated", "not this room's probe token",
                      headers={"WWW-Authenticate": "Bearer"})
    site = registry.sites.get(offer.site)
    if site is None or offer.room not in site.rooms:
        raise not_found("room")
    try:
        sdp, kind = await peers.answer(offer.sdp, site=offer.site, room=offer.room)
    except ProbesBusy as exc:
        raise Refusal(503, "probes_busy", f"probe slots taken: {exc}",
                      headers={"Retry-After": "60"}) from None
    except UnusableOffer as exc:
        raise invalid(f"unusable offer: {exc}") from None
    starts = await run_in_threadpool(
        booking_starts, session, site=offer.site, room=offer.room, now=now,
        horizon=timedelta(hours=settings.booking_horizon_h))
    return Answer(type=kind, sdp=sdp, booking_starts=starts)
