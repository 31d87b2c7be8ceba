"""The ICE servers a participant is given with the join: STUN as configured, and TURN with
short-lived credentials in coturn's ``use-auth-secret`` REST scheme (the username is the
expiry's Unix time and a label, the password the base64 HMAC-SHA1 of the username under the
shared secret), so no TURN account is stored anywhere and each expires with its session."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from cloud.sessions.settings import SessionSettings


def turn_credential(secret: str, *, label: str, expires_at: datetime) -> tuple[str, str]:
    """The (username, password) coturn accepts until ``expires_at``."""
    username = f"{int(expires_at.timestamp())}:{label}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(),
                                         hashlib.sha1).digest()).decode()
    return username, password


def ice_servers(settings: SessionSettings, *, label: str, expires_at: datetime) -> list[dict]:
    """The RTCIceServer dictionaries for one participant of a session ending at
    ``expires_at``."""
    servers: list[dict] = []
    if settings.stun_urls:
        servers.append({"urls": list(settings.stun_urls)})
    if settings.turn_urls and settings.turn_secret is not None:
        username, password = turn_credential(settings.turn_secret.get_secret_value(),
                                             label=label, expires_at=expires_at)
        servers.append({"urls": list(settings.turn_urls), "username": username,
                        "credential": password})
    return servers
