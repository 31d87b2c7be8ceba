"""The local OIDC provider of the tests: the project's development-only provider."""
from etapalvelu.dev_identity import Provider, free_port

__all__ = ["Provider", "free_port"]
