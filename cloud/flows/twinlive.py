"""The twin's changes to the status pages, a journey across domains: a batch the ingest
committed changed a room's presence or a device's state (twin) -> ``room.changed`` on the
site's fleet channel (live) -> every status page that may read the site's fleet, whichever
API replica holds it, fetches that room's card again.

The event names the room only: what a reader may see of it is decided when the page asks for
the card, under the reader's access, and a lost event is healed by the ``hello`` of the next
connection (the page then fetches every card).
"""
from __future__ import annotations

ROOM_CHANGED = "room.changed"


def fleet_channel(site: str) -> str:
    """The live channel of a site's twin changes (apart from the consoles' ``site/...``
    channel, so a console that does not show the fleet never hears them)."""
    return f"fleet/{site}"


def room_events(rooms: set[tuple[str, str]]) -> list[tuple[str, dict]]:
    """(channel, event) for each changed room, in a stable order."""
    return [(fleet_channel(site), {"type": ROOM_CHANGED, "data": {"site": site, "room": room}})
            for site, room in sorted(rooms)]


class RoomsOnIngest:
    """The ingest's hook (``IngestWorker(on_rooms_changed=...)``): after the commit it
    publishes each changed room on the live bus (``publish_threadsafe``: the ingest's own
    thread)."""

    def __init__(self, bus) -> None:
        self.bus = bus

    def __call__(self, rooms: set[tuple[str, str]]) -> None:
        """Publish ``rooms``, committed already."""
        for channel, event in room_events(rooms):
            self.bus.publish_threadsafe(channel, event)
