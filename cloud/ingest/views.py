"""REST view of the ingest counters (accepted and dropped by reason, per worker)."""
from __future__ import annotations

from fastapi import APIRouter

from cloud.accounts.deps import AccessDep
from cloud.api.deps import SessionDep
from cloud.ingest.service import counters as stored_counters

router = APIRouter(tags=["ingest"])


@router.get("/ingest/counters")
def counters(session: SessionDep, access: AccessDep) -> dict:
    """Totals by outcome and the same per worker (support parties, administrators)."""
    access.require("ingest.read", resource="ingest")
    totals: dict[str, int] = {}
    workers: dict[str, dict[str, int]] = {}
    for row in stored_counters(db=session):
        totals[row.outcome] = totals.get(row.outcome, 0) + row.count
        workers.setdefault(row.worker, {})[row.outcome] = row.count
    return {"totals": totals, "workers": workers}
