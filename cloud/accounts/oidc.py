"""Staff login through an OpenID Connect identity provider (production)."""
from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/oidc", tags=["accounts"])
