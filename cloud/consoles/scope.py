"""Who may see which console, and what every console template is given: each decision goes
through ``cloud.accounts.access`` (audited), so an advisor sees only their sites and an expert
only their authority."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from cloud.accounts.access import ADMIN, ADVISOR, Principal
from cloud.accounts.deps import Access
from cloud.consoles import day as days
from cloud.incidents.service import Routing
from cloud.incidents.views import get_routing
from cloud.registry import Registry
from cloud.web.templating import language, translate

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
        raise HTTPException(404, "no such site")
    return site


def template_helpers(request: Request, registry: Registry, rules=None) -> dict:
    """What the templates use to name things from the registry and the catalogue in the
    page's language, and ``label(prefix, value)``: the text ``prefix.value`` (a status, a
    device, a task...)."""
    services = rules.catalogue.services if rules is not None else {}
    lang = language(request)

    def label(prefix: str, value: str, **values) -> str:
        return translate(lang, f"{prefix}.{value}", **values)

    def room_name(site: str, room: str):
        rooms = registry.sites[site].rooms
        return days.room_names(rooms[room]) if room in rooms else room

    return {"label": label, "room_name": room_name,
            "service_name": lambda s: days.names(services[s].name) if s in services else s,
            "authority_name": lambda a: days.names(registry.authorities[a].name)
            if a in registry.authorities else a,
            "site_name": lambda s: days.names(registry.sites[s].name),
            "clock": days.clock, "when": days.when, "local_date": days.local_day, "DEVICES": DEVICES}
