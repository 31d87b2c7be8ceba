"""The remote-service platform: one distribution, one CLI (``etapalvelu``)."""
__version__ = "0.1.0"
