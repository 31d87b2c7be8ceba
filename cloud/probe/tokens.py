"""Room probe tokens: an HMAC of the room under the cloud's probe secret.

The cloud stores no token: it derives the one a room must show, so a new room needs no
database row and rotating ``ETP_PROBE_SECRET`` revokes every token at once. A token proves
only "this is room site/room asking to measure its link"; it opens nothing else.
"""
from __future__ import annotations

import hashlib
import hmac


def room_token(secret: str, site: str, room: str) -> str:
    """The probe token of ``site/room``."""
    message = f"etp-probe-v1:{site}/{room}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def token_matches(secret: str, site: str, room: str, token: str) -> bool:
    """Whether ``token`` is the room's (in constant time)."""
    return hmac.compare_digest(room_token(secret, site, room), token)
