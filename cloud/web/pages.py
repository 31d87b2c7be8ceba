"""The fleet status page (server-rendered in the reader's language, kept current by the live
stream's ``room.changed``: ``static/status.js`` fetches the changed room's card from
``/status/rooms/{site}/{room}``, and every card from ``/status/rooms`` after a reconnect), the
API docs (served from local assets) and the Prometheus metrics endpoint (behind a bearer
token)."""
from __future__ import annotations

import hmac
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from cloud import formats
from cloud.accounts.access import ADMIN, ADVISOR, EXPERT, SUPPORT
from cloud.accounts.deps import Access
from cloud.accounts.pages import PageAccess
from cloud.api.deps import NowDep, RegistryDep, SessionDep
from cloud.api.inputs import Code
from cloud.api.refusals import Refusal
from cloud.ingest import service as ingest
from cloud.live.brokerlink import broker_notice
from cloud.sites.hours import DEFAULT_ZONE
from cloud.texts import texts, translate
from cloud.twin import service as twin
from cloud.twin import views as twin_views
from cloud.web.templating import language, render

router = APIRouter()
STATIC = Path(__file__).parent / "static"
# packaged with the code, so read once
DOCS_PAGE = (STATIC / "docs.html").read_text(encoding="utf-8")
# the consoles the status page links to, by role (each is also /console's home of its role)
CONSOLE_LINKS = {ADVISOR: (("advisor", "/console/advisor"),),
                 EXPERT: (("expert", "/console/expert"),),
                 SUPPORT: (("support", "/console/support"), ("docs", "/docs")),
                 ADMIN: (("staff", "/admin/staff"), ("audit", "/admin/audit"),
                         ("advisor", "/console/advisor"), ("docs", "/docs"))}


def _fleet(request: Request, access: Access, session, registry) -> list[dict]:
    """The sites and rooms the reader may see (the fleet API's view and access rule), each
    room with its name in the page's language as ``label``."""
    sites = twin_views.fleet(session=session, registry=registry, access=access)["sites"]
    lang = language(request)
    for site in sites:
        for room in site["rooms"]:
            room["label"] = registry.sites[site["site"]].rooms[room["room"]].local_name(lang)
    return sites


def _device_label(lang: str):
    return lambda device: (translate(lang, f"advisor.device.{device}")
                           if f"advisor.device.{device}" in texts() else device)


def _status(request: Request, template: str, **context) -> Response:
    return render(request, template, device_label=_device_label(language(request)), **context)


@router.get("/", include_in_schema=False)
def status_page(request: Request, access: PageAccess, session: SessionDep,
                registry: RegistryDep, now: NowDep) -> Response:
    """The fleet at a glance for logged-in staff (the login page first when needed)."""
    return _status(request, "status.html", principal=access.principal,
                   sites=_fleet(request, access, session, registry),
                   broker=broker_notice(request, session, now),
                   consoles=CONSOLE_LINKS.get(access.principal.role, ()),
                   updated=formats.clock(now, DEFAULT_ZONE, seconds=True),
                   script_keys=("status.updated",))


@router.get("/status/rooms", include_in_schema=False)
def status_rooms(request: Request, access: PageAccess, session: SessionDep,
                 registry: RegistryDep, now: NowDep) -> Response:
    """The status page's live part alone: every room the reader may see."""
    return _status(request, "status-sites.html", broker=broker_notice(request, session, now),
                   sites=_fleet(request, access, session, registry))


@router.get("/status/rooms/{site}/{room}", include_in_schema=False)
def status_room(site: Code, room: Code, request: Request, access: PageAccess,
                session: SessionDep, registry: RegistryDep, now: NowDep) -> Response:
    """One room's card of the status page (refused, as the API, outside the reader's sites)."""
    view = twin_views.room_status(site=site, room=room, session=session, registry=registry,
                                  access=access)
    view["label"] = registry.sites[site].rooms[room].local_name(language(request))
    return _status(request, "status-room.html", room=view,
                   broker=broker_notice(request, session, now))


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
