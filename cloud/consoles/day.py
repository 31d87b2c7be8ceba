"""What the consoles show of a day, read through the domains' service functions: a site's
visits with their status, its rooms (readiness, devices, occupancy, the visit in the room)
and its open incidents with the party and the SLA clock; an authority's visits for its
experts. Times are in the site's zone (``cloud.sites.hours.site_zone``), shown through
``cloud.formats``; the SLA clock is the incidents' own ``response_clock``, the one the support
party's pages show."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cloud import formats
from cloud.bookings import service as bookings
from cloud.consoles.rules import arrival, terminal_missing, visit_status
from cloud.incidents import service as incidents
from cloud.registry import Registry
from cloud.sessions import service as video_sessions
from cloud.sites import service as sites
from cloud.sites.hours import DEFAULT_ZONE, day_window, site_zone
from cloud.twin import service as twin
from cloud.twin.rules import RoomReadiness, room_readiness

ACTIVE_VISITS = ("due", "checked_in", "in_session")


def names(value) -> dict | str:
    """A registry name as ``name(...)`` in the templates takes it: a ``{fi, sv, en}`` dict."""
    return value.model_dump() if hasattr(value, "model_dump") else value


def room_names(room) -> dict[str, str]:
    """A registry room's name in each language (its own name where it has no such form)."""
    return {lang: room.local_name(lang) for lang in ("fi", "sv", "en")}


def local_day(now: datetime, zone: ZoneInfo = DEFAULT_ZONE) -> date:
    """The local calendar day of ``now`` (today, for the clock's now)."""
    return now.astimezone(zone).date()


def slot_times(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """A slot as ``09:30–10:00`` in ``zone``."""
    return f"{formats.clock(start, zone)}–{formats.clock(end, zone)}"


@dataclass(frozen=True)
class InterpreterNeed:
    """The interpreter a visit needs: ISO 639-3 ``language``, ``mode`` (video | room) and,
    for one by video, where they stand in the session (``state``: not_yet | waiting |
    joined | away, as ``cloud.sessions.service.interpreter_states`` says)."""

    language: str
    mode: str
    state: str | None = None


@dataclass(frozen=True)
class Visit:
    """One booking as a console lists it."""

    id: int
    site: str
    room: str
    start: datetime
    end: datetime
    authority: str
    service: str
    channel: str
    customer: str
    status: str       # due | checked_in | in_session | done | no_show | cancelled
    version: int
    terminal_missing: bool = False  # the slot began and the room terminal never joined
    zone: ZoneInfo = DEFAULT_ZONE   # the site's
    interpreter: InterpreterNeed | None = None
    without_video: bool = False     # no video session names it: the advisor ends it ("done")

    @property
    def active(self) -> bool:
        """Whether the visit is still to happen or happening."""
        return self.status in ACTIVE_VISITS

    @property
    def times(self) -> str:
        """``09:30–10:00`` in the site's local time."""
        return slot_times(self.start, self.end, self.zone)


@dataclass(frozen=True)
class RoomView:
    """A room of the site now."""

    id: str
    name: dict | str
    readiness: RoomReadiness
    devices: tuple[tuple[str, str | None], ...]
    occupied: bool | None
    current: Visit | None


@dataclass(frozen=True)
class OpenIncident:
    """An open incident of the site, its party and its SLA clock (None when the matrix no
    longer knows its party)."""

    id: int
    room: str | None
    device: str | None
    category: str
    severity: str
    state: str
    party: dict[str, str] | str  # per language, as the template's name(...) takes it
    opened: datetime
    acknowledged: bool
    clock: incidents.ResponseClock | None


@dataclass(frozen=True)
class SiteDay:
    """Everything the advisor console shows of a site today."""

    site: str
    day: date
    visits: list[Visit]
    rooms: list[RoomView]
    incidents: list[OpenIncident]
    open_now: bool


def _occupancy(session: Session, site: str) -> dict[str, bool]:
    return {room: occupied for s, room, occupied, _ in twin.room_occupancy(db=session)
            if s == site}


def _visits(session: Session, registry: Registry, found: list, occupied,
            now: datetime) -> list[Visit]:
    """Bookings as visits: their status from the booking, their video session (when the
    platform holds one) and, without one, the room's occupancy (``occupied(booking)``)."""
    videos = video_sessions.booking_videos(db=session, booking_ids=[b.id for b in found])
    interpreters = video_sessions.interpreter_states(
        db=session, booking_ids=[b.id for b in found if b.interpreter_mode == "video"])
    return [_visit(b, occupied(b), videos.get(b.id), now, site_zone(registry, b.site),
                   _interpreter(b, interpreters))
            for b in found]


def _interpreter(booking, states: dict[int, str]) -> InterpreterNeed | None:
    if booking.interpreter_language is None:
        return None
    state = states.get(booking.id, video_sessions.INTERPRETER_NOT_YET) \
        if booking.interpreter_mode == "video" else None
    return InterpreterNeed(booking.interpreter_language, booking.interpreter_mode, state)


def _visit(booking, occupied: bool, video, now: datetime, zone: ZoneInfo,
           interpreter: InterpreterNeed | None = None) -> Visit:
    status = visit_status(booking.status, start=booking.start, end=booking.end,
                          occupied=occupied, now=now, video=video.state if video else None)
    missing = terminal_missing(status, start=booking.start, now=now,
                               terminal_joined=video.terminal_joined if video else None)
    return Visit(booking.id, booking.site, booking.room, booking.start, booking.end,
                 booking.authority, booking.service, booking.channel,
                 booking.customer_name or "–", status, booking.version, missing, zone,
                 interpreter, video is None)


def site_visits(session: Session, *, registry: Registry, site: str, day: date,
                now: datetime) -> list[Visit]:
    """The site's bookings of ``day`` by time, cancelled ones included (the advisor sees
    what changed)."""
    start, end = day_window(day, site_zone(registry, site))
    occupancy = _occupancy(session, site)
    found = bookings.bookings_between(session, start=start, end=end, site=site,
                                      include_cancelled=True)
    return _visits(session, registry, found, lambda b: occupancy.get(b.room, False), now)


def site_rooms(session: Session, *, registry: Registry, site: str, visits: list[Visit],
               now: datetime) -> list[RoomView]:
    """Each room of the site: the twin's readiness rule on its devices, its occupancy and
    the visit it holds now."""
    occupancy = _occupancy(session, site)
    rooms = []
    for room_id, room in registry.sites[site].rooms.items():
        online, states = twin.room_state(session, site=site, room=room_id)
        readiness = room_readiness(online, states, room.devices)
        current = next((v for v in visits if v.room == room_id and v.active
                        and v.start <= now < v.end), None)
        devices = tuple((d, states.get(d)) for d in room.devices if d != "agent")
        rooms.append(RoomView(room_id, room_names(room), readiness, devices,
                              occupancy.get(room_id), current))
    return rooms


def site_incidents(session: Session, *, routing: incidents.Routing, site: str,
                   now: datetime) -> list[OpenIncident]:
    """The site's incidents not yet resolved, oldest first, with the responsible party and
    the response clock at ``now``."""
    found = [i for i in incidents.active_incidents(session) if i.site == site]
    return [OpenIncident(i.id, i.room, i.device, i.category, i.severity, i.state,
                         _party_name(routing, i.party), i.opened_at,
                         i.acknowledged_at is not None, _clock(routing, i, now))
            for i in sorted(found, key=lambda i: i.opened_at)]


def _party_name(routing: incidents.Routing, party: str) -> dict[str, str] | str:
    try:
        return routing.matrix.party(party).shown_name
    except KeyError:
        return party


def _clock(routing: incidents.Routing, incident,
           now: datetime) -> incidents.ResponseClock | None:
    """The incident's response clock, as the support party's pages show it."""
    try:
        return incidents.response_clock(incident=incident, matrix=routing.matrix, now=now)
    except KeyError:  # a party gone from the matrix: no clock to show
        return None


def site_day(session: Session, *, registry: Registry, routing: incidents.Routing, site: str,
             now: datetime) -> SiteDay:
    """The advisor console's day of ``site`` at ``now``."""
    day = local_day(now, site_zone(registry, site))
    visits = site_visits(session, registry=registry, site=site, day=day, now=now)
    hours = sites.hours_around(session, registry=registry, site=site, instant=now,
                               ahead=timedelta(0))
    return SiteDay(site, day, visits,
                   site_rooms(session, registry=registry, site=site, visits=visits, now=now),
                   site_incidents(session, routing=routing, site=site, now=now),
                   hours.is_open(now))


@dataclass(frozen=True)
class ExpertVisit:
    """A visit of the expert's authority today, with the customer's arrival."""

    visit: Visit
    arrival: str  # due | checked_in | in_room | done | no_show


def authority_day(session: Session, *, registry: Registry, authority: str,
                  now: datetime) -> list[ExpertVisit]:
    """The authority's visits of today at every site, by time (cancelled ones left out)."""
    start, end = day_window(local_day(now))
    occupancy = {(s, r): o for s, r, o, _ in twin.room_occupancy(db=session)}
    found = bookings.bookings_between(session, start=start, end=end, authority=authority)
    visits = _visits(session, registry, found,
                     lambda b: occupancy.get((b.site, b.room), False), now)
    return [ExpertVisit(visit, arrival(visit.status)) for visit in visits]


@dataclass(frozen=True)
class StartedSession:
    """A session of the expert's authority started in a room without a booking (a walk-in
    the site's advisor or another expert opened at ``/sessions/new``)."""

    id: int
    site: str
    room: str
    start: datetime
    end: datetime
    service: str
    created_by: str
    state: str  # not_started | live | ended
    zone: ZoneInfo = DEFAULT_ZONE

    @property
    def times(self) -> str:
        """``09:30–10:00`` in the site's local time."""
        return slot_times(self.start, self.end, self.zone)


def started_sessions(session: Session, *, registry: Registry, authority: str | None,
                     now: datetime) -> list[StartedSession]:
    """The authority's sessions of today that have no booking, by time: the expert opens
    them from the day like the booked visits."""
    start, end = day_window(local_day(now))
    return [StartedSession(
        s.id, s.site, s.room, s.slot_start, s.slot_end, s.service, s.created_by,
        video_sessions.ENDED if s.ended_at else video_sessions.LIVE if s.started_at
        else video_sessions.NOT_STARTED, site_zone(registry, s.site))
        for s in video_sessions.without_booking(db=session, authority=authority, start=start,
                                                end=end)]
