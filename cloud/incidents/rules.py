"""Detection rules, pure: what a twin state means, debounce and flapping, inhibition,
silences, severity. Every decision takes ``now``; nothing here does I/O."""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cloud.sites.hours import OpeningHours
from cloud.twin.rules import AGENT, stops_service

CRITICAL, MAJOR, MINOR = "critical", "major", "minor"
SEVERITY_RANK = {MINOR: 0, MAJOR: 1, CRITICAL: 2}
# the platform's own conditions are of no site or room: "*" (as the matrix's "any")
PLATFORM, ANY = "platform", "*"


@dataclass(frozen=True, slots=True)
class ConditionKey:
    """What a condition is about: a device (or the agent) of a room, and which rule."""

    site: str
    room: str
    device: str
    rule: str

    def __str__(self) -> str:
        return f"{self.site}/{self.room}/{self.device}/{self.rule}"


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule's reading of one twin fact: active or not, and what to call it."""

    key: ConditionKey
    active: bool
    state: str | None = None
    code: str | None = None


def health_finding(site: str, room: str, device: str, state: str | None,
                   code: str | None) -> Finding:
    """The health rule: a device (or agent presence) that is not well is an active condition.

    Agent presence uses ``online``/``offline``; devices use ``ok``/``degraded``/``fault``/
    ``missing``; an unknown (NULL) state is not a condition."""
    if device == AGENT:
        return Finding(ConditionKey(site, room, AGENT, "offline"), state == "offline", state, code)
    active = state in ("degraded", "fault", "missing")
    return Finding(ConditionKey(site, room, device, "health"), active, state, code)


def threshold_finding(site: str, room: str, device: str, rule: str, value: float | None,
                      bound: float, code: str) -> Finding:
    """A rule over a number of the twin (silence seconds, clock skew, lost messages)."""
    active = value is not None and abs(value) > bound
    return Finding(ConditionKey(site, room, device, rule), active,
                   "degraded" if active else "ok", code)


def platform_key(rule: str) -> ConditionKey:
    """A condition of the platform itself (``mass_disconnect``, ``broker_unreachable``)."""
    return ConditionKey(ANY, ANY, PLATFORM, rule)


def category_of(key: ConditionKey, state: str | None) -> str:
    """The fault category a condition is routed by."""
    if key.device == PLATFORM:
        return "platform"  # the cloud or the broker: the platform's operator
    if key.device == AGENT or key.rule in ("clock_skew", "data_loss"):
        return "system"  # the platform's own health: the supplier looks first
    if key.device == "network":
        return "terminal_network"
    return "equipment"


def rule_name(key: ConditionKey, state: str | None, code: str | None) -> str:
    """A short name of what happened, for people (``agent_offline``, ``doccam_fault``...)."""
    if key.device == AGENT:
        return "agent_offline"
    if key.device == PLATFORM:
        return key.rule
    if key.rule == "health":
        return f"{key.device}_{code if code == 'battery_low' else state or 'unknown'}"
    return f"{key.device}_{key.rule}"


def cannot_serve(key: ConditionKey, state: str | None) -> bool:
    """Whether the condition keeps its room from serving (the twin's rule): the agent is
    offline, or an essential device is down."""
    if key.device == AGENT:
        return True
    return key.rule == "health" and state is not None and stops_service(key.device, state)


def severity(key: ConditionKey, state: str | None, now: datetime, opening: OpeningHours | None,
             lead: timedelta) -> str:
    """Critical when the room cannot serve during the site's opening hours or within ``lead``
    before they start; major when it cannot serve outside them; minor otherwise. A platform
    condition is critical: it keeps every room it touches from serving."""
    if key.device == PLATFORM:
        return CRITICAL
    if not cannot_serve(key, state):
        return MINOR if state == "degraded" or key.rule != "health" else MAJOR
    return CRITICAL if opening.serves_within(now, lead) else MAJOR


@dataclass(frozen=True)
class DebouncePolicy:
    """How long a condition must hold before an incident opens, and recovery before it
    resolves; how many changes in a window count as flapping, and how long flapping must go
    on before it becomes an incident of its own."""

    open_after: timedelta = timedelta(seconds=60)
    resolve_after: timedelta = timedelta(seconds=120)
    flap_window: timedelta = timedelta(minutes=5)
    flap_changes: int = 6
    flap_open_after: timedelta = timedelta(minutes=10)


OPEN, RESOLVE = "open", "resolve"


@dataclass
class Condition:
    """The debounced history of one condition; ``incident`` is set while one is open."""

    key: ConditionKey
    active: bool = False
    since: datetime | None = None
    state: str | None = None
    code: str | None = None
    changes: deque = field(default_factory=deque)
    flapping_since: datetime | None = None
    incident: int | None = None
    seen_at: datetime | None = None

    def observe(self, finding: Finding, at: datetime, policy: DebouncePolicy) -> None:
        """Take a new reading made at ``at``; a reading older than the last one is stale."""
        if self.seen_at is not None and at < self.seen_at:
            return
        self.seen_at = at
        self.state, self.code = finding.state, finding.code
        if finding.active != self.active or self.since is None:
            if self.since is not None:
                self.changes.append(at)
            self.active, self.since = finding.active, at
        self._prune(at, policy)

    def flapping(self, now: datetime, policy: DebouncePolicy) -> bool:
        """Whether the condition changes too often to be trusted either way."""
        self._prune(now, policy)
        return self.flapping_since is not None

    def decide(self, now: datetime, policy: DebouncePolicy) -> str | None:
        """``OPEN``, ``RESOLVE`` or None, by the debounce and flapping rules (None while the
        condition has no reading yet)."""
        if self.since is None:
            return None
        flapping = self.flapping(now, policy)
        if self.incident is None:
            held = self.active and now - self.since >= policy.open_after
            flapped = flapping and now - self.flapping_since >= policy.flap_open_after
            return OPEN if held or flapped else None
        cleared = not self.active and now - self.since >= policy.resolve_after
        return RESOLVE if cleared and not flapping else None

    def _prune(self, now: datetime, policy: DebouncePolicy) -> None:
        while self.changes and now - self.changes[0] > policy.flap_window:
            self.changes.popleft()
        if len(self.changes) >= policy.flap_changes:
            self.flapping_since = self.flapping_since or self.changes[0]
        elif not self.changes or len(self.changes) < policy.flap_changes // 2:
            self.flapping_since = None  # calm again (hysteresis: half the threshold)


def inhibited(key: ConditionKey, agents_down: set[tuple[str, str]]) -> bool:
    """A device's condition says nothing while its room's agent is offline: the agent's
    incident covers the room."""
    return key.device != AGENT and (key.site, key.room) in agents_down


@dataclass(frozen=True)
class Silence:
    """A maintenance window or silence of a site, a room or one device."""

    site: str
    room: str | None
    device: str | None
    starts_at: datetime
    ends_at: datetime

    def covers(self, key: ConditionKey, now: datetime) -> bool:
        """Whether this silence mutes ``key`` at ``now``."""
        return (self.starts_at <= now < self.ends_at and self.site == key.site
                and self.room in (None, key.room) and self.device in (None, key.device))


def silenced(key: ConditionKey, silences: Iterable[Silence], now: datetime) -> bool:
    """Whether any silence mutes ``key`` at ``now``."""
    return any(s.covers(key, now) for s in silences)
