"""The summon flow's decisions on device events, over the real store (SQLite and
PostgreSQL)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cloud.calls import service
from cloud.flows.summon import on_device_event
from protocol.payloads import ButtonCancel, ButtonPress, Event, Occupancy

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
N = iter(range(1, 1000))


def event(data, *, at: datetime = NOW, synced: bool = True) -> Event:
    n = next(N)
    return Event(ts=int(at.timestamp() * 1000), seq=n, id=f"flow-event-{n:04d}", data=data,
                 synced=synced)


def feed(db, device: str, data, *, received_at: datetime = NOW, **kwargs):
    return on_device_event(db, site="porvoo", room="r1", device=device,
                           event=event(data, **kwargs), received_at=received_at)


def test_a_press_rings_its_site_and_a_long_press_clears_it(sessions):
    with sessions() as db:
        channel, pressed = feed(db, "callbutton", ButtonPress(type="button_press"))
        assert channel == "site/porvoo" and pressed["type"] == "call.pressed"
        channel, cleared = feed(db, "callbutton", ButtonCancel(type="button_cancel"),
                                received_at=NOW + timedelta(seconds=20))
        assert cleared["data"] == {"call_id": pressed["data"]["call_id"], "reason": "cancelled",
                                   "at": "2026-03-02T08:00:20Z"}
        assert cleared["cursor"] > pressed["cursor"]


def test_a_press_delivered_long_after_it_was_made_opens_no_call(sessions):
    with sessions() as db:
        late = feed(db, "callbutton", ButtonPress(type="button_press"),
                    at=NOW - timedelta(minutes=40))
        assert late is None and service.open_calls(db=db) == []
        unsynced = feed(db, "callbutton", ButtonPress(type="button_press"), synced=False,
                        at=datetime(1970, 1, 1, 0, 5, tzinfo=UTC))  # ms since boot
        assert unsynced is not None  # placed at the cloud's receive time


def test_the_room_turning_occupied_clears_only_an_acknowledged_call_as_arrived(sessions):
    with sessions() as db:
        _, pressed = feed(db, "callbutton", ButtonPress(type="button_press"))
        call_id = pressed["data"]["call_id"]
        occupied = Occupancy(type="occupancy", occupied=True)
        assert feed(db, "occupancy", occupied) is None  # nobody has answered yet
        service.acknowledge(db=db, call_id=call_id, staff_id=3, at=NOW + timedelta(seconds=5))
        _, arrived = feed(db, "occupancy", occupied, received_at=NOW + timedelta(seconds=40))
        assert arrived["data"]["reason"] == "arrived"
        call = service.get_call(db=db, call_id=call_id)
        assert call.arrived_at == NOW + timedelta(seconds=40)
