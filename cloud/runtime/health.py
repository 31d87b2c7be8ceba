"""The API's health endpoints, for the load balancer and systemd's checks.

``/healthz`` (liveness): the process answers. ``/readyz`` (readiness): it can also reach
the database, so a replica whose database is gone leaves the load balancer's pool.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from cloud.api.problems import problem
from etapalvelu.logs import event_log

router = APIRouter(tags=["health"])
log = event_log(__name__)


@router.get("/healthz")
def healthz() -> dict:
    """Liveness: the API process serves requests."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Readiness: the database answers; 503 otherwise."""
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        log.warning("api.not_ready", reason="database", error=type(exc).__name__)
        return problem(503, "unavailable", "the database does not answer")
    return JSONResponse({"status": "ready"})
