"""FastAPI dependencies of staff access: who is calling, and may they do this here.

A request authenticates with the session cookie or ``Authorization: Bearer <session token>``;
the admin token of the settings still works (as the principal ``admin-token``) so the first
accounts can be created. Every refused access and every allowed access to personal data or to
a change is written to the audit log, in a transaction of its own so a refusal is kept.
"""
from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from cloud.accounts import service
from cloud.accounts.access import ADMIN, Principal, may
from cloud.accounts.settings import AccountSettings
from cloud.api.credentials import MalformedAuthorization, bearer_token
from cloud.api.deps import NowDep, SessionDep, SettingsDep, app_settings
from cloud.api.refusals import Refusal, not_found

SESSION_COOKIE = "etp_session"
ADMIN_TOKEN_PRINCIPAL = Principal(username="admin-token", role=ADMIN)
UNAUDITED = frozenset({"catalogue.read", "availability.read"})  # no personal data, no change
# what open consoles read again every 15 s: one entry per reader, thing and window says who
# saw it as well as four a minute would, without a million rows a day across the fleet
POLLED_READS = frozenset({"site.day_list", "authority.list", "incident.read", "fleet.read",
                          "call.read"})
REPEAT_WINDOW = timedelta(minutes=5)


get_account_settings = app_settings("account_settings")


def client_address(request: Request) -> str | None:
    """Where the request came from: the peer, or the address a trusted proxy forwards
    (``ETP_WEB_TRUSTED_PROXIES``; the app's proxy-header middleware decides)."""
    return request.client.host if request.client else None


AccountSettingsDep = Annotated[AccountSettings, Depends(get_account_settings)]


def _audit(request: Request, now: datetime, **entry) -> None:
    if _seen_lately(request, now, entry):
        return
    # A pool of its own: the request's session may hold a connection of the main pool, and
    # an audit waiting for one from that pool would wedge every request under load.
    with request.app.state.audit_sessionmaker() as session:
        service.audit(session, now=now, client=client_address(request), **entry)
        session.commit()


def _seen_lately(request: Request, now: datetime, entry: dict) -> bool:
    """Whether this allowed polled read was audited by this replica within the window."""
    if entry["outcome"] != "allowed" or entry["action"] not in POLLED_READS:
        return False
    state = request.app.state
    seen = getattr(state, "audit_reads", None)
    if seen is None:
        seen = state.audit_reads = {}
    key = (entry["actor"], entry["action"], entry.get("resource"), client_address(request))
    last = seen.get(key)
    if last is not None and timedelta(0) <= now - last < REPEAT_WINDOW:
        return True
    if len(seen) > 10_000:  # the readers of the last window, bounded
        seen.clear()
    seen[key] = now
    return False


class BadAuthorization(Refusal):
    """An ``Authorization`` header that is not ``Bearer <token>``: refused, never answered by
    the cookie that may ride beside it."""

    def __init__(self) -> None:
        super().__init__(401, "not_authenticated",
                         "the Authorization header must be Bearer with a token",
                         headers={"WWW-Authenticate": "Bearer"})


def presented_token(request: HTTPConnection) -> str | None:
    """The bearer token, else the session cookie of the request. Any other ``Authorization``
    (Basic, Negotiate, a bare Bearer) is refused: the cross-site check lets a request with an
    ``Authorization`` header pass, so its cookie must never authenticate it."""
    try:
        token = bearer_token(request.headers.get("authorization"))
    except MalformedAuthorization:
        raise BadAuthorization() from None
    return token if token is not None else request.cookies.get(SESSION_COOKIE)


def current_principal(request: Request, session: SessionDep, settings: SettingsDep,
                      accounts: AccountSettingsDep, now: NowDep) -> Principal:
    """The authenticated caller; 401 (audited) without a valid session or the admin token."""
    token = presented_token(request)
    if token and hmac.compare_digest(token, settings.admin_token.get_secret_value()):
        return ADMIN_TOKEN_PRINCIPAL
    principal = service.resolve_session(session, accounts, token=token, now=now) \
        if token else None
    session.commit()
    if principal is None:
        _audit(request, now, actor="anonymous", action="authenticate", outcome="refused",
               resource=request.url.path[:120],
               reason="expired session" if token else "no credentials")
        raise Refusal(401, "not_authenticated", "log in first",
                      headers={"WWW-Authenticate": "Bearer"})
    return principal


CurrentStaff = Annotated[Principal, Depends(current_principal)]


class StaffSessionWatch:
    """Whether the staff session that opened a long-lived connection (a console's live
    stream, a staff member's session socket) still stands: the connection asks at every
    keep-alive and ends once logout, expiry or a disabled account has ended the session."""

    def __init__(self, app, token: str | None, every_s: float,
                 staff_id: int | None = None) -> None:
        self.app, self.token, self.every_s, self.staff_id = app, token, every_s, staff_id
        self._checked = time.monotonic()

    @classmethod
    def of(cls, connection: HTTPConnection, every_s: float,
           staff_id: int | None = None) -> StaffSessionWatch:
        """The watch of a request's or a socket's credential (bearer or cookie), asking at
        most every ``every_s`` seconds (the connection's keep-alive). A socket opened with
        a session's own credential and no staff credential (an API client's) is watched by
        its ``staff_id``: it stands while the person has a session that stands."""
        try:
            token = presented_token(connection)
        except BadAuthorization:
            token = None
        return cls(connection.app, token, every_s, staff_id)

    async def ended(self) -> bool:
        """Whether the session has ended, asked once ``every_s`` has passed since the last
        time (so a busy stream asks as often as an idle one)."""
        if time.monotonic() - self._checked < self.every_s * 0.9:
            return False
        self._checked = time.monotonic()
        return not await self.alive()

    def _alive(self) -> bool:
        state = self.app.state
        if self.token and hmac.compare_digest(self.token,
                                              state.settings.admin_token.get_secret_value()):
            return True
        with state.sessionmaker() as session:
            if self.token:
                return service.session_alive(session, state.account_settings,
                                             token=self.token, now=state.clock())
            if self.staff_id is not None:
                return service.staff_logged_in(session, state.account_settings,
                                               staff_id=self.staff_id, now=state.clock())
        return False

    async def alive(self) -> bool:
        """Whether the session stands (read in a worker thread)."""
        return await run_in_threadpool(self._alive)


@dataclass
class Access:
    """The caller and the means to check and audit each decision of one request."""

    principal: Principal
    request: Request
    now: datetime

    def require(self, action: str, *, site: str | None = None, authority: str | None = None,
                resource: str | None = None, party: str | None = None,
                hidden: str | None = None, seen_by: str | None = None) -> None:
        """Refuse unless the caller may do ``action`` here; audit the decision. A thing
        reached by its id names itself in ``hidden`` (``"booking"``): its refusal is then the
        same 404 as a missing one, so no one learns which ids exist outside their scope,
        unless the caller may see it (``seen_by``, e.g. ``booking.read``): then 403."""
        allowed = may(self.principal, action, site=site, authority=authority, party=party)
        if allowed and action in UNAUDITED:
            return
        _audit(self.request, self.now, actor=self.principal.username, action=action,
               resource=resource or _scope(site, authority),
               outcome="allowed" if allowed else "refused",
               reason=None if allowed else f"role {self.principal.role} out of scope")
        if not allowed:  # the answer names no site or authority: they are not the caller's
            seen = seen_by is not None and may(self.principal, seen_by, site=site,
                                               authority=authority, party=party)
            if hidden and not seen:
                raise not_found(hidden)
            raise Refusal(403, "not_allowed", f"not allowed: {action}")

    def visible_sites(self, action: str, sites: list[str]) -> list[str]:
        """The ``sites`` where the caller may do ``action`` (403 when none); one audit entry
        for the whole list."""
        allowed = [s for s in sites if may(self.principal, action, site=s)]
        if not allowed:
            self.require(action)  # refused and audited
        if action not in UNAUDITED:
            _audit(self.request, self.now, actor=self.principal.username, action=action,
                   resource=",".join(f"site:{s}" for s in allowed)[:120], outcome="allowed")
        return allowed


def _scope(site: str | None, authority: str | None) -> str:
    return ",".join(p for p in (f"site:{site}" if site else "",
                                f"authority:{authority}" if authority else "") if p) or "-"


def get_access(request: Request, principal: CurrentStaff, now: NowDep) -> Access:
    """The ``Access`` of the request."""
    return Access(principal, request, now)


AccessDep = Annotated[Access, Depends(get_access)]
