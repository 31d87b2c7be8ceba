"""The administrator's pages: staff (find, add, disable and enable, reset a password, change
role, organisation and sites) and the audit log (filtered, paged, downloaded as CSV).

Plain HTML forms that work without script (POST, then a redirect to a page to GET), with an
error summary when a form is wrong. Every page asks the same access rules as the API
(``staff.manage``, ``audit.read``: refused and audited for anyone but an administrator) and
changes go through the accounts' service functions; each change is also written to the audit
log as what it was (``staff.disable``...), in the change's own transaction. No password is
ever shown back, not even on a form that comes back with an error."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from cloud.accounts import service
from cloud.accounts.access import ADMIN, ADVISOR, ROLES, RULES
from cloud.accounts.deps import Access, client_address
from cloud.accounts.models import AuditEntry, Staff
from cloud.accounts.page_access import PageAccess
from cloud.accounts.views import support_parties
from cloud.api.deps import NowDep, RegistryDep, SessionDep
from cloud.api.forms import read_form
from cloud.api.inputs import RowId, free_text
from cloud.api.refusals import not_found
from cloud.instants import utc_text
from cloud.registry import Registry
from cloud.sites.hours import DEFAULT_ZONE
from cloud.web.templating import render

router = APIRouter(include_in_schema=False)
STAFF, AUDIT = "/admin/staff", "/admin/audit"
PER_PAGE, EXPORT_LIMIT = 50, 100_000
USERNAME = re.compile(r"^[a-z0-9._@-]{2,64}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD, MAX_PASSWORD = 12, 200
OUTCOMES = ("allowed", "refused", "failed", "ok")
CHANGES = ("staff.create", "staff.scope", "staff.password", "staff.disable", "staff.enable")
# what the audit log holds: the access rules' actions, logins and the staff changes
ACTIONS = ("login", "authenticate", *sorted(RULES), *CHANGES)
BLANK = {"username": "", "display_name": "", "email": "", "role": ADVISOR, "organisation": "",
         "sites": []}  # a new member's form before anything is typed
DONE = ("created", "scope", "password", "disabled", "enabled")
Filter = Annotated[free_text(64), Query()]
Day = free_text(10)
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
SearchText = free_text(64)


def _parties(request: Request) -> list[str]:
    """The support parties a support agent may belong to (the matrix's, handed by the app)."""
    return sorted(support_parties(request) or ())


def _organisations(request: Request, registry: Registry) -> dict[str, list[tuple[str, object]]]:
    """The organisations a member of staff may belong to, by kind, each (id, its names)."""
    return {"authorities": [(k, a.name.model_dump()) for k, a in registry.authorities.items()],
            "sites": [(k, s.name.model_dump()) for k, s in registry.sites.items()],
            "parties": [(p, p) for p in _parties(request)]}


def _page_links(request: Request, page: int, total: int) -> dict:
    """Where the previous and next pages are (the same query, another ``page``)."""
    pages = max(1, -(-total // PER_PAGE))
    query = {k: v for k, v in request.query_params.items() if k != "page"}

    def link(number: int) -> str | None:
        return f"{request.url.path}?{urlencode(query | {'page': number})}" \
            if 1 <= number <= pages and number != page else None
    return {"page": page, "pages": pages, "total": total, "previous": link(page - 1),
            "next": link(page + 1)}


# ----------------------------------------------------------------------------- staff


@router.get(STAFF)
def staff_list(request: Request, access: PageAccess, session: SessionDep,
               q: Annotated[SearchText, Query()] = "", page: PageNumber = 1) -> Response:
    """Every member of staff, or those the search finds, a page at a time."""
    access.require("staff.manage", resource="staff")
    found, total = service.find_staff(session, text=q.strip(), offset=(page - 1) * PER_PAGE,
                                      limit=PER_PAGE)
    return render(request, "admin-staff.html", principal=access.principal, staff=found,
                  q=q, paging=_page_links(request, page, total))


@router.get(f"{STAFF}/new")
def staff_new(request: Request, access: PageAccess, registry: RegistryDep) -> Response:
    """The form to add a member of staff."""
    access.require("staff.manage", resource="staff")
    return _new_page(request, access, registry, values={}, errors=[])


@router.post(f"{STAFF}/new")
async def staff_create(request: Request, access: PageAccess, session: SessionDep,
                       registry: RegistryDep, now: NowDep) -> Response:
    """Add the member of staff; a form with mistakes comes back with an error summary."""
    form = await read_form(request)
    access.require("staff.manage", resource=f"staff:{form.get('username', '')[:64]}")
    values = _staff_values(form, registry)
    errors = _identity_errors(values) + _scope_errors(request, registry, values)
    if not MIN_PASSWORD <= len(form.get("password", "")) <= MAX_PASSWORD:
        errors.append(("password", "admin.error_password"))
    if not errors and service.username_taken(session, username=values["username"]):
        errors.append(("username", "admin.error_username_taken"))
    if errors:
        return _new_page(request, access, registry, values=values, errors=errors,
                         status_code=422)
    staff = service.create_staff(
        session, registry, username=values["username"], display_name=values["display_name"],
        role=values["role"], organisation=values["organisation"] or None,
        sites=values["sites"], email=values["email"] or None, password=form["password"],
        parties=_parties(request), now=now)
    _audit_change(session, access, "staff.create", staff, now)
    session.commit()
    return RedirectResponse(f"{STAFF}/{staff.id}?done=created", status_code=303)


@router.get(f"{STAFF}/{{staff_id}}")
def staff_page(staff_id: RowId, request: Request, access: PageAccess, session: SessionDep,
               registry: RegistryDep) -> Response:
    """One member of staff: who, their scope, and the changes an administrator may make."""
    staff = _staff(session, access, staff_id)
    return _staff_page(request, access, registry, staff, errors=[])


@router.post(f"{STAFF}/{{staff_id}}/scope")
async def staff_scope(staff_id: RowId, request: Request, access: PageAccess, session: SessionDep,
                      registry: RegistryDep, now: NowDep) -> Response:
    """Change the role, the organisation and the sites."""
    form = await read_form(request)
    staff = _staff(session, access, staff_id)
    values = _staff_values(form, registry)
    errors = _scope_errors(request, registry, values)
    if staff.username == access.principal.username and values["role"] != ADMIN:
        errors.append(("role", "admin.error_own_role"))
    if errors:
        return _staff_page(request, access, registry, staff, errors=errors, values=values,
                           status_code=422)
    service.change_scope(session, registry, staff=staff, role=values["role"],
                         organisation=values["organisation"] or None, sites=values["sites"],
                         parties=_parties(request))
    return _changed(session, access, "staff.scope", staff, now, "scope")


@router.post(f"{STAFF}/{{staff_id}}/password")
async def staff_password(staff_id: RowId, request: Request, access: PageAccess,
                         session: SessionDep, registry: RegistryDep, now: NowDep) -> Response:
    """Set a new password (every session of the account ends)."""
    form = await read_form(request)
    staff = _staff(session, access, staff_id)
    password = form.get("password", "")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return _staff_page(request, access, registry, staff, status_code=422,
                           errors=[("password", "admin.error_password")])
    service.set_password(session, staff=staff, password=password)
    return _changed(session, access, "staff.password", staff, now, "password")


@router.post(f"{STAFF}/{{staff_id}}/active")
async def staff_active(staff_id: RowId, request: Request, access: PageAccess, session: SessionDep,
                       registry: RegistryDep, now: NowDep) -> Response:
    """Disable the account (its sessions end at once) or enable it again."""
    form = await read_form(request)
    staff = _staff(session, access, staff_id)
    active = form.get("active") == "1"
    if not active and staff.username == access.principal.username:
        return _staff_page(request, access, registry, staff, status_code=422,
                           errors=[("active-submit", "admin.error_own_account")])
    service.set_active(session, staff=staff, active=active)
    return _changed(session, access, "staff.enable" if active else "staff.disable", staff, now,
                    "enabled" if active else "disabled")


def _staff(session: Session, access: Access, staff_id: int) -> Staff:
    """The member of staff an administrator works on; for anyone else the same refusal as
    an id that does not exist (audited)."""
    access.require("staff.manage", resource=f"staff:{staff_id}", hidden="staff")
    staff = service.staff_by_id(session, staff_id=staff_id)
    if staff is None:
        raise not_found("staff")
    return staff


def _changed(session: Session, access: Access, action: str, staff: Staff, now: datetime,
             done: str) -> Response:
    _audit_change(session, access, action, staff, now)
    session.commit()
    return RedirectResponse(f"{STAFF}/{staff.id}?done={done}", status_code=303)


def _audit_change(session: Session, access: Access, action: str, staff: Staff,
                  now: datetime) -> None:
    """The change itself in the audit log, committed with it (the access decision before
    it says only that it was allowed)."""
    service.audit(session, actor=access.principal.username, action=action, outcome="ok",
                  resource=f"staff:{staff.username}", now=now,
                  client=client_address(access.request))


def _done(request: Request) -> str | None:
    done = request.query_params.get("done")
    return done if done in DONE else None


def _staff_values(form: dict[str, str], registry: Registry) -> dict:
    """What a staff form asks for (never the password: it is not shown back)."""
    return {"username": form.get("username", "").lower(),
            "display_name": form.get("display_name", ""), "email": form.get("email", ""),
            "role": form.get("role", ""), "organisation": form.get("organisation", ""),
            "sites": [s for s in registry.sites if form.get(f"site-{s}") == "1"]}


def _identity_errors(values: dict) -> list[tuple[str, str]]:
    """What is wrong with a new member's username, name and e-mail: (field, text key)."""
    errors = []
    if not USERNAME.match(values["username"]):
        errors.append(("username", "admin.error_username"))
    if not 1 <= len(values["display_name"]) <= 100:
        errors.append(("display_name", "admin.error_display_name"))
    if values["email"] and (len(values["email"]) > 254 or not EMAIL.match(values["email"])):
        errors.append(("email", "admin.error_email"))
    return errors


def _scope_errors(request: Request, registry: Registry, values: dict) -> list[tuple[str, str]]:
    """What is wrong with a role, organisation and sites, by the accounts' own rule
    (``check_scope``), said for the role: what it needs."""
    role = values["role"]
    if role not in ROLES:
        return [("role", "admin.error_role")]
    try:
        service.check_scope(registry, role=role, organisation=values["organisation"] or None,
                            sites=values["sites"], parties=_parties(request))
    except service.AccountError:
        field = "site-" + next(iter(registry.sites)) if role == ADVISOR or values["sites"] \
            else "organisation"
        return [(field, f"admin.error_scope_{role}")]
    return []


def _new_page(request: Request, access: Access, registry: Registry, *, values: dict,
              errors: list, status_code: int = 200) -> Response:
    return render(request, "admin-staff-new.html", status_code=status_code,
                  principal=access.principal, values=BLANK | values, errors=errors,
                  roles=ROLES, organisations=_organisations(request, registry),
                  sites=registry.sites)


def _staff_page(request: Request, access: Access, registry: Registry, staff: Staff, *,
                errors: list, values: dict | None = None, status_code: int = 200) -> Response:
    shown = values or {"role": staff.role, "organisation": staff.organisation or "",
                       "sites": list(staff.sites or ())}
    return render(request, "admin-staff-one.html", status_code=status_code,
                  principal=access.principal, staff=staff, values=shown, errors=errors,
                  roles=ROLES, organisations=_organisations(request, registry),
                  sites=registry.sites, done=_done(request),
                  own=staff.username == access.principal.username)


# ----------------------------------------------------------------------------- audit


@dataclass(frozen=True)
class AuditQuery:
    """The audit page's filters as typed (shown back) and as the service reads them."""

    shown: dict[str, str]
    chosen: service.AuditFilter
    errors: list[tuple[str, str]]


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _audit_query(actor: str, action: str, outcome: str, start: str, end: str) -> AuditQuery:
    """The filters of the audit page: days are Helsinki's, ``end`` the last day included."""
    shown = {"actor": actor.strip(), "action": action if action in ACTIONS else "",
             "outcome": outcome if outcome in OUTCOMES else "", "from": start, "to": end}
    first, last = _day(start), _day(end)
    errors = [(field, f"admin.error_{field}") for field, text, day in
              (("from", start, first), ("to", end, last)) if text and day is None]
    if first and last and last < first:
        errors.append(("to", "admin.error_span"))

    def instant(day: date | None, later: int = 0) -> datetime | None:
        return None if day is None else \
            datetime.combine(day + timedelta(days=later), time(), DEFAULT_ZONE)
    chosen = service.AuditFilter(actor=shown["actor"] or None, action=shown["action"] or None,
                                 outcome=shown["outcome"] or None, start=instant(first),
                                 end=instant(last, 1))
    return AuditQuery(shown, chosen, errors)


@router.get(AUDIT)
def audit_page(request: Request, access: PageAccess, session: SessionDep, actor: Filter = "",
               action: Filter = "", outcome: Filter = "",
               start: Annotated[Day, Query(alias="from")] = "",
               end: Annotated[Day, Query(alias="to")] = "",
               page: PageNumber = 1) -> Response:
    """The audit log, newest first, filtered by person, action, outcome and days."""
    access.require("audit.read", resource="audit")
    query = _audit_query(actor, action, outcome, start, end)
    entries, total = ([], 0) if query.errors else service.audit_entries(
        session, chosen=query.chosen, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    export = urlencode({k: v for k, v in query.shown.items() if v})
    return render(request, "admin-audit.html", status_code=422 if query.errors else 200,
                  principal=access.principal, entries=entries, filters=query.shown,
                  errors=query.errors, actions=ACTIONS, outcomes=OUTCOMES,
                  paging=_page_links(request, page, total), zone=DEFAULT_ZONE,
                  export=f"{AUDIT}.csv" + (f"?{export}" if export else ""))


@router.get(f"{AUDIT}.csv")
def audit_csv(request: Request, access: PageAccess, session: SessionDep, actor: Filter = "",
              action: Filter = "", outcome: Filter = "",
              start: Annotated[Day, Query(alias="from")] = "",
              end: Annotated[Day, Query(alias="to")] = "") -> Response:
    """The filtered audit log as CSV (UTC times, newest first, at most 100 000 rows)."""
    access.require("audit.read", resource="audit:csv")
    query = _audit_query(actor, action, outcome, start, end)
    if query.errors:
        return RedirectResponse(f"{AUDIT}?{request.url.query}", status_code=303)
    entries = service.audit_export(session, chosen=query.chosen, limit=EXPORT_LIMIT)
    return StreamingResponse(
        _csv_lines(entries), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'})


AUDIT_COLUMNS = ("at", "actor", "action", "resource", "outcome", "client", "reason")


def cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: one that would start a formula (``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return; a login's actor is whatever was typed) gets a
    leading apostrophe."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_lines(entries: Iterable[AuditEntry]):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AUDIT_COLUMNS)
    for entry in entries:
        writer.writerow([utc_text(entry.at), *(cell(getattr(entry, c))
                                               for c in AUDIT_COLUMNS[1:])])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
