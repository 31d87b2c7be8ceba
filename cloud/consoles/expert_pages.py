"""The expert's console: their authority's sessions today at every site, the customer's
arrival, a link to each session (``/sessions/{booking id}``); nothing of other authorities."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cloud.accounts.access import EXPERT
from cloud.accounts.deps import NowDep
from cloud.accounts.pages import PageStaff
from cloud.api.deps import RegistryDep, SessionDep
from cloud.bookings.views import RulesDep
from cloud.consoles import day as days
from cloud.consoles.scope import access, template_helpers
from cloud.web.templating import render

router = APIRouter()


@router.get("/console/expert")
def expert_console(request: Request, principal: PageStaff, session: SessionDep,
                   registry: RegistryDep, rules: RulesDep, now: NowDep) -> Response:
    """The expert's sessions today with the customer's arrival."""
    authority = principal.organisation if principal.role == EXPERT else None
    access(request, principal, now).require("authority.list", authority=authority,
                                            resource=f"authority:{authority}")
    visits = days.authority_day(session, authority=authority, now=now)
    return render(request, "expert.html", principal=principal, authority=authority,
                  visits=visits, day=days.local_day(now), now=now,
                  **template_helpers(request, registry, rules))
