"""The escalation rules of a call, without I/O."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cloud.calls.rules import (
    ESCALATE,
    EXPIRE,
    SMS,
    CallTimes,
    EscalationRules,
    is_arrival,
    next_step,
)

PRESSED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
RULES = EscalationRules(second_alert_s=60, sms_after_s=120, expire_after_s=1800)


def after(seconds: float) -> datetime:
    return PRESSED + timedelta(seconds=seconds)


def test_an_unanswered_call_gets_its_second_alert_after_the_configured_time():
    assert next_step(CallTimes(PRESSED), RULES, now=after(59.9)) is None
    assert next_step(CallTimes(PRESSED), RULES, now=after(60)) == ESCALATE


def test_the_sms_follows_the_second_alert_by_its_own_delay_and_only_once():
    escalated = CallTimes(PRESSED, escalated_at=after(75))  # the round ran late
    assert next_step(escalated, RULES, now=after(75 + 119)) is None
    assert next_step(escalated, RULES, now=after(75 + 120)) == SMS
    texted = CallTimes(PRESSED, escalated_at=after(75), sms_at=after(195))
    assert next_step(texted, RULES, now=after(600)) is None


def test_an_acknowledged_call_escalates_no_further_but_still_times_out():
    taken = CallTimes(PRESSED, acknowledged_at=after(10))
    assert next_step(taken, RULES, now=after(500)) is None
    assert next_step(taken, RULES, now=after(1800)) == EXPIRE


def test_a_cleared_call_needs_nothing():
    assert next_step(CallTimes(PRESSED, cleared_at=after(5)), RULES, now=after(5000)) is None


def test_only_an_occupied_room_after_an_acknowledgement_counts_as_the_advisors_arrival():
    assert not is_arrival(CallTimes(PRESSED), occupied=True)  # the customer moving about
    taken = CallTimes(PRESSED, acknowledged_at=after(10))
    assert is_arrival(taken, occupied=True)
    assert not is_arrival(taken, occupied=False)
