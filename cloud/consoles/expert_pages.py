"""The expert's console: their authority's sessions today at every site, the customer's
arrival, a link to each session (``/sessions/{booking id}``); nothing of other authorities.
``/console/expert/live`` answers the day alone, which the page fetches again every 15 s."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cloud.accounts.access import EXPERT
from cloud.accounts.deps import NowDep
from cloud.accounts.pages import PageStaff
from cloud.api.deps import RegistryDep, SessionDep
from cloud.bookings.views import RulesDep
from cloud.consoles import day as days
from cloud.consoles.advisor_pages import REFRESH_MS
from cloud.consoles.scope import access, template_helpers
from cloud.web.templating import render

router = APIRouter()


def _day(request: Request, template: str, *, principal, session, registry, rules,
         now: datetime) -> Response:
    authority = principal.organisation if principal.role == EXPERT else None
    access(request, principal, now).require("authority.list", authority=authority,
                                            resource=f"authority:{authority}")
    return render(request, template, principal=principal, authority=authority,
                  visits=days.authority_day(session, authority=authority, now=now),
                  day=days.local_day(now), now=now,
                  refresh_ms=getattr(request.app.state, "console_refresh_ms", REFRESH_MS),
                  **template_helpers(request, registry, rules))


@router.get("/console/expert")
def expert_console(request: Request, principal: PageStaff, session: SessionDep,
                   registry: RegistryDep, rules: RulesDep, now: NowDep) -> Response:
    """The expert's sessions today with the customer's arrival."""
    return _day(request, "expert.html", principal=principal, session=session,
                registry=registry, rules=rules, now=now)


@router.get("/console/expert/live")
def expert_live(request: Request, principal: PageStaff, session: SessionDep,
                registry: RegistryDep, rules: RulesDep, now: NowDep) -> Response:
    """The expert's day alone, which the page refreshes."""
    return _day(request, "expert-live.html", principal=principal, session=session,
                registry=registry, rules=rules, now=now)
