"""The call-button summon loop, a journey across domains: a press stored by the ingest ->
a call opened (calls) -> ``call.pressed`` on the site's live channel (live) -> every open
console of the site's advisors, whichever API replica holds it -> an advisor acknowledges
(accounts names who) -> ``call.acknowledged`` to every console and ``cmd/call_acknowledged``
to the room's button, whose LED goes steady -> a long press (``button_cancel``), the advisor's
arrival (occupancy) or the timeout clears it (``call.cleared``). Unanswered, the schedule's
round raises it (``call.escalated``, level 2) and then texts the site's backup number
(notify).

The expert of a session asks the same way for the advisor to check the customer's identity
(a call with reason ``identity``): the consoles ring alike; the expert's view hears who is
coming and, when the advisor confirms the check, that it is done (the session's channel).

Each change is committed before it is published, with its change id as the cursor, so a
console that reconnects reads from the store what it missed (``hello``).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cloud import formats
from cloud.accounts.service import display_names
from cloud.calls import service as calls
from cloud.calls import templates  # noqa: F401  (registers the SMS template)
from cloud.calls.models import Call
from cloud.calls.rules import (
    ARRIVED,
    CANCELLED,
    CUSTOMER,
    ESCALATE,
    EXPIRE,
    IDENTITY,
    SMS,
    TIMEOUT,
    EscalationRules,
    is_arrival,
    next_step,
)
from cloud.commands import command
from cloud.instants import utc_text
from cloud.notify import enqueue
from cloud.registry import Registry
from cloud.sessions.rules import EXPERT
from cloud.sessions.service import ADVISOR_ASKED, IDENTITY_VERIFIED, note_advisor
from cloud.sessions.signalling import session_channel
from etapalvelu.logs import event_log
from protocol.payloads import ButtonCancel, ButtonPress, Event, Occupancy

log = event_log(__name__)
PRESSED, ESCALATED, ACKNOWLEDGED, CLEARED = ("call.pressed", "call.escalated",
                                             "call.acknowledged", "call.cleared")
KINDS = (PRESSED, ESCALATED, ACKNOWLEDGED, CLEARED)
LiveEvent = tuple[str, dict]  # (channel, event)
STALE_PRESS = timedelta(minutes=10)


def site_channel(site: str) -> str:
    """The live channel of a site's consoles."""
    return f"site/{site}"


def live_event(kind: str, cursor: int, data: dict) -> dict:
    """A call change as the live bus carries it."""
    return {"type": kind, "cursor": cursor, "data": data}


def call_json(call: Call, names: dict[int, str]) -> dict:
    """A call as consoles see it; ``acknowledged_by`` is the display name of who took it."""
    return {"id": call.id, "site": call.site, "room": call.room,
            "pressed_at": utc_text(call.pressed_at),
            "acknowledged_at": utc_text(call.acknowledged_at),
            "acknowledged_by": names.get(call.acknowledged_by) if call.acknowledged_by else None,
            "escalation_level": call.escalation_level,
            "cleared_at": utc_text(call.cleared_at), "clear_reason": call.clear_reason,
            "reason": call.reason}


def calls_json(db: Session, found: list[Call]) -> list[dict]:
    """Calls as consoles see them, with one look-up of the names."""
    names = display_names(db, staff_ids={c.acknowledged_by for c in found if c.acknowledged_by})
    return [call_json(call, names) for call in found]


def _pressed(opened: calls.Changed) -> LiveEvent:
    call = opened.call
    return site_channel(call.site), live_event(PRESSED, opened.change.id, {
        "call_id": call.id, "site": call.site, "room": call.room, "reason": call.reason,
        "pressed_at": utc_text(call.pressed_at)})


def cleared_event(changed: calls.Changed) -> LiveEvent:
    """The live event of a call cleared (by a long press, an arrival, a check or the
    timeout)."""
    call = changed.call
    return site_channel(call.site), live_event(CLEARED, changed.change.id, {
        "call_id": call.id, "reason": call.clear_reason, "at": utc_text(call.cleared_at)})


# the ingest: presses, cancels and arrivals ---------------------------------------------------
def on_device_event(db: Session, *, site: str, room: str, device: str, event: Event,
                    received_at: datetime, stale_after: timedelta = STALE_PRESS,
                    facts: list | None = None) -> LiveEvent | None:
    """Open, clear or mark the arrival of a room's call for one new device event; the live
    event to publish once the caller has committed (None: nothing changed). A press that
    reaches the cloud ``stale_after`` past its device time (a room that was offline sends its
    outbox late) opens no call: the customer is long gone, and nobody should run there.
    ``facts`` collects the log lines for the caller to write once it committed (without it
    they are written at once)."""
    def fact(line) -> None:
        if facts is None:
            line()
        else:
            facts.append(line)

    data = event.data
    if device == "callbutton" and isinstance(data, ButtonPress):
        age_ms = received_at.timestamp() * 1000 - event.ts
        if event.synced and age_ms > stale_after / timedelta(milliseconds=1):
            fact(lambda: log.info("calls.stale_press_ignored", site=site, room=room,
                                  age_s=age_ms // 1000))
            return None
        opened = calls.open_call(db=db, site=site, room=room, press_event_id=event.id,
                                 at=received_at)
        if opened is None:
            return None
        call_id = opened.call.id
        fact(lambda: log.info("calls.pressed", call=call_id, site=site, room=room))
        return _pressed(opened)
    if device == "callbutton" and isinstance(data, ButtonCancel):
        changed = calls.clear_call(db=db, site=site, room=room, reason=CANCELLED, at=received_at)
    elif isinstance(data, Occupancy):
        call = calls.open_call_of_room(db=db, site=site, room=room)
        if call is None or not is_arrival(calls.times_of(call), occupied=data.occupied):
            return None
        changed = calls.clear_by_id(db=db, call_id=call.id, reason=ARRIVED, at=received_at)
    else:
        return None
    return None if changed is None else cleared_event(changed)


class SummonOnIngest:
    """The ingest's hook (``IngestWorker(on_events=...)``): inside the batch's transaction it
    turns the batch's new button and occupancy events into call changes; after the commit it
    publishes them on the live bus (``publish_threadsafe``: the ingest's own thread) and logs
    them: a batch rolled back and retried must not have logged calls that never were."""

    def __init__(self, bus) -> None:
        self.bus = bus

    def __call__(self, conn: Connection, events: dict):
        """``events``: event id -> ((site, room, device), event, received ms), new ones only."""
        relevant = sorted((item for item in events.values()
                           if isinstance(item[1].data, (ButtonPress, ButtonCancel, Occupancy))),
                          key=lambda item: item[2])
        if not relevant:
            return None
        outgoing: list[LiveEvent] = []
        facts: list = []
        with Session(bind=conn) as db:
            # an occupancy change matters only in a room with an open call (or one this batch
            # opens): one query for the batch, not one per event (a reconnect storm's
            # backlog holds an occupancy event of every room)
            calling = calls.rooms_with_open_call(db=db) | {
                (site, room) for (site, room, _), event, _ in relevant
                if isinstance(event.data, ButtonPress)}
            for (site, room, device), event, received_ms in relevant:
                if isinstance(event.data, Occupancy) and (site, room) not in calling:
                    continue
                found = on_device_event(db, site=site, room=room, device=device, event=event,
                                        received_at=datetime.fromtimestamp(received_ms / 1000,
                                                                           UTC), facts=facts)
                if found is not None:
                    outgoing.append(found)
            db.flush()
        if not outgoing and not facts:
            return None
        return lambda: self.publish(outgoing, facts)

    def publish(self, outgoing: list[LiveEvent], facts: list = ()) -> None:
        """Publish committed changes and log them (``facts``: the log lines to write)."""
        for line in facts:
            line()
        for channel, event in outgoing:
            self.bus.publish_threadsafe(channel, event)


# the consoles: acknowledging ----------------------------------------------------------------
def acknowledge_call(db: Session, *, call_id: int, staff_id: int, now: datetime
                     ) -> tuple[calls.Acknowledgement, dict]:
    """``staff_id`` takes the call (the caller commits); the outcome and the call as consoles
    see it. Raises ``CallNotFound``."""
    outcome = calls.acknowledge(db=db, call_id=call_id, staff_id=staff_id, at=now)
    return outcome, calls_json(db, [outcome.call])[0]


async def announce_acknowledged(bus, outcome: calls.Acknowledgement, shown: dict) -> None:
    """After the commit: tell every console who took the call, and light the room's button
    steady (``cmd/call_acknowledged`` naming the press it answers)."""
    call = outcome.call
    await bus.publish(site_channel(call.site), live_event(ACKNOWLEDGED, outcome.change.id, {
        "call_id": call.id, "by": shown["acknowledged_by"], "at": shown["acknowledged_at"]}))
    if call.reason == CUSTOMER:
        _, topic, payload = command(call.site, call.room, "callbutton", "call_acknowledged",
                                    event=call.press_event_id)
        bus.send(topic, payload)
    elif call.session_id is not None:
        await bus.publish(session_channel(call.session_id), _to_expert(
            "coming", shown["acknowledged_by"], shown["acknowledged_at"]))
    log.info("calls.acknowledged", call=call.id, site=call.site, room=call.room,
             staff=call.acknowledged_by)


# the expert's request for an identity check -------------------------------------------------
def ask_for_identity_check(db: Session, *, site: str, room: str, session_id: int,
                           now: datetime) -> tuple[Call, LiveEvent | None]:
    """Call the site's advisors to the session's room to check the customer's identity (the
    caller commits, then publishes the event, if any). When the room's call is open already
    (the customer pressed, or the expert asked before) that call stands: whoever comes,
    comes for both."""
    try:
        with db.begin_nested():  # a press committed meanwhile wins the room's one open call
            opened = calls.open_call(db=db, site=site, room=room, at=now, reason=IDENTITY,
                                     press_event_id=f"identity-{session_id}-{uuid4().hex[:16]}",
                                     session_id=session_id)
    except IntegrityError:
        opened = None
    if opened is None:
        return calls.open_call_of_room(db=db, site=site, room=room), None
    note_advisor(db=db, session_id=session_id, kind=ADVISOR_ASKED, now=now)
    log.info("calls.identity_asked", call=opened.call.id, site=site, room=room,
             session=session_id)
    return opened.call, _pressed(opened)


def confirm_identity(db: Session, *, call_id: int, staff_id: int, now: datetime
                     ) -> tuple[calls.Changed | None, str | None]:
    """The advisor confirms the check (the caller commits, then ``announce_confirmed``);
    the change (None: not an open identity call) and the advisor's shown name."""
    changed = calls.confirm_identity(db=db, call_id=call_id, staff_id=staff_id, at=now)
    if changed is None:
        return None, None
    if changed.call.session_id is not None:
        note_advisor(db=db, session_id=changed.call.session_id, kind=IDENTITY_VERIFIED,
                     now=now)
    return changed, display_names(db, staff_ids={staff_id}).get(staff_id)


async def announce_confirmed(bus, changed: calls.Changed, by: str | None) -> None:
    """After the commit: the consoles drop the call, the expert's view shows the check."""
    call = changed.call
    await bus.publish(*cleared_event(changed))
    if call.session_id is not None:
        await bus.publish(session_channel(call.session_id),
                          _to_expert("verified", by, utc_text(call.cleared_at)))
    log.info("calls.identity_verified", call=call.id, site=call.site, room=call.room)


def _to_expert(event: str, by: str | None, at: str | None) -> dict:
    return {"type": "advisor", "event": event, "by": by, "at": at, "to_role": EXPERT}


# the schedule: escalation --------------------------------------------------------------------
def escalation_round(sessions: sessionmaker, *, bus, registry: Registry,
                     rules: EscalationRules, now: datetime, language: str = "fi") -> dict:
    """One round over the open calls: the second alert, the SMS to the site's backup number,
    the timeout; each step committed, then published. Returns what was done."""
    done = {ESCALATE: 0, SMS: 0, EXPIRE: 0}
    with sessions() as db:
        for call in calls.unfinished_calls(db=db):
            step = next_step(calls.times_of(call), rules, now=now)
            if step is None:
                continue
            events = _step(db, call, step, registry, now, language)
            db.commit()
            for event in events:
                bus.publish_threadsafe(*event)
            done[step] += 1
    if any(done.values()):
        log.info("calls.round", **done)
    return done


def _step(db: Session, call: Call, step: str, registry: Registry, now: datetime,
          language: str) -> list[LiveEvent]:
    if step == ESCALATE:
        changed = calls.escalate(db=db, call_id=call.id, at=now)
        if changed is None:
            return []
        log.warning("calls.escalated", call=call.id, site=call.site, room=call.room,
                    escalation=2)
        return [(site_channel(call.site), live_event(ESCALATED, changed.change.id, {
            "call_id": call.id, "level": 2, "at": utc_text(now)}))]
    if step == SMS:
        if calls.mark_sms_sent(db=db, call_id=call.id, at=now):
            _text_backup_number(db, call, registry, now, language)
        return []
    changed = calls.clear_by_id(db=db, call_id=call.id, reason=TIMEOUT, at=now)
    if changed is None:
        return []
    if call.session_id is None:
        return [cleared_event(changed)]
    # the expert's request went unanswered: their view says so, not "sent" for ever
    return [cleared_event(changed), (session_channel(call.session_id),
                                _to_expert("timeout", None, utc_text(now)))]


def _text_backup_number(db: Session, call: Call, registry: Registry, now: datetime,
                        language: str) -> None:
    site = registry.sites[call.site]
    if site.backup_phone is None:
        log.warning("calls.sms_skipped", call=call.id, site=call.site, reason="no_backup_phone")
        return
    waited = max(1, round((now - call.pressed_at) / timedelta(minutes=1)))
    room = site.rooms[call.room].local_name(language) if call.room in site.rooms else call.room
    template = "identity_unanswered" if call.reason == IDENTITY else "call_unanswered"
    enqueue(db, channel="sms", to=site.backup_phone, template=template,
            language=language, reference=f"call:{call.id}", now=now,
            idempotency_key=f"call:{call.id}:sms",
            context={"site_name": getattr(site.name, language, site.name.fi),
                     "room_name": room, "pressed": formats.clock(call.pressed_at, site.zone),
                     "waited": formats.minutes(language, waited)})
    log.warning("calls.sms_queued", call=call.id, site=call.site)
