"""``etapalvelu demo``: the whole system on one machine with no set-up.

An embedded MQTT broker (amqtt), the cloud on a SQLite file, and a simulated room agent for
every room of the pilot registry. Telemetry history stays off unless ETP_INFLUX_URL is set.
"""
from __future__ import annotations

import asyncio
import logging
import os
import threading
from pathlib import Path

import click

log = logging.getLogger("etapalvelu.demo")


class EmbeddedBroker:
    """amqtt in a thread of its own: good for a demo, not for production (use Mosquitto)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="demo-broker",
                                        daemon=True)
        self._broker = None

    def start(self) -> "EmbeddedBroker":
        from amqtt.broker import Broker

        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin":
                        {"allow_anonymous": True}},
        }
        self._thread.start()
        self._broker = Broker(config, loop=self._loop)
        asyncio.run_coroutine_threadsafe(self._broker.start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._broker is not None:
            asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def _agents(registry, broker_url: str, data: Path) -> list:
    from edge.agent import Agent
    from edge.config import AgentConfig

    agents = []
    for site, room_id, room in registry.rooms():
        config = AgentConfig(
            site=site, room=room_id,
            broker={"url": broker_url, "keepalive_s": 5},
            outbox={"path": data / f"outbox-{site}-{room_id}.sqlite"},
            intervals={"health_s": 5, "telemetry_s": 5},
            devices=[{"type": device, "backend": "sim"} for device in room.devices],
        )
        agents.append(Agent(config).start())
    return agents


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address of the web UI")
@click.option("--port", default=8080, show_default=True, help="port of the web UI and API")
@click.option("--mqtt-port", default=1883, show_default=True, help="port of the embedded broker")
@click.option("--data", default="var/demo", show_default=True, type=click.Path(path_type=Path),
              help="folder for the SQLite file and the agents' outboxes")
def demo(host: str, port: int, mqtt_port: int, data: Path) -> None:
    """Run the broker, the cloud and the three pilot rooms locally; Ctrl-C stops."""
    from cloud.registry import load_registry
    from cloud.settings import CloudSettings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("amqtt", "alembic", "transitions"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    data.mkdir(parents=True, exist_ok=True)
    broker_url = f"mqtt://127.0.0.1:{mqtt_port}"
    settings = CloudSettings(
        database_url=os.environ.get("ETP_DATABASE_URL", f"sqlite:///{data}/etapalvelu.sqlite"),
        broker_url=broker_url, mqtt_protocol="3.1.1", ingest_group=None,
        spool_file=data / "telemetry-spool.sqlite")
    broker = EmbeddedBroker("127.0.0.1", mqtt_port).start()
    registry = load_registry(settings.registry_file)
    agents = _agents(registry, broker_url, data)  # rooms come up while the cloud loads
    import uvicorn

    from cloud.db import migrate
    from cloud.services import start_services, stop_services
    from cloud.web.app import create_app

    migrate(settings.database_url)
    services = start_services(settings, registry)
    token = settings.admin_token.get_secret_value()
    click.echo(f"""
Status page: http://{host}:{port}/#token={token}
API docs:    http://{host}:{port}/docs   (Authorization: Bearer {token})
Broker:      {broker_url}  (embedded; production uses Mosquitto)

From a second terminal, inject a fault and clear it:
  .venv/bin/etapalvelu sim fault porvoo r1 doccam unplugged --broker {broker_url}
  .venv/bin/etapalvelu sim clear porvoo r1 doccam --broker {broker_url}
  .venv/bin/etapalvelu sim press imatra r1 --broker {broker_url}
Ctrl-C stops everything.
""", err=True)
    try:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
    finally:
        for agent in agents:
            agent.stop()
        stop_services(services)
        broker.stop()
