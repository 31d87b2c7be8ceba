"""The incident engine: reads the twin's transition log by a durable cursor, evaluates the
twin for conditions over time, debounces, opens, resolves and escalates incidents.

Run any number of engines per database: the one holding the lease works, the others wait.
Debounce and flap state live in memory and are rebuilt whenever an engine starts leading:
from the incidents still open, the recent stretch of the twin's transition log (flap history,
pending debounce) and the twin's current state, so a restart or a failover neither loses a
pending condition nor opens a second incident. A rule that fails for one room is logged and
counted and the round goes on; an engine whose rounds keep failing gives up its lease.

A round is bounded: at most ``round_changes_max`` incidents opened or resolved (the rest in
the next round), committed in chunks that renew the lease and show progress to the
heartbeat, each change logged only once it is committed. Two platform conditions stand above
the rooms': a mass disconnect (``mass.py``) is one incident for the operator and holds the
rooms it took; while the ingest has lost the broker, and for ``link_grace_s`` after it is
back, no room is judged from the twin's stale picture (``cloud.runtime.broker``).
"""
from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cloud.db import dialect_insert
from cloud.incidents import service
from cloud.incidents.mass import MassDisconnect
from cloud.incidents.matrix import ResponsibilityMatrix
from cloud.incidents.models import EngineCursor, Incident
from cloud.incidents.rules import (
    AGENT,
    OPEN,
    PLATFORM,
    RESOLVE,
    SEVERITY_RANK,
    Condition,
    ConditionKey,
    Finding,
    cannot_serve,
    category_of,
    health_finding,
    inhibited,
    platform_key,
    rule_name,
    severity,
    silenced,
    threshold_finding,
)
from cloud.incidents.service import Routing
from cloud.incidents.settings import IncidentSettings
from cloud.registry import Registry
from cloud.runtime.broker import Contact, broker_contact
from cloud.sites import service as sites
from cloud.sites.hours import OpeningHours
from cloud.twin import service as twin
from etapalvelu.logs import event_log

log = event_log(__name__)
CURSOR = "transitions"
BATCH = 5000
GAP_WAIT_S = 10.0  # how long an id skipped in the log may still turn up (late commit)
SEED_HISTORY_ROWS = 200_000  # at most this much of the log is replayed when starting to lead
Resolved = Callable[[Session, Incident, datetime], None]
MASS_DISCONNECT, BROKER_UNREACHABLE = platform_key("mass_disconnect"), platform_key(
    "broker_unreachable")


class LeaseLost(RuntimeError):
    """Another engine took the lease in the middle of a round: this one stops working."""


class Notifications(Protocol):
    """Who tells the parties (``flows.incident_notifications``), in the round's transaction."""

    def opened(self, session: Session, *, incident: Incident, routing: Routing,
               now: datetime) -> None:
        """An incident opened or reopened."""

    def resolved(self, session: Session, *, incident: Incident, routing: Routing,
                 now: datetime) -> None:
        """The engine saw an incident's fault clear."""

    def escalated(self, session: Session, *, incident: Incident, routing: Routing,
                  now: datetime) -> None:
        """An incident is past its due time."""

    def accepted(self, session: Session) -> dict[int, datetime]:
        """Open incidents whose notification a channel accepted, with when."""


class IncidentEngine:
    """Detects room faults and keeps incidents in step with them; ``start()`` runs a thread."""

    def __init__(self, sessions: sessionmaker, registry: Registry,
                 matrix: ResponsibilityMatrix | None = None,
                 settings: IncidentSettings | None = None, *,
                 on_queued: Callable[[], None] | None = None,
                 on_resolved: Resolved | None = None,
                 notifications: Notifications | None = None, name: str | None = None) -> None:
        self.sessions = sessions
        self.name = name or f"engine-{uuid.uuid4().hex[:8]}"
        self.on_queued = on_queued  # e.g. ``NotifyWorker.wake``: send without waiting a poll
        # the incident-resolved journey (``flows/incidents.py``), in the round's transaction
        self.on_resolved = on_resolved
        # the parties' notifications (``flows/incident_notifications.py``); None: none sent
        self.notifications = notifications
        self.settings = settings or IncidentSettings()
        self.registry = registry
        self.matrix = matrix or self.settings.matrix(registry)
        self.routing = Routing(self.matrix, registry, self.settings)
        self.policy = self.settings.debounce()
        self.conditions: dict[ConditionKey, Condition] = {}
        self._hours: dict[str, OpeningHours] = {}  # per site, for the current round
        self._gaps: dict[tuple[str, str, str], list[tuple[datetime, int]]] = {}
        self._twin_at = self._housekeeping_at = 0.0
        self._seeded = False
        self._queued = False
        self._cursor = 0
        self._skipped: dict[int, float] = {}  # transition ids skipped over -> when first missed
        self._lease_until: datetime | None = None
        self._resting_until = 0.0  # monotonic: a failing engine stays out of the lease until
        self._failures = 0  # rounds failed in a row
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.opened = 0  # incidents opened by this engine (a gauge for benchmarks and logs)
        # rule_errors (one room's rule raised), failed_rounds, stepped_down (lease given up)
        self.counts: Counter = Counter()
        self.last_round_at: datetime | None = None  # ``now`` of the last finished round
        self.progress = 0  # chunks committed: the heartbeat sees a long round move
        self.mass = MassDisconnect(self.settings.mass())
        self.contact = Contact()  # the cloud's contact with the broker at the last round
        self._fleet = sum(1 for _ in registry.rooms())
        self._trusted = True  # whether the twin could be judged at the last round
        self._said: list[tuple[str, dict]] = []  # log lines waiting for their commit
        self._round_started = 0.0  # monotonic

    def start(self) -> IncidentEngine:
        """Run in a background thread until ``stop()``."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="incident-engine", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        """Finish the current round, hand the lease back and stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._release()

    def _run(self) -> None:
        log.info("incidents.engine_started", engine=self.name)
        while not self._stop.is_set():
            if not self.run_round():
                self._stop.wait(self.settings.failure_pause_s)
            self._stop.wait(self.settings.poll_interval_s)
        log.info("incidents.engine_stopped", engine=self.name)

    def run_round(self, now: datetime | None = None) -> bool:
        """``tick`` that never raises: a failed round is logged and counted, and after
        ``give_up_after_failures`` failed rounds in a row the engine hands its lease back and
        stays out of it for ``lease_s``, so that a standby takes over. False when it failed."""
        try:
            self.tick(now)
        except Exception:  # keep detecting: the round is retried, or a standby takes over
            self._said.clear()  # what was rolled back did not happen
            self._seeded = False  # rebuilt from what the store holds (the committed chunks)
            self._failures += 1
            self.counts["failed_rounds"] += 1
            log.exception("incidents.round_failed", engine=self.name, in_a_row=self._failures)
            if self._failures >= self.settings.give_up_after_failures:
                self._step_down()
            return False
        self._failures = 0
        return True

    def _step_down(self) -> None:
        log.error("incidents.engine_stepping_down", engine=self.name, failed_rounds=self._failures)
        self.counts["stepped_down"] += 1
        self._failures = 0
        self._resting_until = time.monotonic() + self.settings.lease_s
        try:
            self._release()
        except Exception:  # the lease runs out by itself then
            log.exception("incidents.lease_release_failed", engine=self.name)
        self._forget()

    @property
    def leading(self) -> bool:
        """Whether this engine held the lease at its last round."""
        return self._lease_until is not None

    def tick(self, now: datetime | None = None) -> None:
        """One round: take or keep the lease, read transitions, evaluate the twin when due,
        decide, housekeep. An engine without the lease only waits (a hot standby)."""
        self._queued = False
        self._hours.clear()
        self._said.clear()
        self._round_started = time.monotonic()
        now = now or datetime.now(UTC)
        with self.sessions() as session:
            if not self._hold_lease(session, now):
                self.last_round_at = now
                return
            if not self._seeded:
                self._seed(session, now)
                session.commit()  # SQLite has one writer: do not hold the lock while evaluating
            moved = self._read_transitions(session)
            wall = time.monotonic()
            if wall - self._twin_at >= self.settings.twin_interval_s:
                self._twin_at = wall
                self._evaluate_twin(session, now)
            self.contact = broker_contact(session, now=now, stale_after=timedelta(
                seconds=self.settings.link_stale_s))
            housekeeping = wall - self._housekeeping_at >= self.settings.housekeeping_interval_s
            self._decide(session, now, housekeeping)
            if moved:
                self._save_cursor(session, now)
            if housekeeping:
                # the clock starts at the channel's acceptance time, whenever we notice it
                self._housekeeping_at = wall
                self._notice_resolved_by_hand(session)
                self._notify_breaches(session, now)
                service.close_resolved(session, settings=self.settings, now=now)
            session.commit()
        self._say_committed()
        self.last_round_at = now
        if self._queued and self.on_queued is not None:
            self.on_queued()

    def _notify_breaches(self, session: Session, now: datetime) -> None:
        """Start the clocks of notifications accepted, escalate the incidents past due."""
        if self.notifications is not None:
            service.mark_notified(session, routing=self.routing, now=now,
                                  accepted=self.notifications.accepted(session))
        for incident in service.escalate_breaches(session, routing=self.routing, now=now):
            if self.notifications is not None:
                self.notifications.escalated(session, incident=incident, routing=self.routing,
                                             now=now)
            self._queued = True

    # -- the lease -------------------------------------------------------------------------

    def _hold_lease(self, session: Session, now: datetime) -> bool:
        """Only one engine works a database: it renews a lease in the cursor row when half of
        it has run; another engine takes over when it runs out (or at once after ``stop()``)."""
        lease = timedelta(seconds=self.settings.lease_s)
        if self._lease_until is not None and now < self._lease_until - lease / 2:
            return True
        if time.monotonic() < self._resting_until:
            return False  # gave the lease up after failing: let a standby have it
        if session.get(EngineCursor, CURSOR) is None:  # the first start: engines may race
            last = twin.last_transition_id(db=session)
            session.execute(dialect_insert(session, EngineCursor)
                            .values(name=CURSOR, last_id=last, updated_at=now)
                            .on_conflict_do_nothing(index_elements=["name"]))
            session.commit()
        free = or_(EngineCursor.holder == self.name, EngineCursor.holder.is_(None),
                   EngineCursor.lease_until < now)
        taken = session.execute(update(EngineCursor).where(EngineCursor.name == CURSOR, free)
                                .values(holder=self.name, lease_until=now + lease)).rowcount
        session.commit()
        if taken:
            if self._lease_until is None:
                log.info("incidents.engine_leading", engine=self.name)
            self._lease_until = now + lease
            return True
        if self._lease_until is not None:
            log.warning("incidents.lease_lost", engine=self.name)
        self._forget()
        return False

    def _forget(self) -> None:
        """Drop the lease and the in-memory state: rebuilt from the store on leading again."""
        self._lease_until, self._seeded = None, False
        self._twin_at = 0.0  # evaluate the twin at once when leading again
        self.conditions.clear()
        self._gaps.clear()
        self._skipped.clear()
        self.mass = MassDisconnect(self.settings.mass())

    def _release(self) -> None:
        if self._lease_until is None:
            return
        with self.sessions() as session:
            session.execute(update(EngineCursor).where(EngineCursor.name == CURSOR,
                                                       EngineCursor.holder == self.name)
                            .values(holder=None, lease_until=None))
            session.commit()
        self._lease_until = None

    # -- reading the twin ------------------------------------------------------------------

    def _seed(self, session: Session, now: datetime) -> None:
        """Rebuild conditions from the open incidents, the recent transition log (flapping and
        pending debounce as they were) and the twin's current state."""
        self.conditions.clear()  # a seed that failed half-way starts again from nothing
        for incident in service.active_incidents(session):
            condition = self._condition_by_name(incident.condition)
            if condition is not None:
                condition.incident = incident.id
        self._cursor = session.get(EngineCursor, CURSOR).last_id
        for row in self._recent_transitions(session, now):
            self._observe(health_finding(row.site, row.room, row.device, row.to_state,
                                         row.code), row.at)
        for agent in twin.presences(db=session):
            finding = health_finding(agent.site, agent.room, AGENT,
                                     "online" if agent.online else "offline", None)
            self._observe(finding, agent.since)
        for device in twin.device_health(db=session):
            finding = health_finding(device.site, device.room, device.device, device.state,
                                     device.code)
            self._observe(finding, device.since)
        for condition in self.conditions.values():
            if condition.since is None:  # an open incident the twin says nothing about yet
                condition.active, condition.since = True, now  # holds until seen clear
        mass = self.conditions.get(MASS_DISCONNECT)
        if mass is not None and mass.incident is not None:  # it goes on: its rooms stay held
            self.mass.resume(self._agents_down(), now)
        self._seeded = True

    def _recent_transitions(self, session: Session, now: datetime) -> list:
        """The log up to the cursor, back to the start of the flap memory (``flap_window``
        plus ``flap_open_after``), oldest first; read backwards by id, which is indexed."""
        since = now - self.policy.flap_window - self.policy.flap_open_after
        rows, below = [], self._cursor + 1
        while len(rows) < SEED_HISTORY_ROWS:
            page = twin.transitions_back(db=session, before_id=below, limit=BATCH)
            rows += [r for r in page if r.at >= since]
            if len(page) < BATCH or page[-1].at < since:
                break
            below = page[-1].id
        return rows[::-1]

    def _condition_by_name(self, name: str | None) -> Condition | None:
        try:
            site, room, device, rule = (name or "").split("/")
        except ValueError:
            return None  # a manual incident, or a name this engine does not make
        key = ConditionKey(site, room, device, rule)
        return self.conditions.setdefault(key, Condition(key))

    def _read_transitions(self, session: Session) -> bool:
        """Observe the transitions logged since the cursor; True when the cursor moved.

        With several ingest writers (PostgreSQL) ids are taken in one order and committed in
        another, so an id skipped over may still appear: it is looked for again for
        ``GAP_WAIT_S`` before it counts as a rolled-back insert."""
        rows = twin.transitions_after(db=session, after_id=self._cursor, limit=BATCH)
        if self._skipped:
            rows += twin.transitions_by_id(db=session, ids=list(self._skipped))
        expected, wall = self._cursor + 1, time.monotonic()
        for row in sorted(rows):
            self._skipped.pop(row.id, None)
            for missing in range(expected, row.id):
                self._skipped.setdefault(missing, wall)
            expected = max(expected, row.id + 1)
            with self._room_rule((row.site, row.room)):
                self._observe(health_finding(row.site, row.room, row.device, row.to_state,
                                             row.code), row.at)
        self._skipped = {i: t for i, t in self._skipped.items() if wall - t < GAP_WAIT_S}
        moved = expected - 1 > self._cursor
        self._cursor = max(self._cursor, expected - 1)
        return moved

    def _save_cursor(self, session: Session, now: datetime) -> None:
        cursor = session.get(EngineCursor, CURSOR)
        cursor.last_id, cursor.updated_at = self._cursor, now

    def _observe(self, finding: Finding, at: datetime) -> None:
        condition = self.conditions.get(finding.key)
        if condition is None:
            if not finding.active:
                return  # nothing to remember about a healthy device never seen failing
            condition = self.conditions[finding.key] = Condition(finding.key)
        condition.observe(finding, at, self.policy)

    def _evaluate_twin(self, session: Session, now: datetime) -> None:
        """Conditions over time: a silent call button, clock skew, lost messages, occupancy."""
        for row in twin.device_states(db=session):
            with self._room_rule((row.site, row.room)):
                self._evaluate_device(row, now)
        # rooms free now are read too, or a stuck-occupancy incident could never resolve
        for site, room, occupied, since in twin.room_occupancy(db=session):
            with self._room_rule((site, room)):
                held = (now - since).total_seconds() if occupied else 0
                self._observe(threshold_finding(site, room, "occupancy", "stuck", held,
                                                self.settings.occupancy_stuck_s,
                                                "occupied_too_long"), now)

    def _evaluate_device(self, row, now: datetime) -> None:
        s = self.settings
        site, room, name = row.site, row.room, row.device
        if name == "callbutton" and row.last_seen_at is not None:
            silent = (now - row.last_seen_at).total_seconds()
            self._observe(threshold_finding(site, room, name, "silent", silent,
                                            s.button_silent_s, "no_messages"), now)
        self._observe(threshold_finding(site, room, name, "clock_skew", row.skew_ms,
                                        s.clock_skew_bound_ms, "clock_skew"), now)
        lost = self._recent_gaps((site, room, name), row.seq_gaps, now)
        self._observe(threshold_finding(site, room, name, "data_loss", lost,
                                        s.data_loss_messages - 1, "sequence_gaps"), now)

    @contextmanager
    def _room_rule(self, room: tuple[str, str]):
        """One room's rule failing is logged and counted; the other rooms' round goes on. A
        database error is the whole round's: it is raised."""
        try:
            yield
        except SQLAlchemyError:
            raise
        except Exception:
            self.counts["rule_errors"] += 1
            log.exception("incidents.rule_failed", site=room[0], room=room[1])

    def _recent_gaps(self, device: tuple[str, str, str], gaps: int, now: datetime) -> int:
        """Messages lost within the data-loss window (the twin counts them since ever)."""
        history = self._gaps.setdefault(device, [])
        history.append((now, gaps))
        window = timedelta(seconds=self.settings.data_loss_window_s)
        while len(history) > 1 and now - history[0][0] > window:
            history.pop(0)
        return gaps - history[0][1]


    # -- deciding --------------------------------------------------------------------------

    def _decide(self, session: Session, now: datetime, housekeeping: bool) -> None:
        """Judge the platform first, then every condition; carry out what is due, bounded."""
        agents_down = self._agents_down()
        self._judge_platform(agents_down, now)
        trusted = self._twin_trusted(now)
        silences, due, worsening = None, [], []
        for condition in list(self.conditions.values()):
            if not condition.active and condition.incident is None and not condition.changes:
                del self.conditions[condition.key]  # healthy and calm: forget it
                continue
            with self._room_rule((condition.key.site, condition.key.room)):
                decision = condition.decide(now, self.policy)
                if decision == OPEN:
                    if self._held(condition.key, agents_down, trusted, now):
                        continue
                    if silences is None:
                        silences = service.silences_for_rules(session, now=now)
                    if silenced(condition.key, silences, now):
                        continue
                    due.append((OPEN, condition))
                elif decision == RESOLVE:
                    due.append((RESOLVE, condition))
                elif housekeeping and condition.incident is not None and condition.active:
                    worsening.append(condition)
        self._carry_out(session, sorted(due, key=_urgency), now)
        if worsening:
            self._raise_severity(session, worsening, now)

    def _agents_down(self) -> dict[tuple[str, str], datetime]:
        """The rooms whose agent is offline, each since when."""
        return {(k.site, k.room): c.since for k, c in self.conditions.items()
                if k.device == AGENT and c.active}

    def _judge_platform(self, agents_down: dict[tuple[str, str], datetime],
                        now: datetime) -> None:
        """The platform's own conditions: a mass disconnect, the broker lost by the ingest."""
        was = self.mass.active
        self.mass.update(agents_down, self._fleet, now)
        if self.mass.active != was:
            log.warning("incidents.mass_disconnect", on=self.mass.active,
                        rooms=len(self.mass.rooms), offline=len(agents_down))
        self._observe(Finding(MASS_DISCONNECT, self.mass.active,
                              "fault" if self.mass.active else "ok"), now)
        lost, contact = self.contact.lost, self.contact
        self._observe(Finding(BROKER_UNREACHABLE, lost, "fault" if lost else "ok"),
                      contact.lost_since if lost else max(contact.back_at or now,
                                                          self._seen(BROKER_UNREACHABLE)))

    def _seen(self, key: ConditionKey) -> datetime:
        condition = self.conditions.get(key)
        seen = condition.seen_at if condition is not None else None
        return seen or datetime.min.replace(tzinfo=UTC)

    def _twin_trusted(self, now: datetime) -> bool:
        """Whether rooms may be judged from the twin now (not while the ingest has lost the
        broker, nor for ``link_grace_s`` after it is back)."""
        trusted = self.contact.settled(now, timedelta(seconds=self.settings.link_grace_s))
        if trusted != self._trusted:
            self._trusted = trusted
            if trusted:
                log.info("incidents.rooms_judged", broker_back_at=self.contact.back_at)
            else:
                log.warning("incidents.rooms_held", broker_lost_since=self.contact.lost_since)
        return trusted

    def _held(self, key: ConditionKey, agents_down, trusted: bool, now: datetime) -> bool:
        """Whether a room's condition waits: the twin is not trusted, its room is part of a
        mass disconnect, or its agent is offline (the agent's incident covers the room)."""
        if key.device == PLATFORM:
            return False
        return (not trusted or self.mass.holds((key.site, key.room), now)
                or inhibited(key, agents_down))

    def _carry_out(self, session: Session, due: list[tuple[str, Condition]],
                   now: datetime) -> None:
        """Open and resolve what is due, at most ``round_changes_max`` (the rest next round),
        committing every ``commit_every``."""
        limit, chunk = self.settings.round_changes_max, self.settings.commit_every
        for done, (decision, condition) in enumerate(due[:limit], 1):
            with self._room_rule((condition.key.site, condition.key.room)):
                if decision == OPEN:
                    self._open(session, condition, now)
                else:
                    self._resolve(session, condition, now)
            if done % chunk == 0 and done < len(due):
                self._checkpoint(session, now)
        if len(due) > limit:
            log.info("incidents.round_bounded", engine=self.name, done=limit,
                     left=len(due) - limit)

    def _checkpoint(self, session: Session, now: datetime) -> None:
        """Commit the chunk in hand, say what it did, keep the lease and show progress."""
        session.commit()
        self._say_committed()
        self.progress += 1
        held = now + timedelta(seconds=time.monotonic() - self._round_started
                               + self.settings.lease_s)
        kept = session.execute(update(EngineCursor).where(
            EngineCursor.name == CURSOR, EngineCursor.holder == self.name)
            .values(lease_until=held)).rowcount
        session.commit()
        if not kept:
            raise LeaseLost(self.name)
        self._lease_until = held

    def _say(self, decision: str, **fields) -> None:
        """An opening or resolve to log once it is committed."""
        self._said.append((decision, fields))

    def _say_committed(self) -> None:
        for decision, fields in self._said:
            if decision == OPEN:
                log.info("incidents.opened", **fields)
            else:
                log.info("incidents.resolved", **fields)
        self._said.clear()

    def _notice_resolved_by_hand(self, session: Session) -> None:
        """Staff resolved an incident whose fault the engine still sees: the condition counts
        as new from the resolve, so the incident reopens if the fault still holds
        ``open_after`` later (a fault is never left without an open incident)."""
        held = {c.incident: c for c in self.conditions.values() if c.incident is not None}
        for incident_id, resolved_at in service.resolved_among(
                session, ids=list(held)).items():
            condition = held[incident_id]
            condition.incident = None
            if condition.active and condition.since < resolved_at:
                condition.since = resolved_at
            log.info("incidents.resolved_by_hand", id=incident_id, condition=condition.key,
                     still_active=condition.active)

    def _opening(self, session: Session, site: str, now: datetime) -> OpeningHours:
        """The site's opening hours around ``now`` (the one model bookings use too), every
        site's read at once, once a round."""
        if not self._hours:
            day = timedelta(days=1)  # a margin for any site's time zone
            self._hours.update(sites.opening_hours_of_sites(
                session, registry=self.registry, first=(now - day).date(),
                last=(now + self._critical_lead() + day).date()))
        return self._hours[site]

    def _critical_lead(self) -> timedelta:
        return timedelta(minutes=self.settings.critical_lead_min)

    def _severity(self, session: Session, condition: Condition, now: datetime) -> str:
        if condition.key.device == PLATFORM:
            return severity(condition.key, condition.state, now, None, self._critical_lead())
        return severity(condition.key, condition.state, now,
                        self._opening(session, condition.key.site, now), self._critical_lead())

    def _open(self, session: Session, condition: Condition, now: datetime) -> None:
        key = condition.key
        state = condition.state if condition.active else "flapping"
        level = self._severity(session, condition, now)
        recent = self._recently_resolved(session, key, now)
        if recent is not None:
            incident = service.reopen(session, incident=recent, now=now, severity=level)
        else:
            room = key.device != PLATFORM  # the platform's incident is of no room
            incident = service.open_incident(
                session, routing=self.routing, site=key.site, room=key.room if room else None,
                device=key.device if room else None, rule=rule_name(key, state, condition.code),
                severity=level, category=category_of(key, condition.state), code=condition.code,
                condition=str(key), flapping=not condition.active, now=now,
                summary=None if room else self._platform_summary(key))
            self.opened += 1
        if self.notifications is not None:
            self.notifications.opened(session, incident=incident, routing=self.routing, now=now)
        condition.incident = incident.id
        self._queued = True
        self._say(OPEN, id=incident.id, condition=key, severity=level,
                  party=incident.party)

    def _platform_summary(self, key: ConditionKey) -> str:
        """What the operator reads of a platform incident (counts, no names)."""
        if key == MASS_DISCONNECT:
            return f"{len(self.mass.rooms)} of {self._fleet} rooms went offline together"
        return f"the ingest lost the broker at {self.contact.lost_since:%Y-%m-%d %H:%M:%S} UTC"

    def _recently_resolved(self, session: Session, key: ConditionKey,
                           now: datetime) -> Incident | None:
        since = now - timedelta(seconds=self.settings.reopen_window_s)
        return session.scalar(select(Incident).where(
            Incident.condition == str(key), Incident.state == "resolved",
            Incident.resolved_at >= since).order_by(Incident.id.desc()).limit(1))

    def _resolve(self, session: Session, condition: Condition, now: datetime) -> None:
        incident = session.get(Incident, condition.incident)
        condition.incident = None
        if incident is None or incident.state not in ("open", "notified", "acknowledged"):
            return  # staff resolved it already
        service.resolve(session, incident=incident, actor=service.ENGINE, now=now)
        if self.notifications is not None:
            self.notifications.resolved(session, incident=incident, routing=self.routing,
                                        now=now)
        if self.on_resolved is not None:
            self.on_resolved(session, incident, now)
        self._queued = True
        self._say(RESOLVE, id=incident.id, condition=condition.key)

    def _raise_severity(self, session: Session, conditions: list[Condition],
                        now: datetime) -> None:
        """A degraded device that fails, or a fault nearing opening hours, gets more urgent."""
        wanted = {c.incident: self._severity(session, c, now) for c in conditions}
        current = session.execute(select(Incident.id, Incident.severity)
                                  .where(Incident.id.in_(list(wanted)))).all()
        for incident_id, level in current:
            if SEVERITY_RANK[wanted[incident_id]] <= SEVERITY_RANK[level]:
                continue
            incident = session.get(Incident, incident_id)
            service.audit(session, incident, "severity", service.ENGINE, now,
                          f"{level}->{wanted[incident_id]}")
            incident.severity, incident.updated_at = wanted[incident_id], now


def _urgency(item: tuple[str, Condition]) -> tuple:
    """The order a bounded round works in: the platform's conditions, then resolves (rooms
    reopen), then openings of rooms that cannot serve, then the rest, oldest first."""
    decision, condition = item
    key = condition.key
    return (key.device != PLATFORM, decision != RESOLVE,
            not cannot_serve(key, condition.state), condition.since)
