"""The room terminal's part in the summon loop, a journey across domains: the kiosk's "call
the advisor" button -> a press of the room's call button on the broker (the replica's one
live-bus connection, as the physical button would publish it) -> the ingest opens the call
(``flows.summon``) -> the terminal reads whether the advisor is called or on the way ->
the advisor's "I am here" tap on the terminal clears the call as arrived -> every console
drops it (live bus).

The press goes through the broker, not straight to the calls' table, so ingest, the twin and
the consoles treat both buttons alike (one open call per room, the same debounce).
"""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from cloud.calls import service as calls
from cloud.calls.models import Call
from cloud.calls.rules import ARRIVED, CUSTOMER
from cloud.flows.summon import LiveEvent, cleared_event
from etapalvelu.logs import event_log
from protocol.codec import encode
from protocol.payloads import Event
from protocol.topics import topic

log = event_log(__name__)
PRESS_TIMEOUT_S = 5.0  # how long the kiosk's press may wait for the broker's PUBACK


def press_message(*, now: datetime) -> bytes:
    """A call-button press as the button itself would publish it."""
    ms = int(now.timestamp() * 1000)
    return encode(Event(ts=ms, seq=ms, id=f"terminal-{secrets.token_hex(10)}",
                        data={"type": "button_press"}))


def call_advisor(bus, *, site: str, room: str, now: datetime,
                 timeout: float = PRESS_TIMEOUT_S) -> bool:
    """Publish a press of the room's call button at QoS 1 over the live ``bus`` and wait
    (blocking) for the broker's ack; False when the broker did not take it."""
    taken = bus.send_confirmed(topic(site, room, "callbutton", "event"),
                               press_message(now=now), timeout=timeout)
    log.info("calls.terminal_press", site=site, room=room, taken=taken)
    return taken


def _customers_call(db: Session, site: str, room: str) -> Call | None:
    call = calls.open_call_of_room(db=db, site=site, room=room)
    return call if call is not None and call.reason == CUSTOMER else None


def room_call_state(db: Session, *, site: str, room: str) -> str | None:
    """What the room's terminal says of the customer's open call: ``called`` (nobody has
    taken it yet), ``coming`` (someone has), or None (no customer's call open)."""
    call = _customers_call(db, site, room)
    if call is None:
        return None
    return "coming" if call.acknowledged_at else "called"


def advisor_arrived(db: Session, *, site: str, room: str, now: datetime) -> LiveEvent | None:
    """The advisor is in the room (a tap on its terminal): the customer's open call is
    cleared as arrived (the caller commits, then publishes); None when there is none."""
    call = _customers_call(db, site, room)
    if call is None:
        return None
    changed = calls.clear_by_id(db=db, call_id=call.id, reason=ARRIVED, at=now)
    if changed is None:
        return None
    log.info("calls.arrived", call=call.id, site=site, room=room, by="terminal")
    return cleared_event(changed)
