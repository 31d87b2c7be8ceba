"""FastAPI dependencies shared by every domain's router: the app's settings, registry and a
database session per request. Who is calling is ``cloud.accounts.deps``."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from cloud.registry import Registry
from cloud.settings import CloudSettings


def get_settings(request: Request) -> CloudSettings:
    """The settings the app was created with."""
    return request.app.state.settings


def get_registry(request: Request) -> Registry:
    """The registry the app was created with."""
    return request.app.state.registry


def get_session(request: Request) -> Iterator[Session]:
    """A database session for one request."""
    with request.app.state.sessionmaker() as session:
        yield session


SettingsDep = Annotated[CloudSettings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
SessionDep = Annotated[Session, Depends(get_session)]
