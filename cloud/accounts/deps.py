"""FastAPI dependencies of staff access: who is calling, and may they do this here.

A request authenticates with the session cookie or ``Authorization: Bearer <session token>``;
the admin token of the settings still works (as the principal ``admin-token``) so the first
accounts can be created. Every refused access and every allowed access to personal data or to
a change is written to the audit log, in a transaction of its own so a refusal is kept.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from cloud.accounts import service
from cloud.accounts.access import ADMIN, Principal, may
from cloud.accounts.settings import AccountSettings
from cloud.api.deps import SessionDep, SettingsDep

SESSION_COOKIE = "etp_session"
ADMIN_TOKEN_PRINCIPAL = Principal(username="admin-token", role=ADMIN)
UNAUDITED = frozenset({"catalogue.read", "availability.read"})  # no personal data, no change
# what open consoles read again every 15 s: one entry per reader, thing and window says who
# saw it as well as four a minute would, without a million rows a day across the fleet
POLLED_READS = frozenset({"site.day_list", "authority.list", "incident.read", "fleet.read",
                          "call.read"})
REPEAT_WINDOW = timedelta(minutes=5)


def get_account_settings(request: Request) -> AccountSettings:
    """The account settings of the app (from the environment unless the app was given some)."""
    settings = getattr(request.app.state, "account_settings", None)
    if settings is None:
        settings = request.app.state.account_settings = AccountSettings()
    return settings


def get_now(request: Request) -> datetime:
    """The current instant (the app's ``clock`` when one is set, for tests and demos)."""
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock else datetime.now(UTC)


def client_address(request: Request) -> str | None:
    """Where the request came from: the peer, or the address a trusted proxy forwards
    (``ETP_WEB_TRUSTED_PROXIES``; the app's proxy-header middleware decides)."""
    return request.client.host if request.client else None


AccountSettingsDep = Annotated[AccountSettings, Depends(get_account_settings)]
NowDep = Annotated[datetime, Depends(get_now)]


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


def presented_token(request: Request) -> str | None:
    """The bearer token or session cookie of the request."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(SESSION_COOKIE)


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
        raise HTTPException(401, "log in first", headers={"WWW-Authenticate": "Bearer"})
    return principal


CurrentStaff = Annotated[Principal, Depends(current_principal)]


@dataclass
class Access:
    """The caller and the means to check and audit each decision of one request."""

    principal: Principal
    request: Request
    now: datetime

    def require(self, action: str, *, site: str | None = None, authority: str | None = None,
                resource: str | None = None, party: str | None = None) -> None:
        """Raise 403 unless the caller may do ``action`` here; audit the decision."""
        allowed = may(self.principal, action, site=site, authority=authority, party=party)
        if allowed and action in UNAUDITED:
            return
        _audit(self.request, self.now, actor=self.principal.username, action=action,
               resource=resource or _scope(site, authority),
               outcome="allowed" if allowed else "refused",
               reason=None if allowed else f"role {self.principal.role} out of scope")
        if not allowed:  # the answer names no site or authority: they are not the caller's
            raise HTTPException(403, f"not allowed: {action}")

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
