"""The access of every staff page: ``PageStaff`` (the member of staff whose cookie session
the page request carries; without one, ``LoginRequired`` sends the browser to the login and
back) and ``PageAccess`` (the same access checks and audit as the API's). Apart from
``pages`` so the page modules of accounts can use it without importing each other."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse

from cloud.accounts import service
from cloud.accounts.access import Principal
from cloud.accounts.deps import SESSION_COOKIE, Access, AccountSettingsDep
from cloud.api.deps import NowDep, SessionDep


class LoginRequired(Exception):
    """A staff page was asked for without a session: answered by a redirect to the login."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def login_redirect(request: Request, exc: LoginRequired) -> RedirectResponse:
    """The answer to ``LoginRequired``: the login page, coming back to the page asked for."""
    return RedirectResponse(f"/login?next={quote(exc.path, safe='/')}", status_code=303)


def page_principal(request: Request, session: SessionDep, accounts: AccountSettingsDep,
                   now: NowDep) -> Principal:
    """The member of staff whose cookie session the page request carries."""
    token = request.cookies.get(SESSION_COOKIE)
    principal = service.resolve_session(session, accounts, token=token, now=now) \
        if token else None
    session.commit()
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return principal


PageStaff = Annotated[Principal, Depends(page_principal)]


def page_access(request: Request, principal: PageStaff, now: NowDep) -> Access:
    """The one access check of a staff page: the same rules and audit as the API's."""
    return Access(principal=principal, request=request, now=now)


PageAccess = Annotated[Access, Depends(page_access)]
