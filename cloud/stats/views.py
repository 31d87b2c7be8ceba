"""The statistics API: ``GET /api/stats/{family}`` as JSON, CSV or XLSX, scoped by role.

An advisor reads their sites, an authority's staff (experts, phone agents) their authority's
figures (the families that have an authority), coordinators and admins everything. Small
counts are suppressed for every reader but the site's own advisors and the admin (the
operator, who reads the raw store anyway): docs/statistics.md.
"""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from cloud.accounts.access import ADMIN, ADVISOR, RULES
from cloud.accounts.deps import AccessDep
from cloud.api.deps import NowDep, RegistryDep, SessionDep
from cloud.api.inputs import Code
from cloud.api.refusals import invalid
from cloud.instants import ApiDay
from cloud.stats import export, figures, service
from cloud.stats.facts import Sources
from cloud.stats.sources import installed_sources

router = APIRouter(prefix="/stats", tags=["statistics"])
ACTION = "stats.read"
MAX_DAYS = 400
Family = Literal["utilisation", "visits", "changes", "feedback", "calls", "incidents", "tasks",
                 "interpretation"]
UNSUPPRESSED = (ADVISOR, ADMIN)
MEDIA = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def get_sources(request: Request) -> Sources:
    """The sources of the app (``app.state.stats_sources``, else the installed ones)."""
    sources = getattr(request.app.state, "stats_sources", None)
    if sources is None:
        sources = request.app.state.stats_sources = installed_sources()
    return sources


def scope(access, registry, family: str, site: str | None, authority: str | None
          ) -> tuple[list[str], list[str] | None]:
    """The sites and authorities the caller reads (403, audited, outside their scope)."""
    reach = RULES[ACTION].get(access.principal.role)
    if authority is not None and "authority" not in figures.FAMILIES[family].dims:
        raise invalid(f"{family} has no authority to filter by")
    if site is not None and site not in registry.sites:
        raise invalid("no such site")
    if reach == "authority":
        authority = authority or access.principal.organisation
        if "authority" not in figures.FAMILIES[family].dims:
            access.require(ACTION, resource=f"stats:{family}")  # refused and audited
        access.require(ACTION, authority=authority, resource=f"stats:{family}")
        return ([site] if site else sorted(registry.sites)), [authority]
    if site is not None:
        access.require(ACTION, site=site, resource=f"stats:{family}:site:{site}")
        sites = [site]
    else:
        sites = access.visible_sites(ACTION, sorted(registry.sites))
    return sites, ([authority] if authority else None)


@router.get("/{family}")
def read_figures(family: Family, session: SessionDep, access: AccessDep, now: NowDep,
                 registry: RegistryDep, request: Request, first: ApiDay, last: ApiDay,
                 period: Literal["day", "week", "month", "weekday"] = "month",
                 by: Annotated[list[Code] | None, Query(max_length=4)] = None,
                 site: Code | None = None, authority: Code | None = None,
                 format: Literal["json", "csv", "xlsx"] = "json"):
    """The figures of ``family`` for the local days ``first``..``last`` (Europe/Helsinki),
    per ``period`` and the dimensions ``by`` (default: site)."""
    by = by or ["site"]
    if not first <= last or (last - first).days > MAX_DAYS:
        raise invalid(f"first..last runs forward over at most {MAX_DAYS} days")
    try:
        figures.check_by(family, by)
    except ValueError as error:
        raise invalid(str(error)) from None
    sites, authorities = scope(access, registry, family, site, authority)
    rows = service.answer(session, registry=registry, sources=get_sources(request),
                          family=family, first=first, last=last, period=period, by=by,
                          now=now, sites=sites, authorities=authorities)
    rows = figures.suppress(family, rows) if access.principal.role not in UNSUPPRESSED \
        else [{**row, "suppressed": []} for row in rows]
    if format == "json":
        return {"family": family, "first": first.isoformat(), "last": last.isoformat(),
                "period": period, "by": by, "time_zone": "Europe/Helsinki",
                "suppressed": access.principal.role not in UNSUPPRESSED, "rows": rows}
    name = f"stats-{family}-{first.isoformat()}-{last.isoformat()}"
    body = export.csv_text(family, by, rows) if format == "csv" else export.xlsx_bytes(
        {family: export.family_table(family, by, rows)})
    return Response(body, media_type=MEDIA[format], headers={
        "Content-Disposition": f'attachment; filename="{name}.{format}"'})
