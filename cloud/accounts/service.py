"""Staff accounts: creation, argon2 passwords, login with throttling, sessions with idle and
absolute timeouts, and the audit log. Functions take the session and ``now`` and leave the
commit to the caller (they may flush); a login commits its throttle slots before the password
check (``take_login_slots``), so no lock is held through the slow hash."""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, delete, func, literal, or_, select, update
from sqlalchemy.orm import Session

from cloud.accounts.access import ADMIN, ADVISOR, EXPERT, PHONE_AGENT, ROLES, SUPPORT, Principal
from cloud.accounts.models import AuditEntry, LoginThrottle, Staff, StaffSession
from cloud.accounts.settings import AccountSettings
from cloud.db import Instant, dialect_insert
from cloud.registry import Registry
from etapalvelu.logs import event_log

log = event_log(__name__)
_HASHER = PasswordHasher()  # argon2id with the library's (RFC 9106) defaults
_DUMMY_HASH = _HASHER.hash("never-a-password")  # equal work for unknown usernames


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Replace the argon2 parameters (cheaper ones make tests fast; never in production)."""
    global _HASHER, _DUMMY_HASH
    _HASHER, _DUMMY_HASH = hasher, hasher.hash("never-a-password")


class AccountError(ValueError):
    """An account that cannot be created as asked."""


class LoginRefused(Exception):
    """A failed login; ``throttled`` when too many failures came first."""

    def __init__(self, throttled: bool = False) -> None:
        super().__init__("too many failed logins; try later" if throttled
                         else "wrong username or password")
        self.throttled = throttled


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    if len(password) < 12:
        raise AccountError("a password has at least 12 characters")
    return _HASHER.hash(password)


def principal_of(staff: Staff) -> Principal:
    """The access principal of a member of staff."""
    return Principal(username=staff.username, role=staff.role, organisation=staff.organisation,
                     sites=frozenset(staff.sites or ()), staff_id=staff.id)


def check_scope(registry: Registry, *, role: str, organisation: str | None,
                sites: list[str], parties: Collection[str] | None = None) -> None:
    """Refuse a role without the organisation or sites it is scoped to; a support agent's
    organisation must be a party of the responsibility matrix (``parties``, when given), or
    their queue would stay empty without a word."""
    if role not in ROLES:
        raise AccountError(f"role is one of {ROLES}")
    if role in (EXPERT, PHONE_AGENT) and organisation not in registry.authorities:
        raise AccountError(f"an {role} belongs to one authority of {sorted(registry.authorities)}")
    if role == SUPPORT and not organisation:
        raise AccountError("a support agent belongs to one support party")
    if role == SUPPORT and parties is not None and organisation not in parties:
        raise AccountError(f"a support agent belongs to one party of the responsibility "
                           f"matrix: {sorted(parties)}")
    if role == ADVISOR and (not sites or set(sites) - set(registry.sites)):
        raise AccountError(f"an advisor serves one or more sites of {sorted(registry.sites)}")
    if role != ADVISOR and sites:
        raise AccountError("only advisors have sites")


def create_staff(session: Session, registry: Registry, *, username: str, display_name: str,
                 role: str, now: datetime, organisation: str | None = None,
                 sites: list[str] | None = None, password: str | None = None,
                 email: str | None = None, oidc_issuer: str | None = None,
                 oidc_subject: str | None = None,
                 parties: Collection[str] | None = None) -> Staff:
    """Add a member of staff (the caller commits). Without a password, only OIDC can log
    them in.
    ``parties``: the support parties of the responsibility matrix, where the caller has it."""
    sites = sorted(set(sites or ()))
    check_scope(registry, role=role, organisation=organisation, sites=sites, parties=parties)
    if username_taken(session, username=username):
        raise AccountError("the username is taken")
    staff = Staff(username=username, display_name=display_name, role=role,
                  organisation=None if role == ADMIN else organisation, sites=sites,
                  password_hash=hash_password(password) if password else None, email=email,
                  oidc_issuer=oidc_issuer, oidc_subject=oidc_subject, active=True,
                  created_at=now)
    session.add(staff)
    session.flush()
    log.info("accounts.staff_created", id=staff.id, role=role, organisation=organisation)
    return staff


def audit(session: Session, *, actor: str, action: str, outcome: str, now: datetime,
          resource: str | None = None, client: str | None = None,
          reason: str | None = None) -> None:
    """Append one entry to the audit log (the caller commits)."""
    session.add(AuditEntry(at=now, actor=actor[:64], action=action, resource=resource,
                           outcome=outcome, client=client, reason=reason))
    # a failed login's "actor" is whatever was typed, perhaps a password: kept out of logs
    log.info("accounts.audit",
             actor="-" if action == "login" and outcome != "ok" else actor[:64],
             action=action, resource=resource, outcome=outcome, reason=reason)


def _take_slot(session: Session, key: str, *, limit: int, window: timedelta,
               now: datetime) -> bool:
    """Take one login attempt of ``key``'s window; False when ``limit`` attempts
    were already taken in it. One conditional UPDATE decides, so parallel attempts on any
    replica are counted exactly."""
    session.execute(dialect_insert(session, LoginThrottle)
                    .values(key=key, window_start=now, attempts=0)
                    .on_conflict_do_nothing(index_elements=["key"]))
    expired = LoginThrottle.window_start <= now - window
    taken = session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key, or_(expired, LoginThrottle.attempts < limit))
        .values(attempts=case((expired, 1), else_=LoginThrottle.attempts + 1),
                window_start=case((expired, literal(now, Instant())),
                                  else_=LoginThrottle.window_start)))
    return taken.rowcount == 1


def _give_back(session: Session, *keys: str) -> None:
    """Return the slots of a login that succeeded: only failures count."""
    session.execute(update(LoginThrottle).where(LoginThrottle.key.in_(keys),
                                                LoginThrottle.attempts > 0)
                    .values(attempts=LoginThrottle.attempts - 1))


def take_login_slots(session: Session, settings: AccountSettings, *, username: str,
                     client: str | None, now: datetime) -> list[str] | None:
    """The throttle keys of a login attempt, each holding a slot; None when either the
    username or the client address has used up its window (nothing is then held). The caller
    commits before ``authenticate``: the conditional UPDATE locks the throttle rows (on
    SQLite the store) until the commit, and the password check is slow on purpose."""
    window = timedelta(minutes=settings.throttle_minutes)
    keys = [(f"user:{username[:64]}", settings.max_failed_logins)]
    if client is not None:
        keys.append((f"client:{client[:64]}", settings.max_failed_per_client))
    held: list[str] = []
    for key, limit in keys:
        if not _take_slot(session, key, limit=limit, window=window, now=now):
            if held:
                _give_back(session, *held)
            return None
        held.append(key)
    return held


def authenticate(session: Session, *, username: str, password: str, client: str | None,
                 held: list[str] | None, now: datetime) -> Staff:
    """Check a password login whose slots ``take_login_slots`` took (``held``); every attempt
    is audited, and the caller commits whatever the outcome. Raise ``LoginRefused``: after
    ``max_failed_logins`` failures of a username or ``max_failed_per_client`` from one
    address within the window (``held`` None), attempts are refused unchecked."""
    if held is None:
        audit(session, actor=username, action="login", outcome="refused", now=now,
              client=client, reason="throttled")
        raise LoginRefused(throttled=True)
    staff = session.scalar(select(Staff).where(Staff.username == username))
    if not _password_matches(session, staff, password):
        audit(session, actor=username, action="login", outcome="failed", now=now, client=client,
              reason="bad credentials")
        raise LoginRefused()
    _give_back(session, *held)
    audit(session, actor=username, action="login", outcome="ok", now=now, client=client,
          reason="password")
    return staff


def _password_matches(session: Session, staff: Staff | None, password: str) -> bool:
    stored = staff.password_hash if staff is not None and staff.active else None
    try:
        _HASHER.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    if stored is None:
        return False
    if _HASHER.check_needs_rehash(stored):
        staff.password_hash = _HASHER.hash(password)
    return True


@dataclass(frozen=True)
class Login:
    """A new session: the token to hand to the browser (never stored) and when it ends."""

    token: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, settings: AccountSettings, *, staff: Staff, method: str,
                 client: str | None, now: datetime) -> Login:
    """Start a fresh session for ``staff`` (a new token at every login; the caller
    commits)."""
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=settings.absolute_hours)
    session.add(StaffSession(token_hash=_digest(token), staff_id=staff.id, created_at=now,
                             last_seen_at=now, expires_at=expires, client=client, method=method))
    return Login(token, expires)


def resolve_session(session: Session, settings: AccountSettings, *, token: str,
                    now: datetime) -> Principal | None:
    """The principal of a live session token, or None when unknown, idle or expired; the
    caller commits (an ended session's removal, the time it was last seen)."""
    row = session.get(StaffSession, _digest(token))
    if row is None:
        return None
    staff = session.get(Staff, row.staff_id)
    if not _stands(row, staff, settings, now):
        session.delete(row)
        return None
    if now - row.last_seen_at > timedelta(seconds=30):  # spare a write on every request
        row.last_seen_at = now
    return principal_of(staff)


def session_alive(session: Session, settings: AccountSettings, *, token: str,
                  now: datetime) -> bool:
    """Whether a session token still stands (logged in, not idle, not expired, the account
    active); reads only, so a live stream's check keeps no idle session alive."""
    row = session.get(StaffSession, _digest(token))
    return row is not None and _stands(row, session.get(Staff, row.staff_id), settings, now)


def staff_logged_in(session: Session, settings: AccountSettings, *, staff_id: int,
                    now: datetime) -> bool:
    """Whether the member of staff has any session that stands (reads only)."""
    staff = session.get(Staff, staff_id)
    rows = session.scalars(select(StaffSession).where(StaffSession.staff_id == staff_id))
    return any(_stands(row, staff, settings, now) for row in rows)


def _stands(row: StaffSession, staff: Staff | None, settings: AccountSettings,
            now: datetime) -> bool:
    idle_limit = row.last_seen_at + timedelta(minutes=settings.idle_minutes)
    return now < row.expires_at and now < idle_limit and staff is not None and staff.active


def close_session(session: Session, *, token: str) -> None:
    """End a session (logout; the caller commits)."""
    session.execute(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))


def set_password(session: Session, *, staff: Staff, password: str) -> None:
    """Replace a password and end every session of the account (the caller commits)."""
    staff.password_hash = hash_password(password)
    session.execute(delete(StaffSession).where(StaffSession.staff_id == staff.id))


def staff_to_alert(session: Session, *, site: str, authority: str) -> list[tuple[str, str]]:
    """(username, e-mail) of the active staff told when a visit is at risk: the site's
    advisors and the authority's experts."""
    staff = session.scalars(select(Staff).where(Staff.active.is_(True),
                                                Staff.email.is_not(None),
                                                Staff.role.in_((ADVISOR, EXPERT)))).all()
    return [(s.username, s.email) for s in staff
            if (s.role == ADVISOR and site in (s.sites or ()))
            or (s.role == EXPERT and s.organisation == authority)]


def roles_of(session: Session, *, usernames: list[str]) -> dict[str, str]:
    """The role of each named member of staff that exists (statistics count changes by role,
    never by name)."""
    if not usernames:
        return {}
    return dict(session.execute(select(Staff.username, Staff.role).where(
        Staff.username.in_(sorted(set(usernames))))).all())


def display_names(session: Session, *, staff_ids: Collection[int]) -> dict[int, str]:
    """The display names of staff by id (for consoles: who took a call)."""
    if not staff_ids:
        return {}
    return dict(session.execute(select(Staff.id, Staff.display_name)
                                .where(Staff.id.in_(list(staff_ids)))).all())


def find_staff(session: Session, *, text: str = "", offset: int = 0,
               limit: int = 50) -> tuple[list[Staff], int]:
    """Staff whose username, name, e-mail, role or organisation holds ``text`` (everyone
    when empty), by username: one page from ``offset`` and how many match in all."""
    query = select(Staff)
    if text:
        pattern = f"%{text.lower()}%"
        query = query.where(or_(*(func.lower(column).like(pattern) for column in (
            Staff.username, Staff.display_name, Staff.email, Staff.role, Staff.organisation))))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    page = session.scalars(query.order_by(Staff.username).offset(offset).limit(limit))
    return list(page), total


def username_taken(session: Session, *, username: str) -> bool:
    """Whether a member of staff, active or not, has ``username``."""
    return session.scalar(select(Staff.id).where(Staff.username == username)) is not None


def staff_by_id(session: Session, *, staff_id: int) -> Staff | None:
    """A member of staff, active or not."""
    return session.get(Staff, staff_id)


def set_active(session: Session, *, staff: Staff, active: bool) -> None:
    """Enable or disable an account; disabling ends every session of it at once (the
    caller commits)."""
    staff.active = active
    if not active:
        session.execute(delete(StaffSession).where(StaffSession.staff_id == staff.id))
    log.info("accounts.staff_active", id=staff.id, active=active)


def change_scope(session: Session, registry: Registry, *, staff: Staff, role: str,
                 organisation: str | None, sites: list[str],
                 parties: Collection[str] | None = None) -> None:
    """Give a member of staff another role, organisation or sites, checked as at creation
    (``check_scope``); the caller commits. Sessions stay: each request reads the new scope."""
    sites = sorted(set(sites))
    check_scope(registry, role=role, organisation=organisation, sites=sites, parties=parties)
    staff.role, staff.sites = role, sites
    staff.organisation = None if role == ADMIN else organisation
    log.info("accounts.staff_scope", id=staff.id, role=role, organisation=organisation)


@dataclass(frozen=True)
class AuditFilter:
    """Which audit entries to read: by whom (``actor``, exactly), the ``action``, the
    ``outcome``, and the instants ``start`` (inclusive) to ``end`` (exclusive)."""

    actor: str | None = None
    action: str | None = None
    outcome: str | None = None
    start: datetime | None = None
    end: datetime | None = None


def _audit_query(chosen: AuditFilter):
    query = select(AuditEntry)
    for column, value in ((AuditEntry.actor, chosen.actor), (AuditEntry.action, chosen.action),
                          (AuditEntry.outcome, chosen.outcome)):
        if value:
            query = query.where(column == value)
    if chosen.start is not None:
        query = query.where(AuditEntry.at >= chosen.start)
    if chosen.end is not None:
        query = query.where(AuditEntry.at < chosen.end)
    return query


def audit_entries(session: Session, *, chosen: AuditFilter, offset: int = 0,
                  limit: int = 50) -> tuple[list[AuditEntry], int]:
    """The audit entries ``chosen`` picks, newest first: one page and how many in all."""
    query = _audit_query(chosen)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    page = session.scalars(query.order_by(AuditEntry.id.desc()).offset(offset).limit(limit))
    return list(page), total


def audit_export(session: Session, *, chosen: AuditFilter, limit: int):
    """The audit entries ``chosen`` picks, newest first, at most ``limit``, read in batches
    (for a download)."""
    query = _audit_query(chosen).order_by(AuditEntry.id.desc()).limit(limit)
    return session.scalars(query.execution_options(yield_per=500))

