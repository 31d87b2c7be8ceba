"""FastAPI dependencies shared by every domain's router: the clock, the app's settings (loaded
once by the app factory, ``cloud.web.app.create_app``), its registry and a database session
per request. Who is calling is ``cloud.accounts.deps``."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from cloud.registry import Registry
from cloud.settings import CloudSettings


def wall_clock() -> datetime:
    """The current instant, aware and in UTC: the app's clock unless a test or the demo sets
    another (``app.state.clock``). No route reads the wall clock itself."""
    return datetime.now(UTC)


def get_now(request: Request) -> datetime:
    """The current instant by the app's clock."""
    return request.app.state.clock()


def app_settings(name: str) -> Callable[[Request], Any]:
    """A dependency that hands a route the settings object ``name`` the app factory loaded
    (``account_settings``, ``incident_settings``, ...); nothing loads settings per request."""

    def settings_of(request: Request) -> Any:
        return getattr(request.app.state, name)

    settings_of.__name__ = f"get_{name}"
    return settings_of


def get_settings(request: Request) -> CloudSettings:
    """The settings the app was created with."""
    return request.app.state.settings


def get_registry(request: Request) -> Registry:
    """The registry the app was created with."""
    return request.app.state.registry


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A database session for one request. A request waits (without a worker thread) for
    one of the pool's connections before it starts, so a thread never blocks on an empty pool
    while the requests that hold its connections wait for a thread."""
    gate = getattr(request.app.state, "connections", None)
    async with gate or nullcontext():
        session = request.app.state.sessionmaker()
        try:
            yield session
        finally:
            await run_in_threadpool(session.close)


NowDep = Annotated[datetime, Depends(get_now)]
SettingsDep = Annotated[CloudSettings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
SessionDep = Annotated[Session, Depends(get_session)]
