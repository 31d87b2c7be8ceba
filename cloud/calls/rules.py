"""Pure rules of a call's escalation: what is due at ``now``, from the call's times."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

ESCALATE, SMS, EXPIRE = "escalate", "sms", "expire"
# who called: the customer in the room (the button, the terminal's button), or the expert
# of the room's session asking the advisor to check the customer's identity
CUSTOMER, IDENTITY = "customer", "identity"
REASONS = (CUSTOMER, IDENTITY)
CANCELLED, ARRIVED, TIMEOUT, VERIFIED = "cancelled", "arrived", "timeout", "verified"
CLEAR_REASONS = (CANCELLED, ARRIVED, TIMEOUT, VERIFIED)


@dataclass(frozen=True)
class EscalationRules:
    """Seconds from the press to the second alert, from the second alert to the SMS to the
    site's backup number, and from the press to clearing a call nobody closed."""

    second_alert_s: float
    sms_after_s: float
    expire_after_s: float


@dataclass(frozen=True)
class CallTimes:
    """The instants of a call the rules read (None: not yet)."""

    pressed_at: datetime
    escalated_at: datetime | None = None
    sms_at: datetime | None = None
    acknowledged_at: datetime | None = None
    cleared_at: datetime | None = None
    reason: str = CUSTOMER


def next_step(times: CallTimes, rules: EscalationRules, *, now: datetime) -> str | None:
    """The step due for a call at ``now``: ``ESCALATE`` (the second alert), ``SMS``,
    ``EXPIRE`` (clear it as timed out) or None. An acknowledged call escalates no further:
    someone is coming."""
    if times.cleared_at is not None:
        return None
    if now - times.pressed_at >= timedelta(seconds=rules.expire_after_s):
        return EXPIRE
    if times.acknowledged_at is not None:
        return None
    if times.escalated_at is None:
        due = now - times.pressed_at >= timedelta(seconds=rules.second_alert_s)
        return ESCALATE if due else None
    if times.sms_at is None and now - times.escalated_at >= timedelta(seconds=rules.sms_after_s):
        return SMS
    return None


def is_arrival(times: CallTimes, *, occupied: bool) -> bool:
    """Whether an occupancy change tells that help arrived: the room turned occupied while an
    acknowledged call was open. Before anyone acknowledged, the customer's own movements
    (the sensor's vacant-occupied flicker) say nothing of an advisor. An identity check ends
    when the advisor confirms it, not when they walk in: the customer is in the room anyway."""
    return (occupied and times.reason == CUSTOMER and times.cleared_at is None
            and times.acknowledged_at is not None)
