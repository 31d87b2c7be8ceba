"""Property tests of the opening-hours engine against a brute-force oracle."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cloud.bookings.hours import (
    HELSINKI,
    SLOT,
    ExpertCapacity,
    Interval,
    Layers,
    OpeningHours,
    WeeklyHours,
    booked_slot_counts,
    free_visits,
    refusal,
)
from cloud.registry import Registry, load_registry

FI_HOLIDAYS = holidays.Finland(years=range(2025, 2028))
START = date(2025, 3, 24)  # a week that holds the spring DST change (30.3.2025)


def half_hours(lo=6 * 60, hi=22 * 60):
    return st.integers(lo // 15, hi // 15).map(lambda q: q * 15)  # quarter hours: misaligned too


@st.composite
def spans(draw, lo=6 * 60, hi=22 * 60):
    points = sorted(draw(st.lists(half_hours(lo, hi), min_size=0, max_size=4, unique=True)))
    if len(points) % 2:
        points = points[:-1]
    return tuple(zip(points[::2], points[1::2]))


@st.composite
def weekly(draw):
    return WeeklyHours({day: draw(spans()) for day in range(7)})


@st.composite
def instants(draw, days=14):
    minutes = draw(st.integers(0, days * 24 * 4)) * 15
    return datetime.combine(START, datetime.min.time(), HELSINKI).astimezone(UTC) \
        + timedelta(minutes=minutes)


@st.composite
def intervals(draw, max_len=8):
    start = draw(instants())
    return Interval(start, start + timedelta(minutes=15 * draw(st.integers(1, max_len))))


@st.composite
def scenarios(draw):
    exception_days = draw(st.lists(st.integers(0, 13), max_size=3, unique=True))
    hours = OpeningHours(
        building=draw(weekly()),
        service=draw(st.one_of(st.just(OpeningHours.__dataclass_fields__["service"].default),
                               weekly())),
        exceptions={START + timedelta(days=d): draw(spans()) for d in exception_days},
        holidays=frozenset(START + timedelta(days=d)
                           for d in draw(st.lists(st.integers(0, 13), max_size=2))),
    )
    capacity = draw(st.one_of(st.none(), st.builds(
        lambda n, s: ExpertCapacity({d: ((s, 1440, n),) for d in range(7)}),
        st.integers(0, 2), half_hours(0, 12 * 60))))
    layers = Layers(room_blocked=draw(st.lists(intervals(48), max_size=3)),
                    room_bookings=draw(st.lists(aligned_visits(), max_size=6)),
                    authority_load=booked_slot_counts(draw(st.lists(aligned_visits(),
                                                                    max_size=6))),
                    capacity=capacity,
                    not_before=draw(st.one_of(st.none(), instants())))
    return hours, layers, draw(st.sampled_from([1, 2]))


@st.composite
def aligned_visits(draw):
    start = draw(instants())
    start = start.replace(minute=start.minute - start.minute % 30)
    return Interval(start, start + SLOT * draw(st.sampled_from([1, 2])))


def local_minutes(instant: datetime) -> tuple[date, int]:
    local = instant.astimezone(HELSINKI)
    return local.date(), local.hour * 60 + local.minute


def oracle_fits(hours: OpeningHours, layers: Layers, visit: Interval) -> bool:
    """Check one candidate visit, slot by slot, against every layer independently."""
    if layers.not_before is not None and visit.start < layers.not_before:
        return False
    counts = layers.authority_load
    for at in visit.slot_starts():
        day, minute = local_minutes(at)
        building = hours.exceptions.get(day, hours.building.on(day.weekday()))
        service = hours.service.on(day.weekday())
        slot = Interval(at, at + SLOT)
        checks = [
            day not in hours.holidays,
            any(s <= minute and minute + 30 <= e for s, e in building),
            any(s <= minute and minute + 30 <= e for s, e in service),
            not any(slot.overlaps(b) for b in layers.room_blocked),
            not any(slot.overlaps(b) for b in layers.room_bookings),
            layers.capacity is None or counts.get(at, 0) < layers.capacity.experts_at(at),
        ]
        if not all(checks):
            return False
    return True


def candidates(slots: int) -> list[Interval]:
    first = datetime.combine(START, datetime.min.time(), HELSINKI).astimezone(UTC)
    return [Interval(first + SLOT * i, first + SLOT * (i + slots)) for i in range(14 * 48)]


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_free_visits_are_exactly_those_every_layer_allows(scenario):
    hours, layers, slots = scenario
    offered = free_visits(hours.between(START, START + timedelta(days=13)), slots, layers)
    expected = [v for v in candidates(slots) if oracle_fits(hours, layers, v)]
    assert offered == expected


@settings(max_examples=80, deadline=None)
@given(scenarios())
def test_refusal_agrees_with_the_offered_visits(scenario):
    hours, layers, slots = scenario
    offered = set(free_visits(hours.between(START, START + timedelta(days=13)), slots, layers))
    for visit in candidates(slots)[::3]:
        assert (refusal(hours, visit, layers) is None) == (visit in offered)


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_a_visit_never_spans_a_closing_or_another_booking(scenario):
    hours, layers, _ = scenario
    open_ = hours.between(START, START + timedelta(days=13))
    for visit in free_visits(open_, 2, layers):
        assert any(piece.contains(visit) for piece in open_)
        assert not any(visit.overlaps(b) for b in layers.room_bookings)


PILOT = OpeningHours(building=WeeklyHours.every_weekday((8 * 60, 16 * 60)), holidays=FI_HOLIDAYS)


def local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=HELSINKI)


def test_a_pilot_day_has_twelve_slots_from_nine_to_three_local_across_dst():
    for day in (date(2025, 3, 28), date(2025, 3, 31), date(2025, 10, 24), date(2025, 10, 27)):
        visits = free_visits(PILOT.intervals(day), 1, Layers())
        assert len(visits) == 12
        assert visits[0].start == local(day, 9) and visits[-1].end == local(day, 15)


def test_a_day_open_round_the_clock_has_46_or_50_slots_on_dst_sundays():
    always = WeeklyHours.every_weekday((0, 1440), weekdays=range(7))
    hours = OpeningHours(building=always, service=always)
    assert len(free_visits(hours.intervals(date(2025, 3, 30)), 1, Layers())) == 46
    assert len(free_visits(hours.intervals(date(2025, 10, 26)), 1, Layers())) == 50
    assert len(free_visits(hours.intervals(date(2025, 10, 27)), 1, Layers())) == 48


def test_public_holidays_and_weekends_are_closed():
    for day in (date(2025, 12, 24), date(2025, 12, 25), date(2026, 1, 6), date(2025, 11, 29)):
        assert PILOT.intervals(day) == []
    visit = Interval(local(date(2025, 12, 24), 10), local(date(2025, 12, 24), 10, 30))
    assert refusal(PILOT, visit, Layers()) == "holiday"


def test_refusals_name_the_layer_that_refused():
    day = date(2025, 11, 12)
    early = OpeningHours(building=WeeklyHours.every_weekday((8 * 60, 12 * 60)))
    assert refusal(early, Interval(local(day, 13), local(day, 13, 30)), Layers()) \
        == "building_closed"
    assert refusal(early, Interval(local(day, 8), local(day, 8, 30)), Layers()) \
        == "outside_hours"
    visit = Interval(local(day, 11, 30), local(day, 12, 30))
    assert refusal(early, visit, Layers()) == "building_closed"  # spans the closing
    assert refusal(PILOT, Interval(local(day, 10, 15), local(day, 10, 45)), Layers()) \
        == "misaligned"
    assert refusal(PILOT, Interval(local(day, 10), local(day, 11, 30)), Layers()) == "bad_length"
    visit = Interval(local(day, 10), local(day, 11))
    assert refusal(PILOT, visit, Layers(room_bookings=[
        Interval(local(day, 10, 30), local(day, 11))])) == "slot_taken"
    assert refusal(PILOT, visit, Layers(room_blocked=[
        Interval(local(day, 10, 50), local(day, 12))])) == "room_unavailable"
    assert refusal(PILOT, visit, Layers(not_before=local(day, 10, 31))) == "in_the_past"
    none_free = ExpertCapacity({2: ((540, 900, 1),)})
    assert refusal(PILOT, visit, Layers(capacity=none_free, authority_load=booked_slot_counts([
        Interval(local(day, 10), local(day, 10, 30))]))) == "no_expert"


def test_the_sites_hours_answer_open_and_opening_soon_at_their_edges():
    nurmes = OpeningHours(building=WeeklyHours.every_weekday((10 * 60, 15 * 60)),
                          holidays=FI_HOLIDAYS)
    day = date(2025, 11, 12)
    assert not nurmes.is_open(local(day, 9, 59)) and nurmes.is_open(local(day, 10))
    assert not nurmes.is_open(local(day, 15))  # closing is exclusive
    hour = timedelta(hours=1)
    assert nurmes.serves_within(local(day, 9), hour)  # opens exactly an hour on
    assert not nurmes.serves_within(local(day, 8, 59), hour)
    assert not nurmes.serves_within(local(day, 15), hour)
    ascension_eve = local(date(2026, 5, 13), 23)  # Wednesday; Ascension Day closes Thursday
    assert not nurmes.serves_within(ascension_eve, 12 * hour)
    assert nurmes.serves_within(local(date(2026, 5, 12), 23), 12 * hour)


def test_a_registry_with_a_malformed_span_of_hours_is_refused_at_load():
    data = load_registry().model_dump()
    data["sites"]["nurmes"]["building_hours"] = {"mon-fri": ["10:00-25:00"]}
    with pytest.raises(ValidationError, match="span must run forward"):
        Registry.model_validate(data)
