"""Staff login, logout, the caller's own account, staff administration and the audit log."""
from __future__ import annotations

from collections.abc import Collection
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from cloud.accounts import oidc, service
from cloud.accounts.deps import (
    SESSION_COOKIE,
    AccessDep,
    AccountSettingsDep,
    CurrentStaff,
    NowDep,
    client_address,
    presented_token,
)
from cloud.accounts.models import AuditEntry, Staff
from cloud.api.deps import RegistryDep, SessionDep
from cloud.api.inputs import AuditLimit, Code, Name, Secret, free_text
from cloud.api.refusals import Refusal, invalid
from cloud.instants import ApiInstant

router = APIRouter(prefix="/accounts", tags=["accounts"])


class Credentials(BaseModel):
    """A password login."""

    model_config = ConfigDict(extra="forbid")
    username: free_text(64, min_length=1)
    password: Secret = Field(min_length=1)


class LoginOut(BaseModel):
    """A new session: the token also comes as an HttpOnly cookie."""

    token: str
    expires_at: ApiInstant
    username: str
    role: str


class Me(BaseModel):
    """The caller's identity and scope."""

    username: str
    role: str
    organisation: str | None
    sites: list[str]


class StaffIn(BaseModel):
    """A new member of staff."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9._@-]+$")
    display_name: Name
    role: Code
    organisation: Code | None = None
    sites: list[Code] = Field([], max_length=100)
    password: Secret | None = Field(None, min_length=12)
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StaffOut(BaseModel):
    """A member of staff, without any secret."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    role: str
    organisation: str | None
    sites: list[str]
    active: bool


class AuditOut(BaseModel):
    """One audit entry."""

    model_config = ConfigDict(from_attributes=True)
    at: ApiInstant
    actor: str
    action: str
    resource: str | None
    outcome: str
    client: str | None
    reason: str | None


def set_session_cookie(response: Response, login: service.Login, accounts) -> None:
    """Hand the session token to the browser as an HttpOnly, SameSite cookie that lasts as
    long as the session may."""
    response.set_cookie(SESSION_COOKIE, login.token, httponly=True,
                        secure=accounts.cookie_secure, samesite="lax", path="/",
                        max_age=accounts.absolute_hours * 3600)


@router.post("/login", response_model=LoginOut)
def login(body: Credentials, request: Request, response: Response, session: SessionDep,
          accounts: AccountSettingsDep, now: NowDep) -> LoginOut:
    """Log in with a password; a new session every time. 401 wrong, 429 throttled."""
    client = client_address(request)
    held = service.take_login_slots(session, accounts, username=body.username, client=client,
                                    now=now)
    session.commit()
    try:
        staff = service.authenticate(session, username=body.username, password=body.password,
                                     client=client, held=held, now=now)
    except service.LoginRefused as refusal:
        session.commit()  # the attempt is counted even when refused
        if refusal.throttled:
            raise Refusal(429, "too_many_requests", str(refusal)) from None
        raise Refusal(401, "not_authenticated", str(refusal)) from None
    new = service.open_session(session, accounts, staff=staff, method="password", client=client,
                               now=now)
    session.commit()
    set_session_cookie(response, new, accounts)
    return LoginOut(token=new.token, expires_at=new.expires_at, username=staff.username,
                    role=staff.role)


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, session: SessionDep) -> None:
    """End the caller's session."""
    token = presented_token(request)
    if token:
        service.close_session(session, token=token)
        session.commit()
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", response_model=Me)
def me(principal: CurrentStaff) -> Me:
    """Who the caller is and what they are scoped to."""
    return Me(username=principal.username, role=principal.role,
              organisation=principal.organisation, sites=sorted(principal.sites))


def support_parties(request: Request) -> Collection[str] | None:
    """The support parties a support agent may belong to, as the app hands them to accounts
    (``app.state.support_parties``, a callable: the incidents' matrix, read when asked);
    None where the app hands none."""
    parties = getattr(request.app.state, "support_parties", None)
    return None if parties is None else parties()


SupportPartiesDep = Annotated[Collection[str] | None, Depends(support_parties)]


@router.post("/staff", response_model=StaffOut, status_code=201)
def create_staff(body: StaffIn, access: AccessDep, session: SessionDep, registry: RegistryDep,
                 parties: SupportPartiesDep, now: NowDep) -> Staff:
    """Add a member of staff (administrators)."""
    access.require("staff.manage", resource=f"staff:{body.username}")
    try:
        staff = service.create_staff(session, registry, now=now,
                                     parties=parties, **body.model_dump())
    except service.AccountError as error:
        raise invalid(str(error)) from None
    session.commit()
    return staff


@router.get("/staff", response_model=list[StaffOut])
def list_staff(access: AccessDep, session: SessionDep) -> list[Staff]:
    """Every member of staff (administrators)."""
    access.require("staff.manage", resource="staff")
    return list(session.scalars(select(Staff).order_by(Staff.username)))


@router.get("/audit", response_model=list[AuditOut])
def audit_log(access: AccessDep, session: SessionDep,
              limit: AuditLimit = 200) -> list[AuditEntry]:
    """The newest ``limit`` audit entries, 1 to 1000 (administrators)."""
    access.require("audit.read", resource="audit")
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())
                                .limit(limit)))


router.include_router(oidc.router)
