"""The FastAPI application factory: it assembles the domains. Each domain package that has
``views.py`` with a ``router`` is mounted under ``/api``, its ``pages.py`` router (the
server-rendered pages) at the root and its ``static/`` folder at ``/static/<domain>``; the status page, the API docs and ``/metrics`` live in
``cloud/web``. Every answer passes the security middleware."""
from __future__ import annotations

import asyncio
import importlib
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from cloud.api import problems
from cloud.api.deps import wall_clock
from cloud.db import make_engine, make_sessionmaker
from cloud.live import LiveBus
from cloud.live.brokerlink import BrokerLinkWatch, notice_of
from cloud.registry import Registry, load_registry
from cloud.settings import CloudSettings
from cloud.web.security import BodyLimit, CrossSiteCheck, SecurityHeaders
from cloud.web.settings import WebSettings

DOMAINS = ("twin", "ingest", "incidents", "accounts", "bookings", "sessions", "stats", "notify",
           "consoles", "probe", "calls", "points")
STATIC = Path(__file__).parent / "static"
SWAGGER_ASSETS = Path(fastapi_offline.__file__).parent / "static"  # Swagger UI, no CDN


def create_app(settings: CloudSettings | None = None, web: WebSettings | None = None, *,
               registry: Registry | None = None) -> FastAPI:
    """Build the API for ``settings`` (from the environment when not given) and ``registry``
    (loaded from the settings when not given)."""
    settings, web = settings or CloudSettings(), web or WebSettings()
    engine = make_engine(settings.database_url, pool=settings.database_pool)
    audit_engine = make_engine(settings.database_url, pool=settings.audit_pool)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pool = settings.database_pool
        app.state.connections = asyncio.Semaphore(pool.size + pool.max_overflow)
        # one broker connection per replica carries the consoles' live events (cloud.live)
        app.state.live_bus = LiveBus(settings).start()
        watch = _broker_link_watch(app).start()
        yield
        await watch.stop()
        app.state.live_bus.stop()
        engine.dispose()
        audit_engine.dispose()

    app = FastAPI(title="etäpalvelu platform", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.settings, app.state.web_settings = settings, web
    app.state.registry = registry or load_registry(settings.registry_file)
    app.state.clock = wall_clock
    _load_domain_settings(app)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.audit_sessionmaker = make_sessionmaker(audit_engine)
    for domain in DOMAINS:
        views = _domain_module(domain, "views")
        if views is not None:
            app.include_router(views.router, prefix="/api")
        pages = _domain_module(domain, "pages")
        if pages is not None:
            app.include_router(pages.router)
    from cloud.accounts.pages import LoginRequired, login_redirect
    from cloud.incidents.views import routing_of

    # accounts checks a support agent's party against the matrix without importing incidents
    app.state.support_parties = lambda: routing_of(app).matrix.data.parties
    from cloud.web import pages

    app.include_router(pages.router)
    app.add_exception_handler(LoginRequired, login_redirect)
    app.include_router(importlib.import_module("cloud.runtime.health").router)
    app.mount("/static/swagger", StaticFiles(directory=SWAGGER_ASSETS), name="swagger")
    for domain in DOMAINS:  # the pages' scripts and styles: files, the CSP allows no inline
        folder = STATIC.parents[1] / domain / "static"
        if folder.is_dir():
            app.mount(f"/static/{domain}", StaticFiles(directory=folder), name=f"{domain}-static")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    problems.install(app)
    _document_refusals(app)
    _secure(app, web)
    return app


def _broker_link_watch(app: FastAPI) -> BrokerLinkWatch:
    """The replica's one watch of the broker link for its live streams (by the app's clock,
    which a test may set after the factory)."""
    def read():
        with app.state.sessionmaker() as session:
            return notice_of(session, app.state.live_bus, app.state.clock())

    return BrokerLinkWatch(app.state.live_bus, read, app.state.call_settings.link_poll_s)


def _document_refusals(app: FastAPI) -> None:
    """Say in the OpenAPI what every refusal holds: one problem-details shape (RFC 9457,
    ``application/problem+json``), for a 422 with the validator's ``errors``."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = generate()
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            schemas["Problem"] = problems.PROBLEM_SCHEMA
            problem = {problems.PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    answers = operation.setdefault("responses", {})
                    if "422" in answers:
                        answers["422"] = {"description": "invalid input", "content": problem}
                    answers.setdefault("default", {"description": "a refusal",
                                                   "content": problem})
        return app.openapi_schema

    app.openapi = openapi


def _secure(app: FastAPI, web: WebSettings) -> None:
    # added last runs first: headers on everything, then the body bound, then the CSRF check
    app.add_middleware(CrossSiteCheck, allowed_origins=[web.public_url] if web.public_url
                       else [])
    app.add_middleware(BodyLimit, max_bytes=web.max_body_bytes)
    if web.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=web.trusted_proxies)
    app.add_middleware(SecurityHeaders)


def _load_domain_settings(app: FastAPI) -> None:
    """Every domain's settings, read from the environment once, here; routes reach them
    through ``cloud.api.deps.app_settings`` (a test may set others on ``app.state``)."""
    from cloud.accounts.settings import AccountSettings
    from cloud.bookings.settings import BookingSettings
    from cloud.calls.settings import CallSettings
    from cloud.incidents.settings import IncidentSettings
    from cloud.probe.settings import ProbeSettings
    from cloud.sessions.settings import SessionSettings

    state, registry = app.state, app.state.registry
    state.account_settings, state.booking_settings = AccountSettings(), BookingSettings()
    state.call_settings, state.incident_settings = CallSettings(), IncidentSettings()
    state.probe_settings, state.session_settings = ProbeSettings(), SessionSettings()
    state.matrix = state.incident_settings.matrix(registry)
    state.booking_rules = state.booking_settings.rules(registry)


def _domain_module(domain: str, module: str):
    try:
        return importlib.import_module(f"cloud.{domain}.{module}")
    except ModuleNotFoundError as exc:
        if exc.name != f"cloud.{domain}.{module}" and exc.name != f"cloud.{domain}":
            raise
        return None
