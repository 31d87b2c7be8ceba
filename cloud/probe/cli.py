"""``etapalvelu cloud probe-token SITE ROOM``: the room's link-probe token, for its agent."""
from __future__ import annotations

import click


@click.command("probe-token")
@click.argument("site")
@click.argument("room")
def probe_token(site: str, room: str) -> None:
    """Print the link-probe token of SITE/ROOM, derived from ETP_PROBE_SECRET (write it to the
    agent's probe.token_file, mode 0600)."""
    from cloud.probe.settings import ProbeSettings
    from cloud.probe.tokens import room_token
    from cloud.registry import load_registry
    from cloud.settings import CloudSettings

    registry = load_registry(CloudSettings().registry_file)
    if site not in registry.sites or room not in registry.sites[site].rooms:
        raise click.ClickException(f"no room {site}/{room} in the registry")
    click.echo(room_token(ProbeSettings().secret.get_secret_value(), site, room))
