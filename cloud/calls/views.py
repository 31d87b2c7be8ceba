"""The calls API and the consoles' live stream.

- ``GET /api/live/events``: server-sent events of the caller's sites (an advisor: their own;
  admin: any, ``?site=``). First a ``hello`` with the open calls (after ``Last-Event-ID``:
  also those cleared since), then ``call.pressed``, ``call.escalated``, ``call.acknowledged``
  and ``call.cleared`` as they happen; ``id:`` is the change cursor; a ``keepalive`` event
  every 15 s keeps the link alive and lets the page's watchdog see it is up; with
  ``?fleet=true`` also ``room.changed`` for the rooms of the fleet the caller may read (the
  status page); after the ``hello`` and at each change a ``broker_link`` (the banner's
  facts, ``cloud.live.brokerlink``) (docs/consoles-live.md). Once the staff session that
  opened it ends, the stream says ``logged_out`` and stops.
- ``GET /api/calls?site=&open=true``, ``POST /api/calls/{id}/acknowledge``,
  ``POST /api/calls/{id}/identity-confirmed`` (the advisor has checked the customer's
  identity the expert asked about).
"""
from __future__ import annotations

import asyncio
import json
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from cloud.accounts.deps import (
    Access,
    AccessDep,
    StaffSessionWatch,
    current_principal,
    get_account_settings,
)
from cloud.api.deps import RegistryDep, SessionDep, app_settings, get_now
from cloud.api.inputs import Code, HeaderText, RowId
from cloud.api.refusals import Refusal, invalid, not_found
from cloud.calls import service
from cloud.flows import summon, twinlive
from cloud.live import SubscriberDropped, brokerlink

router = APIRouter(tags=["calls"])
LINK_WAIT_S = 5.0  # how long a new stream waits for the replica's broker link
RETRY_MS = 2000  # how soon a browser's EventSource reconnects after a loss
KEEPALIVE = "keepalive"  # the event an idle stream sends every ``keepalive_s``


class CallOut(BaseModel):
    """A call as consoles see it; ``acknowledged_by`` is the display name of who took it."""

    id: int
    site: str
    room: str
    pressed_at: str
    acknowledged_at: str | None
    acknowledged_by: str | None
    escalation_level: int
    cleared_at: str | None
    clear_reason: str | None
    reason: str


@router.get("/calls", response_model=list[CallOut])
def list_calls(access: AccessDep, session: SessionDep, registry: RegistryDep,
               site: Annotated[Code, Query(description="the site's id, e.g. porvoo")],
               open: Annotated[bool, Query(description="only calls not yet cleared")] = False
               ) -> list[dict]:
    """A site's calls, newest first."""
    access.require("call.read", site=site)
    if site not in registry.sites:
        raise not_found("site")
    return summon.calls_json(session, service.list_calls(db=session, site=site, open_only=open))


def _staff_may_act(session, access: Access, call_id: int, doing: str) -> None:
    """404 for an unknown call and (audited) for one outside the caller's sites; 403 without
    a staff account (``doing`` says what needs one)."""
    try:
        call = service.get_call(db=session, call_id=call_id)
    except service.CallNotFound:
        raise not_found("call") from None
    access.require("call.acknowledge", site=call.site, resource=f"call:{call_id}",
                   hidden="call", seen_by="call.read")
    if access.principal.staff_id is None:
        raise Refusal(403, "staff_account_needed", f"{doing} needs a staff account")


@router.post("/calls/{call_id}/acknowledge", response_model=CallOut,
             responses={409: {"description": "someone else took the call, or it was cleared"}})
async def acknowledge(call_id: RowId, access: AccessDep, session: SessionDep,
                      request: Request):
    """Take the call: every console shows it taken, and the room's button lights steady.
    409 names who took it when someone else was first."""
    def take():
        _staff_may_act(session, access, call_id, "acknowledging a call")
        outcome, shown = summon.acknowledge_call(session, call_id=call_id,
                                                 staff_id=access.principal.staff_id,
                                                 now=access.now)
        session.commit()
        return outcome, shown

    outcome, shown = await run_in_threadpool(take)
    if outcome.taken:
        await summon.announce_acknowledged(request.app.state.live_bus, outcome, shown)
        return shown
    mine = outcome.call.acknowledged_by == access.principal.staff_id
    if mine:
        return shown
    if shown["acknowledged_at"]:  # the page tells the race in its language from the call
        raise Refusal(409, "already_acknowledged",
                      f"already acknowledged by {shown['acknowledged_by']}", call=shown)
    raise Refusal(409, "already_cleared", f"already cleared ({shown['clear_reason']})",
                  call=shown)


@router.post("/calls/{call_id}/identity-confirmed", response_model=CallOut,
             responses={409: {"description": "not an open identity check"}})
async def confirm_identity(call_id: RowId, access: AccessDep, session: SessionDep,
                           request: Request):
    """The advisor has checked the customer's identity: the call goes from every console and
    the expert's view shows the check done, by whom and when."""
    def confirm():
        _staff_may_act(session, access, call_id, "confirming a check")
        changed, by = summon.confirm_identity(session, call_id=call_id,
                                              staff_id=access.principal.staff_id,
                                              now=access.now)
        session.commit()
        return changed, by, summon.calls_json(session, [service.get_call(db=session,
                                                                          call_id=call_id)])[0]

    changed, by, shown = await run_in_threadpool(confirm)
    if changed is None:
        raise Refusal(409, "not_open_identity_check", "not an open identity check",
                      call=shown)
    await summon.announce_confirmed(request.app.state.live_bus, changed, by)
    return shown


@router.get("/live/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "server-sent events (docs/consoles-live.md)"}})
async def live_events(request: Request, registry: RegistryDep,
                      site: Annotated[Code | None, Query(description="one site only")] = None,
                      fleet: Annotated[bool, Query(description="also the rooms' changes "
                                                   "(room.changed) of the fleet the caller "
                                                   "may read")] = False,
                      last_event_id: Annotated[HeaderText | None, Header()] = None
                      ) -> StreamingResponse:
    """The live stream of the caller's sites' calls (server-sent events)."""
    if site is not None and site not in registry.sites:
        raise not_found("site")
    sites, rooms_of = await run_in_threadpool(_visible_sites, request,
                                              [site] if site else list(registry.sites))
    cursor = _cursor(last_event_id)
    channels = [summon.site_channel(s) for s in sites]
    if fleet:
        channels += [twinlive.fleet_channel(s) for s in rooms_of]
    return StreamingResponse(_stream(request, sites, channels, cursor),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _visible_sites(request: Request, sites: list[str]) -> tuple[list[str], list[str]]:
    """The sites whose calls and those whose rooms the caller may read."""
    # a session of its own, closed before the stream starts: a console holds its stream for
    # hours and must not hold a connection of the pool meanwhile
    with request.app.state.sessionmaker() as session:
        now = get_now(request)
        principal = current_principal(request, session, request.app.state.settings,
                                      get_account_settings(request), now)
    access = Access(principal, request, now)
    return access.visible_sites("call.read", sites), access.visible_sites("fleet.read", sites)


def _cursor(last_event_id: str | None) -> int | None:
    if last_event_id is None or not last_event_id.strip():
        return None
    try:
        return max(0, int(last_event_id))
    except ValueError:
        raise invalid("Last-Event-ID must be a cursor this stream sent") from None


def _snapshot(request: Request, sites: list[str], since: int | None
              ) -> tuple[int, list[dict], dict]:
    """The newest cursor, the open calls and (after a reconnect) those cleared since, and the
    broker link's notice."""
    with request.app.state.sessionmaker() as db:
        cursor = service.latest_cursor(db=db)
        found = service.open_calls(db=db, sites=sites)
        if since is not None:
            found += service.cleared_since(db=db, sites=sites, cursor=since)
        notice = brokerlink.broker_notice(request, db, get_now(request))
        return cursor, summon.calls_json(db, found), notice.data()


def frame(event_name: str, cursor: int | None, data: dict) -> str:
    """One server-sent event (without ``id:`` when it moves no cursor: the browser then keeps
    the last one for its ``Last-Event-ID``)."""
    cursor_line = "" if cursor is None else f"id: {cursor}\n"
    return f"{cursor_line}event: {event_name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


call_settings = app_settings("call_settings")


async def _stream(request: Request, sites: list[str], channels: list[str], since: int | None):
    bus = request.app.state.live_bus
    keepalive_s = call_settings(request).keepalive_s
    staff = StaffSessionWatch.of(request, keepalive_s)
    # a replica that just started may not hear the broker yet; a console that joined then
    # is dropped when it does (it may have missed events) and starts again from a snapshot
    await bus.ready(LINK_WAIT_S)
    async with bus.subscribe(*channels, brokerlink.CHANNEL) as events:
        # subscribed before reading the snapshot: nothing falls between the two
        snapshot, calls, link = await run_in_threadpool(_snapshot, request, sites, since)
        cursor = snapshot
        yield (f"retry: {RETRY_MS}\n" + frame("hello", cursor, {"calls": calls})
               + frame(brokerlink.EVENT, cursor, link))
        while True:
            try:
                event = await asyncio.wait_for(events.__anext__(), keepalive_s)
            except TimeoutError:
                event = None
            except SubscriberDropped:
                return  # the browser reconnects with Last-Event-ID and gets a snapshot
            if await staff.ended():  # logged out, expired or disabled: the stream stops
                yield frame("logged_out", cursor, {})
                return
            if event is None:
                # an event, not a comment: EventSource hides comments from the page, whose
                # watchdog must hear the link is up
                yield frame(KEEPALIVE, None, {})
                continue
            if _room_change(event):
                yield frame(event["type"], None, event["data"])
                continue
            if _broker_link(event):  # with the cursor as it stands: it moves none
                if event["data"] != link:  # the replica's watch repeats what hello said
                    link = event["data"]
                    yield frame(event["type"], cursor, link)
                continue
            if not _well_formed(event):
                bus.counts["malformed"] += 1
                continue
            if event["cursor"] > snapshot:  # older ones are in the snapshot already
                # publishers commit independently, so cursors may arrive out of order; the
                # id stays monotonic (the highest seen), and nothing above the snapshot is
                # skipped
                cursor = max(cursor, event["cursor"])
                yield frame(event["type"], cursor, event["data"])


def _room_change(event: dict) -> bool:
    return event.get("type") == twinlive.ROOM_CHANGED and isinstance(event.get("data"), dict)


def _broker_link(event: dict) -> bool:
    return event.get("type") == brokerlink.EVENT and isinstance(event.get("data"), dict)


def _well_formed(event: dict) -> bool:
    return (event.get("type") in summon.KINDS and isinstance(event.get("cursor"), int)
            and isinstance(event.get("data"), dict))
