"""The response clock as the support console shows it: time left in the party's service
hours, paused while they are closed, overdue by wall time, stopped at the acknowledgement.
Pure: the sample matrix's supplier desk (Mon-Fri 08:00-16:15, 30 min) and a fixed ``now``."""
from __future__ import annotations

from datetime import timedelta

from cloud.formats import duration
from cloud.incidents.matrix import SAMPLE_MATRIX, load_matrix
from cloud.incidents.models import Incident
from cloud.incidents.pages import clock_text
from cloud.incidents.service import response_clock
from tests.support_console.conftest import helsinki

MATRIX = load_matrix(SAMPLE_MATRIX, ["porvoo", "imatra", "nurmes"])
ALLOWED = timedelta(minutes=30)


def supplier_incident(*, opened, notified=None, acknowledged=None, severity="major",
                      state=None) -> Incident:
    """An incident of the supplier's desk as the engine leaves it."""
    due = None
    if notified is not None:
        due = MATRIX.clock("supplier").due(notified, ALLOWED, critical=severity == "critical")
    return Incident(party="supplier", severity=severity, opened_at=opened, notified_at=notified,
                    due_at=due, acknowledged_at=acknowledged, updated_at=opened,
                    state=state or ("acknowledged" if acknowledged else
                                    "notified" if notified else "open"))


def test_a_notified_incident_shows_the_clock_time_left_in_service_hours():
    clock = response_clock(incident=supplier_incident(opened=helsinki(10, 7, 50),
                                                      notified=helsinki(10, 7, 55)),
                           matrix=MATRIX, now=helsinki(10, 8, 10))
    assert (clock.status, clock.left, clock.due) == ("running", timedelta(minutes=20),
                                                     helsinki(10, 8, 30))
    assert clock_text("fi", clock) == "20 min jäljellä (viimeistään 10.11.2025 08:30)"


def test_the_clock_is_paused_overnight_and_the_time_left_carries_to_the_morning():
    incident = supplier_incident(opened=helsinki(7, 16, 0), notified=helsinki(7, 16, 0))
    clock = response_clock(incident=incident, matrix=MATRIX, now=helsinki(7, 18, 0))  # Friday
    assert (clock.status, clock.left, clock.due) == ("paused", timedelta(minutes=15),
                                                     helsinki(10, 8, 15))  # Monday
    assert clock_text("en", clock).startswith("15 min left, paused outside service hours")


def test_past_due_the_console_says_by_how_much_in_wall_time():
    incident = supplier_incident(opened=helsinki(7, 15, 0), notified=helsinki(7, 15, 0))
    clock = response_clock(incident=incident, matrix=MATRIX, now=helsinki(10, 8, 10))
    assert clock.status == "breached" and clock.breached
    assert clock.over == timedelta(days=2, hours=16, minutes=40)
    assert clock_text("sv", clock) == ("Svarstiden överskriden med 64 h 40 min "
                                       "(senast 7.11.2025 15:30)")


def test_an_acknowledgement_stops_the_clock_at_the_service_time_it_took():
    incident = supplier_incident(opened=helsinki(10, 7, 50), notified=helsinki(10, 7, 55),
                                 acknowledged=helsinki(10, 8, 10))
    later = response_clock(incident=incident, matrix=MATRIX, now=helsinki(10, 12, 0))
    assert (later.status, later.used, later.breached) == ("stopped", timedelta(minutes=10), False)
    assert clock_text("fi", later) == "Pysähtyi kuittaukseen ajassa 10 min"


def test_a_late_acknowledgement_stays_marked_breached():
    incident = supplier_incident(opened=helsinki(10, 8, 0), notified=helsinki(10, 8, 0),
                                 acknowledged=helsinki(10, 9, 5))
    clock = response_clock(incident=incident, matrix=MATRIX, now=helsinki(10, 12, 0))
    assert clock.status == "stopped" and clock.breached
    assert "late" in clock_text("en", clock)


def test_a_critical_incident_counts_around_the_clock():
    incident = supplier_incident(opened=helsinki(7, 20, 0), notified=helsinki(7, 20, 0),
                                 severity="critical")
    clock = response_clock(incident=incident, matrix=MATRIX, now=helsinki(7, 20, 20))
    assert (clock.status, clock.left) == ("running", timedelta(minutes=10))


def test_an_undelivered_incident_counts_from_its_opening_as_the_escalation_does():
    incident = supplier_incident(opened=helsinki(10, 8, 0))
    clock = response_clock(incident=incident, matrix=MATRIX, now=helsinki(10, 8, 45))
    assert (clock.status, clock.due) == ("breached", helsinki(10, 8, 30))


def test_durations_round_up_to_the_minute_so_none_left_reads_zero():
    assert duration("fi", timedelta(seconds=1)) == "1 min"
    assert duration("fi", timedelta(0)) == "0 min"
    assert duration("en", timedelta(hours=1, minutes=5)) == "1 h 5 min"
