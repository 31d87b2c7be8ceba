"""The live status page, the API docs (served from local assets) and the Prometheus
metrics endpoint (behind a bearer token)."""
from __future__ import annotations

import hmac
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from cloud.api.refusals import Refusal
from cloud.ingest import service as ingest
from cloud.twin import service as twin

router = APIRouter()
STATIC = Path(__file__).parent / "static"
# packaged with the code, so read once
STATUS_PAGE = (STATIC / "status.html").read_text(encoding="utf-8")
DOCS_PAGE = (STATIC / "docs.html").read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def status_page() -> str:
    """The fleet at a glance for logged-in staff (the page asks for a login when needed)."""
    return STATUS_PAGE


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def api_docs() -> str:
    """Swagger UI over the app's OpenAPI, every asset from this server."""
    return DOCS_PAGE


class _TwinCollector:
    """Reads the twin and the ingest counters at scrape time (no personal data in labels)."""

    def __init__(self, sessionmaker) -> None:
        self._sessionmaker = sessionmaker

    def collect(self):
        online = GaugeMetricFamily("etp_agent_online", "1 when the room's agent is connected",
                                   labels=["site", "room"])
        state = GaugeMetricFamily("etp_device_state", "1 for the device's current state",
                                  labels=["site", "room", "device", "state"])
        gaps = GaugeMetricFamily("etp_device_seq_gaps", "messages missing by sequence number",
                                 labels=["site", "room", "device"])
        messages = CounterMetricFamily("etp_ingest_messages", "messages by worker and outcome",
                                       labels=["worker", "outcome"])
        with self._sessionmaker() as session:
            for agent in twin.presences(db=session):
                online.add_metric([agent.site, agent.room], 1.0 if agent.online else 0.0)
            for device in twin.device_states(db=session):
                labels = [device.site, device.room, device.device]
                if device.state:
                    state.add_metric([*labels, device.state], 1.0)
                gaps.add_metric(labels, float(device.seq_gaps))
            for counter in ingest.counters(db=session):
                messages.add_metric([counter.worker, counter.outcome], float(counter.count))
        yield from (online, state, gaps, messages)


class _LiveCollector:
    """This replica's live-bus counters (published, delivered and each kind of drop)."""

    def __init__(self, bus) -> None:
        self._bus = bus

    def collect(self):
        events = CounterMetricFamily("etp_live_events", "live console events of this replica "
                                     "by outcome", labels=["outcome"])
        for outcome, count in sorted((self._bus.counts if self._bus else {}).items()):
            events.add_metric([outcome], float(count))
        yield events


def _require_metrics_token(request: Request) -> None:
    state = request.app.state
    token = state.web_settings.metrics_token or state.settings.admin_token
    expected = f"Bearer {token.get_secret_value()}"
    if not hmac.compare_digest(request.headers.get("authorization", ""), expected):
        raise Refusal(401, "not_authenticated", "metrics token required",
                      headers={"WWW-Authenticate": "Bearer"})


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus exposition of the twin and the ingest counters (bearer token:
    ``ETP_WEB_METRICS_TOKEN``, else the admin token)."""
    _require_metrics_token(request)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_TwinCollector(request.app.state.sessionmaker))
    registry.register(_LiveCollector(getattr(request.app.state, "live_bus", None)))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
