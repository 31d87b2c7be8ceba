"""The FastAPI application factory. Each domain package that has ``views.py`` with a
``router`` is mounted under ``/api``; the status page and ``/metrics`` live in ``cloud/web``."""
from __future__ import annotations

import asyncio
import importlib
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from cloud.db import make_engine, make_sessionmaker
from cloud.registry import load_registry
from cloud.settings import CloudSettings

log = logging.getLogger(__name__)
DOMAINS = ("twin", "ingest", "incidents", "accounts", "bookings", "sessions", "stats", "notify")


def create_app(settings: CloudSettings | None = None) -> FastAPI:
    """Build the API for ``settings`` (from the environment when not given)."""
    settings = settings or CloudSettings()
    engine = make_engine(settings.database_url, pool=settings.database_pool)
    audit_engine = make_engine(settings.database_url, pool=settings.audit_pool)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pool = settings.database_pool
        app.state.connections = asyncio.Semaphore(pool.size + pool.max_overflow)
        yield
        engine.dispose()
        audit_engine.dispose()

    app = FastAPI(title="etäpalvelu platform", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.registry = load_registry(settings.registry_file)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.audit_sessionmaker = make_sessionmaker(audit_engine)
    for domain in DOMAINS:
        views = _domain_views(domain)
        if views is not None:
            app.include_router(views.router, prefix="/api")
    from cloud.web import pages

    app.include_router(pages.router)
    app.include_router(importlib.import_module("cloud.runtime.health").router)
    return app


def _domain_views(domain: str):
    try:
        return importlib.import_module(f"cloud.{domain}.views")
    except ModuleNotFoundError as exc:
        if exc.name != f"cloud.{domain}.views" and exc.name != f"cloud.{domain}":
            raise
        return None
