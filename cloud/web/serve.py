"""Serving the app: uvicorn with the app's own proxy rules, a clear line when the port is
taken, and a quiet stop on Ctrl-C or SIGTERM."""
from __future__ import annotations

import logging
import socket

import click

GRACE_S = 10  # for the requests in hand at a stop, well inside the unit's TimeoutStopSec=30


def check_port_free(host: str, port: int) -> None:
    """Stop with one clear line (a ``ClickException``) when ``host:port`` is taken."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise click.ClickException(
                f"cannot listen on {host}:{port}: {error.strerror or error} (another process "
                "uses it? choose another port)") from None


QUIET_PATHS = ("/healthz", "/readyz", "/metrics")  # the load balancer's and Prometheus' polls


class QuietProbes(logging.Filter):
    """Drops the access lines of answered health checks and scrapes (a failed one stays)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (len(args) == 5 and str(args[2]).startswith(QUIET_PATHS)
                    and isinstance(args[4], int) and args[4] < 400)


def route_uvicorn_logs() -> None:
    """uvicorn's records go to the process's one renderer (``etapalvelu.logs``): no handler
    of their own, its server chatter from WARNING up, an ``http.request`` line per request
    at INFO."""
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QuietProbes) for f in access.filters):
        access.addFilter(QuietProbes())


def uvicorn_config(app, *, host: str, port: int):
    """How every process serves the app. Forwarded headers are the app's business
    (``ETP_WEB_TRUSTED_PROXIES``), so uvicorn's own proxy handling (which believes anyone on
    127.0.0.1) is off."""
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level=None, proxy_headers=False,
                            server_header=False, log_config=None,
                            timeout_graceful_shutdown=GRACE_S)
    route_uvicorn_logs()
    return config


def make_server(app, *, host: str, port: int):
    """The uvicorn server of ``app`` (check the port first with ``check_port_free``)."""
    import uvicorn

    class Server(uvicorn.Server):
        async def shutdown(self, sockets=None) -> None:
            # a console's stream or a session's socket never ends by itself: end them first
            bus = getattr(app.state, "live_bus", None)
            if bus is not None:
                bus.release_all()
            await super().shutdown(sockets)

    return Server(uvicorn_config(app, host=host, port=port))
