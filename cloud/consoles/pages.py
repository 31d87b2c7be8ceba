"""The consoles' pages, mounted at the root by the app factory: the advisor's console and
its booking forms (``advisor_pages``), the task-time log and the monthly report
(``task_pages``), the expert's day (``expert_pages``), and the consoles' scripts and styles.

Server-rendered; every form works without script (POST-redirect-GET, GOV.UK-style error
summaries). ``/console/advisor/live`` answers the page's live part alone, which
``static/refresh.js`` fetches every 15 s; the call-button alerts come over the live event
stream (``/api/live/events``), read by ``static/alerts.js`` (docs/consoles.md)."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from cloud.consoles import advisor_pages, expert_pages, task_pages

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
STATIC_FILES = {p.name: p for p in STATIC.iterdir() if p.suffix in (".js", ".css")}


@router.get("/static/consoles/{name}")
def static_file(name: str) -> FileResponse:
    """The consoles' scripts and styles (files: the CSP allows no inline script)."""
    if name not in STATIC_FILES:
        raise HTTPException(404, "no such file")
    return FileResponse(STATIC_FILES[name])


for part in (advisor_pages, task_pages, expert_pages):
    router.include_router(part.router)
