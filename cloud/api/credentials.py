"""How a request names its credential, read one way by the cross-site check and by the
authentication: ``Authorization: Bearer <token>``, or no ``Authorization`` and the session
cookie. Any other ``Authorization`` (Basic, Negotiate, a bare ``Bearer``) is malformed."""
from __future__ import annotations


class MalformedAuthorization(ValueError):
    """An ``Authorization`` header that is not ``Bearer <token>``."""


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization`` header, None without one; ``MalformedAuthorization``
    for any other scheme or an empty token."""
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MalformedAuthorization("the Authorization header must be Bearer with a token")
    return token.strip()
