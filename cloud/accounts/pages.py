"""The staff's page login: a plain HTML form (works without script) that opens the same cookie
session as the API login, the logout, and ``/console``, which sends each role to its console;
the administrator's pages (``admin.pages``) ride on this router. ``PageStaff`` and ``PageAccess``
(from ``page_access``) are the dependencies of every staff page: without a session they
redirect here."""
from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from cloud.accounts import service
from cloud.accounts.admin import pages as admin
from cloud.accounts.deps import (
    SESSION_COOKIE,
    AccountSettingsDep,
    NowDep,
    client_address,
    presented_token,
)
from cloud.accounts.page_access import (  # noqa: F401 (the one way every staff page imports)
    LoginRequired,
    PageAccess,
    PageStaff,
    login_redirect,
    page_principal,
)
from cloud.accounts.views import set_session_cookie
from cloud.api.deps import SessionDep
from cloud.api.forms import read_form
from cloud.texts import LANGUAGES
from cloud.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(admin.router)
# where each role works; a role without a console gets a page that says so
CONSOLES = {"advisor": "/console/advisor", "expert": "/console/expert",
            "support": "/console/support", "admin": "/"}
MAX_FIELD = 200


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
