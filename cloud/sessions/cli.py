"""``etapalvelu sessions``: what an operator needs for the video sessions."""
from __future__ import annotations

import os
from urllib.parse import urlencode

import click


@click.group()
def sessions() -> None:
    """Video sessions."""


@sessions.command("terminal-url")
@click.argument("site")
@click.argument("room")
@click.option("--base", default=lambda: os.environ.get("ETP_WEB_PUBLIC_URL",
                                                       "http://127.0.0.1:8080"),
              show_default="$ETP_WEB_PUBLIC_URL", help="the cloud's public address")
def terminal_url(site: str, room: str, base: str) -> None:
    """The kiosk address of a room's terminal, its room token in the fragment (set it as
    the terminal browser's start page; keep it as secret as the terminal secret)."""
    from cloud.registry import load_registry
    from cloud.sessions.service import room_token
    from cloud.sessions.settings import SessionSettings
    from cloud.settings import CloudSettings

    registry = load_registry(CloudSettings().registry_file)
    if site not in registry.sites or room not in registry.sites[site].rooms:
        raise click.ClickException(f"no room {room!r} at {site!r} in the registry")
    token = room_token(SessionSettings(), site=site, room=room)
    click.echo(f"{base.rstrip('/')}/sessions/terminal?{urlencode({'site': site, 'room': room})}"
               f"#token={token}")
