"""FastAPI dependencies shared by every domain's router."""
from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from contextlib import nullcontext
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from cloud.registry import Registry
from cloud.settings import CloudSettings


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


def require_admin(settings: Annotated[CloudSettings, Depends(get_settings)],
                  authorization: Annotated[str | None, Header()] = None) -> None:
    """Accept only ``Authorization: Bearer <admin token>`` (until staff accounts exist)."""
    expected = f"Bearer {settings.admin_token.get_secret_value()}"
    if authorization is None or not hmac.compare_digest(authorization, expected):
        raise HTTPException(401, "admin token required", headers={"WWW-Authenticate": "Bearer"})


SettingsDep = Annotated[CloudSettings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
SessionDep = Annotated[Session, Depends(get_session)]
AdminDep = Annotated[None, Depends(require_admin)]
