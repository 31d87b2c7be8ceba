"""``etapalvelu sim``: drive a simulated room from a second terminal.

Each command asks for an ``inject_fault`` command to the room's agent and prints its ack, the
agent's own answer. By default the request goes through the cloud's API (``--api``; the demo
broker takes commands from the cloud only); with ``--broker`` (or ``$ETP_BROKER_URL``) it is
published straight to a broker, with ``--username``/``--password`` where the broker needs them.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from urllib.parse import quote, urlsplit

import click

from protocol.topics import check_level, topic

DEFAULT_API = "http://127.0.0.1:8080"
DEVELOPMENT_TOKEN = "development-only-admin-token"  # the cloud's default outside production


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


def ask_cloud(api_url: str, token: str, site: str, room: str, device: str, fault: str, *,
              timeout: float) -> tuple[bool, str | None]:
    """Ask the cloud's API to inject a fault; return the agent's (ok, detail)."""
    request = urllib.request.Request(
        f"{api_url.rstrip('/')}/api/demo/rooms/{quote(site)}/{quote(room)}/faults",
        data=json.dumps({"device": device, "fault": fault}).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout + 5) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as refusal:
        detail = json.loads(refusal.read() or b"{}").get("detail", refusal.reason)
        if refusal.code == 504:
            raise AckTimeout(detail) from None
        raise OSError(f"the cloud answered {refusal.code}: {detail}") from None
    return answer["ok"], answer["detail"]


def _inject(ctx: click.Context, site: str, room: str, device: str, fault: str) -> None:
    opts = ctx.obj
    for value, what in ((site, "site"), (room, "room"), (device, "device")):
        try:
            check_level(value, what)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    try:
        if opts["broker"]:
            ok, detail = send_command(opts["broker"], site, room, "inject_fault",
                                      {"device": device, "fault": fault},
                                      timeout=opts["timeout"], username=opts["username"],
                                      password=opts["password"])
        else:
            ok, detail = ask_cloud(opts["api"], opts["token"], site, room, device, fault,
                                   timeout=opts["timeout"])
    except (AckTimeout, OSError) as exc:
        click.echo(f"{site}/{room} {device} {fault}: {exc}", err=True)
        sys.exit(2)
    click.echo(f"{site}/{room} {device} {fault}: {'ok' if ok else 'refused'}"
               f"{' - ' + detail if detail else ''}")
    sys.exit(0 if ok else 1)


@click.group()
@click.option("--api", default=lambda: os.environ.get("ETP_API_URL", DEFAULT_API),
              show_default=f"$ETP_API_URL or {DEFAULT_API}", help="the cloud's API")
@click.option("--token", envvar="ETP_ADMIN_TOKEN", default=DEVELOPMENT_TOKEN,
              show_default="$ETP_ADMIN_TOKEN or the development token",
              help="bearer token for the API (a staff session token works too)")
@click.option("--broker", default=lambda: os.environ.get("ETP_BROKER_URL"),
              show_default="$ETP_BROKER_URL", help="publish straight to this broker instead")
@click.option("--username", envvar="ETP_BROKER_USERNAME", default=None)
@click.option("--password", envvar="ETP_BROKER_PASSWORD", default=None)
@click.option("--timeout", default=10.0, show_default=True, help="seconds to wait for the ack")
@click.pass_context
def sim(ctx: click.Context, api: str, token: str, broker: str | None, username: str | None,
        password: str | None, timeout: float) -> None:
    """Drive simulated rooms: inject faults, press the call button, occupy the room."""
    ctx.obj = {"api": api, "token": token, "broker": broker, "username": username,
               "password": password, "timeout": timeout}


def _broker_option(func):
    """Accept ``--api`` and ``--broker`` after the subcommand too (``sim fault ... --api URL``)."""
    def remember(key: str):
        def callback(ctx: click.Context, param, value):
            if value is not None:  # the group ran first and set ctx.obj
                ctx.obj[key] = value
                if key == "api":
                    ctx.obj["broker"] = None
            return value
        return callback
    func = click.option("--broker", default=None, expose_value=False, callback=remember("broker"),
                        help="publish straight to this broker (default: $ETP_BROKER_URL)")(func)
    return click.option("--api", default=None, expose_value=False, callback=remember("api"),
                        help=f"the cloud's API (default: $ETP_API_URL or {DEFAULT_API})")(func)


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
    """Press the room's call button: the site's advisors' consoles ring."""
    _inject(ctx, site, room, "callbutton", "press")


@sim.command()
@click.argument("site")
@click.argument("room")
@_broker_option
@click.pass_context
def cancel(ctx: click.Context, site: str, room: str) -> None:
    """Hold the room's call button (a long press): the customer cancels the call."""
    _inject(ctx, site, room, "callbutton", "cancel")


@sim.command()
@click.argument("site")
@click.argument("room")
@click.argument("state", type=click.Choice(["occupied", "vacant"]))
@_broker_option
@click.pass_context
def occupancy(ctx: click.Context, site: str, room: str, state: str) -> None:
    """Make the room occupied or vacant."""
    _inject(ctx, site, room, "occupancy", state)
