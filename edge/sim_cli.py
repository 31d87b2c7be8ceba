"""``etapalvelu sim``: drive a simulated room from a second terminal.

Each command publishes an ``inject_fault`` command to the room's agent and waits for its ack,
so the result printed is the agent's own answer.
"""
from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit

import click

from protocol.topics import check_level, topic

DEFAULT_BROKER = "mqtt://127.0.0.1:1883"


class AckTimeout(TimeoutError):
    """The agent did not answer in time (offline, wrong room, or unreachable broker)."""


def send_command(broker_url: str, site: str, room: str, name: str, args: dict, *,
                 timeout: float = 10.0, username: str | None = None,
                 password: str | None = None) -> tuple[bool, str | None]:
    """Publish a command to the room's agent and wait for its ack; return (ok, detail)."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    from protocol.codec import Rejected, decode, encode
    from protocol.payloads import Ack, Command

    parts = urlsplit(broker_url)
    if parts.scheme != "mqtt" or not parts.hostname:
        raise click.BadParameter("the broker url must look like mqtt://host:1883")
    command_id = f"sim-{uuid.uuid4().hex[:16]}"
    answer: list[Ack] = []
    answered, subscribed = threading.Event(), threading.Event()

    def on_message(client, userdata, message):
        try:
            ack = decode(message.topic, message.payload).payload
        except Rejected:
            return
        if isinstance(ack, Ack) and ack.id == command_id:
            answer.append(ack)
            answered.set()

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=command_id,
                         protocol=paho.MQTTv311)
    if username:
        client.username_pw_set(username, password)
    client.on_message = on_message
    client.on_subscribe = lambda *a: subscribed.set()
    client.connect(parts.hostname, parts.port or 1883, keepalive=30)
    client.loop_start()
    try:
        client.subscribe(topic(site, room, "agent", "ack"), qos=1)
        if not subscribed.wait(timeout):
            raise AckTimeout("the broker did not confirm the subscription")
        payload = encode(Command(ts=int(time.time() * 1000), seq=0, id=command_id, args=args))
        client.publish(topic(site, room, "agent", "cmd", name), payload, qos=1)
        if not answered.wait(timeout):
            raise AckTimeout(f"no answer from {site}/{room} within {timeout:.0f} s "
                             "(is its agent running and connected?)")
    finally:
        client.disconnect()
        client.loop_stop()
    return answer[0].ok, answer[0].detail


def _inject(ctx: click.Context, site: str, room: str, device: str, fault: str) -> None:
    opts = ctx.obj
    for value, what in ((site, "site"), (room, "room"), (device, "device")):
        try:
            check_level(value, what)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    try:
        ok, detail = send_command(opts["broker"], site, room, "inject_fault",
                                  {"device": device, "fault": fault}, timeout=opts["timeout"],
                                  username=opts["username"], password=opts["password"])
    except (AckTimeout, OSError) as exc:
        click.echo(f"{site}/{room} {device} {fault}: {exc}", err=True)
        sys.exit(2)
    click.echo(f"{site}/{room} {device} {fault}: {'ok' if ok else 'refused'}"
               f"{' - ' + detail if detail else ''}")
    sys.exit(0 if ok else 1)


@click.group()
@click.option("--broker", default=lambda: os.environ.get("ETP_BROKER_URL", DEFAULT_BROKER),
              show_default=f"$ETP_BROKER_URL or {DEFAULT_BROKER}", help="broker URL")
@click.option("--username", envvar="ETP_BROKER_USERNAME", default=None)
@click.option("--password", envvar="ETP_BROKER_PASSWORD", default=None)
@click.option("--timeout", default=10.0, show_default=True, help="seconds to wait for the ack")
@click.pass_context
def sim(ctx: click.Context, broker: str, username: str | None, password: str | None,
        timeout: float) -> None:
    """Drive simulated rooms: inject faults, press the call button, occupy the room."""
    ctx.obj = {"broker": broker, "username": username, "password": password,
               "timeout": timeout}


def _broker_option(func):
    """Accept ``--broker`` after the subcommand too (``sim fault ... --broker URL``)."""
    def remember(ctx: click.Context, param, value):
        if value is not None:  # the group ran first and set ctx.obj
            ctx.obj["broker"] = value
        return value
    return click.option("--broker", default=None, expose_value=False, callback=remember,
                        help="broker URL (default: $ETP_BROKER_URL or mqtt://127.0.0.1:1883)"
                        )(func)


@sim.command()
@click.argument("site")
@click.argument("room")
@click.argument("device")
@click.argument("fault")
@_broker_option
@click.pass_context
def fault(ctx: click.Context, site: str, room: str, device: str, fault: str) -> None:
    """Inject FAULT into DEVICE (e.g. doccam unplugged, terminal touch_failure,
    network loss, callbutton battery_low)."""
    _inject(ctx, site, room, device, fault)


@sim.command()
@click.argument("site")
@click.argument("room")
@click.argument("device")
@_broker_option
@click.pass_context
def clear(ctx: click.Context, site: str, room: str, device: str) -> None:
    """Clear every fault of DEVICE."""
    _inject(ctx, site, room, device, "clear")


@sim.command()
@click.argument("site")
@click.argument("room")
@_broker_option
@click.pass_context
def press(ctx: click.Context, site: str, room: str) -> None:
    """Press the room's call button."""
    _inject(ctx, site, room, "callbutton", "press")


@sim.command()
@click.argument("site")
@click.argument("room")
@click.argument("state", type=click.Choice(["occupied", "vacant"]))
@_broker_option
@click.pass_context
def occupancy(ctx: click.Context, site: str, room: str, state: str) -> None:
    """Make the room occupied or vacant."""
    _inject(ctx, site, room, "occupancy", state)
