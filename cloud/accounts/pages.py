"""The staff's page login: a plain HTML form (works without script) that opens the same cookie
session as the API login, the logout, and ``/console``, which sends each role to its console.
``PageStaff`` is the dependency of every staff page: without a session it redirects here."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from cloud.accounts import service
from cloud.accounts.access import Principal
from cloud.accounts.deps import (
    SESSION_COOKIE,
    Access,
    AccountSettingsDep,
    NowDep,
    client_address,
    presented_token,
)
from cloud.accounts.views import set_session_cookie
from cloud.api.deps import SessionDep
from cloud.api.forms import read_form
from cloud.texts import LANGUAGES
from cloud.web.templating import render

router = APIRouter(include_in_schema=False)
# where each role works; a role without a console gets a page that says so
CONSOLES = {"advisor": "/console/advisor", "expert": "/console/expert",
            "support": "/console/support", "admin": "/"}
MAX_FIELD = 200


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


def _local(target: str | None) -> str:
    # only a path of this site: a login link must not send anyone elsewhere
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/console"
    return target[:MAX_FIELD]


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    """The login form."""
    return render(request, "login.html", next=_local(next), username="", error=None)


@router.post("/login")
async def login_form(request: Request, session: SessionDep, accounts: AccountSettingsDep,
                     now: NowDep) -> Response:
    """Check the form's username and password; on success open a session and go on."""
    form = await read_form(request)
    username, password = form.get("username", "").strip(), form.get("password", "")
    target = _local(form.get("next"))
    if not username or not password:
        return render(request, "login.html", status_code=422, next=target, username=username,
                      error="login.missing")
    client = client_address(request)
    held = service.take_login_slots(session, accounts, username=username, client=client, now=now)
    session.commit()
    try:
        staff = service.authenticate(session, username=username, password=password,
                                     client=client, held=held, now=now)
    except service.LoginRefused as refusal:
        session.commit()
        return render(request, "login.html", status_code=429 if refusal.throttled else 401,
                      next=target, username=username,
                      error="login.throttled" if refusal.throttled else "login.refused")
    new = service.open_session(session, accounts, staff=staff, method="password", client=client,
                               now=now)
    session.commit()
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, new, accounts)
    return response


@router.post("/logout")
def logout_form(request: Request, session: SessionDep) -> Response:
    """End the session and show the login again."""
    token = presented_token(request)
    if token:
        service.close_session(session, token=token)
        session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/console")
def console(request: Request, principal: PageStaff) -> Response:
    """Each role's own console."""
    home = CONSOLES.get(principal.role)
    if home is None:
        return render(request, "console-none.html", principal=principal)
    lang = request.query_params.get("lang")  # a language chosen on the way stays chosen
    return RedirectResponse(f"{home}?{urlencode({'lang': lang})}" if lang in LANGUAGES
                            else home, status_code=303)
