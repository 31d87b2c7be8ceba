"""The advisor's task-time log (today's minutes per task: +5/+15 taps, a field to correct)
and the site's monthly report (XLSX or CSV)."""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from cloud.accounts.access import ADVISOR
from cloud.accounts.deps import NowDep
from cloud.accounts.pages import PageStaff
from cloud.api.deps import RegistryDep, SessionDep
from cloud.consoles import day as days
from cloud.consoles import exports
from cloud.consoles import service as tasks
from cloud.consoles.forms import FormError, known, read_form, whole_number
from cloud.consoles.rules import MAX_DAY_MINUTES, STEPS, TASKS
from cloud.consoles.scope import advisor_sites, chosen_site, template_helpers
from cloud.web.templating import language, render, translate

router = APIRouter()


def _own_log(principal) -> None:
    if principal.role != ADVISOR or principal.staff_id is None:
        raise HTTPException(403, "not allowed: the task-time log is the advisor's own")


def _page(request: Request, *, principal, session, registry, site: str, now: datetime,
          errors=(), status_code: int = 200) -> Response:
    today = days.local_day(now)
    minutes = tasks.day_minutes(session, site=site, advisor_id=principal.staff_id, day=today)
    return render(request, "tasks.html", status_code=status_code, principal=principal,
                  site=site, sites=advisor_sites(principal, registry), day=today,
                  tasks=TASKS, steps=STEPS, minutes=minutes, errors=list(errors),
                  saved=known(request.query_params.get("saved"), TASKS),
                  **template_helpers(request, registry))


@router.get("/console/advisor/tasks")
def task_log(request: Request, principal: PageStaff, session: SessionDep,
             registry: RegistryDep, now: NowDep, site: str | None = None) -> Response:
    """The advisor's time by task today."""
    site = chosen_site(request, principal, registry, now, site)
    _own_log(principal)
    return _page(request, principal=principal, session=session, registry=registry, site=site,
                 now=now)


def _record(request: Request, form: dict, *, principal, session, registry,
            now: datetime) -> Response:
    site = chosen_site(request, principal, registry, now, form.get("site"))
    _own_log(principal)
    task, add = form.get("task", ""), whole_number(form.get("add"))
    minutes = add if add is not None else whole_number(form.get("minutes"))
    if task not in TASKS:
        error = FormError("task-title-meeting", "tasktime.error.task")
    elif minutes is None or minutes > MAX_DAY_MINUTES:
        error = FormError(f"minutes-{task}", "tasktime.error.minutes")
    else:
        record = tasks.add_minutes if add is not None else tasks.set_minutes
        record(session, site=site, advisor_id=principal.staff_id, day=days.local_day(now),
               task=task, minutes=minutes, now=now)
        session.commit()
        query = urlencode({"site": site, "saved": task})
        return RedirectResponse(f"/console/advisor/tasks?{query}#task-{task}", status_code=303)
    return _page(request, principal=principal, session=session, registry=registry, site=site,
                 now=now, errors=[error], status_code=422)


@router.post("/console/advisor/tasks")
async def task_log_form(request: Request, principal: PageStaff, session: SessionDep,
                        registry: RegistryDep, now: NowDep) -> Response:
    """Add a tap's minutes to a task, or set its minutes, for today."""
    form = await read_form(request)
    return await run_in_threadpool(_record, request, form, principal=principal,
                                   session=session, registry=registry, now=now)


@router.get("/console/advisor/exports")
def export_page(request: Request, principal: PageStaff, session: SessionDep,
                registry: RegistryDep, now: NowDep, site: str | None = None,
                month: str | None = None, format: str | None = None) -> Response:
    """The month's task-time report and booking figures of the site, as XLSX or CSV."""
    site = chosen_site(request, principal, registry, now, site)
    first = exports.parse_month(month) if month else None
    if format in exports.FORMATS and first is not None:
        lang = language(request)
        report = exports.monthly_report(
            session, registry=registry, site=site, month=first,
            task_names={task: translate(lang, f"tasktime.task.{task}") for task in TASKS})
        body, media_type = exports.encode(report, format)
        name = f"etapalvelu-{site}-{first:%Y-%m}.{format}"
        return Response(body, media_type=media_type,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    last_month = (days.local_day(now).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    error = month is not None and first is None
    return render(request, "exports.html", status_code=422 if error else 200,
                  principal=principal, site=site, sites=advisor_sites(principal, registry),
                  month=month or last_month, error=error, **template_helpers(request, registry))
