"""Who may see which console: each decision goes through ``cloud.accounts.access`` (audited),
so an advisor sees only their sites and an expert only their authority."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from cloud.accounts.access import ADMIN, ADVISOR, Principal
from cloud.accounts.deps import Access
from cloud.api.refusals import not_found
from cloud.incidents.service import Routing
from cloud.incidents.views import get_routing
from cloud.registry import Registry

RoutingDep = Annotated[Routing, Depends(get_routing)]
DEVICES = ("terminal", "doccam", "callbutton", "occupancy", "network")  # those with a name


def access(request: Request, principal: Principal, now: datetime) -> Access:
    """The access checks of a page request."""
    return Access(principal, request, now)


def advisor_sites(principal: Principal, registry: Registry) -> list[str]:
    """The sites whose console the caller may open, in registry order."""
    if principal.role == ADMIN:
        return list(registry.sites)
    if principal.role == ADVISOR:
        return [s for s in registry.sites if s in principal.sites]
    return []


def chosen_site(request: Request, principal: Principal, registry: Registry, now: datetime,
                asked: str | None) -> str:
    """The site of a console request: the one asked for (403, audited, unless it is the
    caller's), else the caller's first."""
    mine = advisor_sites(principal, registry)
    site = asked or (mine[0] if mine else None)
    access(request, principal, now).require("site.day_list", site=site,
                                            resource=f"site:{site}")
    if site not in registry.sites:
        raise not_found("site")
    return site
