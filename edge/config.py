"""The room agent's configuration: a YAML file, overridable from the environment.

Environment variables use the prefix ``ETP_EDGE_`` and ``__`` between levels, e.g.
``ETP_EDGE_BROKER__PASSWORD``, so a secret need not sit in the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from protocol.brokers import host_port, split_broker_urls
from protocol.topics import check_level


class Tls(BaseModel):
    """Files for mutual TLS with the broker."""

    model_config = ConfigDict(extra="forbid")
    ca_file: Path
    cert_file: Path | None = None
    key_file: Path | None = None


class Broker(BaseModel):
    """Where and how the agent reaches the MQTT broker: ``url`` is one broker or the pair, a
    list (or a comma-separated string) in order of preference; the agent moves to the next
    on failure."""

    model_config = ConfigDict(extra="forbid")
    url: str | list[str] = "mqtt://127.0.0.1:1883"
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    tls: Tls | None = None
    keepalive_s: int = Field(10, ge=2, le=600)
    reconnect_min_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)

    @field_validator("url")
    @classmethod
    def _scheme(cls, url: str | list[str]) -> str | list[str]:
        urls = split_broker_urls(url)
        return urls[0] if len(urls) == 1 else urls

    @model_validator(mode="after")
    def _tls_matches_scheme(self) -> Broker:
        if urlsplit(self.urls[0]).scheme == "mqtts" and self.tls is None:
            raise ValueError("mqtts:// needs a tls section with at least ca_file")
        return self

    @property
    def urls(self) -> list[str]:
        """The brokers in order of preference."""
        return [self.url] if isinstance(self.url, str) else list(self.url)

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """(host, port) of each broker, in order of preference."""
        return [host_port(url) for url in self.urls]

    @property
    def host(self) -> str:
        """The preferred broker's host."""
        return self.addresses[0][0]

    @property
    def port(self) -> int:
        """The preferred broker's port."""
        return self.addresses[0][1]

    def secret(self) -> str | None:
        """The password, from the file when one is named."""
        if self.password_file is not None:
            return self.password_file.read_text(encoding="utf-8").strip()
        return self.password.get_secret_value() if self.password else None


class Outbox(BaseModel):
    """The durable outbox on the terminal's disk."""

    model_config = ConfigDict(extra="forbid")
    path: Path = Path("outbox.sqlite")
    max_bytes: int = Field(50 * 1024 * 1024, ge=64 * 1024)
    synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL", description="SQLite synchronous mode of additions: FULL keeps every stored "
        "message through a power cut (one fsync per store); NORMAL keeps them through an agent "
        "crash only, for simulators and benchmarks that store thousands per second one by one")


class Intervals(BaseModel):
    """How often health and telemetry are read and sent."""

    model_config = ConfigDict(extra="forbid")
    health_s: float = Field(15.0, gt=0)
    telemetry_s: float = Field(30.0, gt=0)


class IceServer(BaseModel):
    """A STUN or TURN server of the probe's ICE (the room terminal's sessions use the same)."""

    model_config = ConfigDict(extra="forbid")
    urls: str = Field(pattern=r"^(stun|turn|turns):")
    username: str | None = None
    credential: SecretStr | None = None


class LinkProbe(BaseModel):
    """The WebRTC link probe (``edge.probe``): where, as whom, how often, and the limits
    beyond which the network is ``degraded``."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(description="the cloud's base URL, e.g. https://cloud.example.invalid")
    token: SecretStr | None = None
    token_file: Path | None = Field(None, description="file holding the room's probe token")
    every_s: float = Field(900.0, ge=30)
    before_booking_s: float = Field(300.0, ge=0, description="probe this long before a booking")
    ice_servers: list[IceServer] = []
    relay_only: bool = False
    pings: int = Field(200, ge=10, le=2000)
    ping_interval_s: float = Field(0.01, gt=0, le=1)
    burst_kbps: float = Field(4000.0, gt=0)
    timeout_s: float = Field(45.0, gt=0)
    limit_rtt_ms: float = Field(300.0, gt=0)
    limit_jitter_ms: float = Field(30.0, gt=0)
    limit_loss_pct: float = Field(5.0, ge=0, le=100)
    limit_bitrate_kbps: float = Field(1000.0, ge=0)

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("probe url must look like https://cloud.example.invalid")
        return url

    @model_validator(mode="after")
    def _one_token(self) -> LinkProbe:
        if (self.token is None) == (self.token_file is None):
            raise ValueError("give the room's probe token as token or token_file (one of them)")
        return self

    def secret(self) -> str:
        """The room's probe token, from the file when one is named."""
        if self.token_file is not None:
            return self.token_file.read_text(encoding="utf-8").strip()
        assert self.token is not None
        return self.token.get_secret_value()


class _Device(BaseModel):
    model_config = ConfigDict(extra="forbid")
    backend: Literal["sim", "linux"] = "sim"


class Terminal(_Device):
    type: Literal["terminal"]
    touch_name: str | None = Field(None, description="substring of the touchscreen's input name")


class DocCam(_Device):
    type: Literal["doccam"]
    video_name: str | None = Field(None, description="substring of the camera's V4L2 name")


class CallButton(_Device):
    type: Literal["callbutton"]
    silent_after_s: float = Field(3600.0, gt=0)


class OccupancySensor(_Device):
    type: Literal["occupancy"]


class NetworkLink(_Device):
    type: Literal["network"]
    degraded_rtt_ms: float = Field(150.0, gt=0)


class AgentSelf(_Device):
    type: Literal["agent"]


DeviceConfig = Annotated[
    Terminal | DocCam | CallButton | OccupancySensor | NetworkLink | AgentSelf,
    Field(discriminator="type"),
]


class AgentConfig(BaseSettings):
    """Everything a room agent needs; see ``etapalvelu edge validate-config``."""

    model_config = SettingsConfigDict(env_prefix="ETP_EDGE_", env_nested_delimiter="__",
                                      extra="forbid")
    site: str
    room: str
    broker: Broker = Broker()
    outbox: Outbox = Outbox()
    intervals: Intervals = Intervals()
    devices: list[DeviceConfig] = Field(min_length=1)
    probe: LinkProbe | None = None  # the link probe is off without it

    @field_validator("site", "room")
    @classmethod
    def _topic_level(cls, value: str) -> str:
        return check_level(value, "site/room")

    @model_validator(mode="after")
    def _one_of_each(self) -> AgentConfig:
        types = [device.type for device in self.devices]
        doubles = sorted({t for t in types if types.count(t) > 1})
        if doubles:
            raise ValueError(f"each device type once per room; repeated: {doubles}")
        if self.probe is not None and "network" not in types:
            raise ValueError("the link probe reports as the network device: add a device "
                             "of type network")
        return self

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                   dotenv_settings, file_secret_settings
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = init_settings.init_kwargs.pop("_yaml_file", None)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if yaml_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)


class ConfigError(ValueError):
    """A config file that cannot be used; ``problems`` are lines a person can act on."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        super().__init__(f"{path}: " + "; ".join(problems))
        self.path = Path(path)
        self.problems = problems


def load_config(path: Path | str) -> AgentConfig:
    """Read an agent config file (environment variables override it); raise ``ConfigError``
    with readable problems when the file is missing, not YAML, or not a valid config."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(path, [f"config file {path} not found"])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(path, [f"not valid YAML{where}: {problem}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [f"cannot read the file: {exc}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(path, [("the file must be a YAML mapping with site, room, broker, "
                                  "outbox, intervals and devices")])
    try:
        return AgentConfig(_yaml_file=path)
    except ValidationError as exc:
        raise ConfigError(path, [_explain(error, data) for error in exc.errors()]) from None


def missing_files(config: AgentConfig) -> list[str]:
    """Files the config names that are not there (TLS files, the password file)."""
    named = []
    if config.broker.tls is not None:
        tls = config.broker.tls
        named += [("broker.tls.ca_file", tls.ca_file), ("broker.tls.cert_file", tls.cert_file),
                  ("broker.tls.key_file", tls.key_file)]
    named.append(("broker.password_file", config.broker.password_file))
    if config.probe is not None:
        named.append(("probe.token_file", config.probe.token_file))
    return [f"{where}: file {path} not found" for where, path in named
            if path is not None and not Path(path).is_file()]


def _explain(error: dict, data: dict) -> str:
    """One validation error as ``where: what``, naming list items by their device type."""
    loc = list(error["loc"])
    parts: list[str] = []
    for index, part in enumerate(loc):
        if isinstance(part, int):
            parts[-1] += f"[{part}]"
        elif index >= 2 and loc[0] == "devices" and isinstance(loc[index - 1], int):
            continue  # pydantic repeats the device type as a level of its own
        else:
            parts.append(str(part))
    where = ".".join(parts) or "(top level)"
    kind, message = error["type"], error["msg"]
    if kind == "missing":
        message = "required, but missing"
    elif kind == "extra_forbidden":
        message = "unknown setting (check its spelling and indentation)"
    elif kind == "union_tag_invalid":
        ctx = error.get("ctx", {})
        message = (f"unknown device type {ctx.get('tag')!r}; one of "
                   f"{ctx.get('expected_tags', '')}")
    elif kind == "union_tag_not_found":
        message = "a device needs a type (terminal, doccam, callbutton, occupancy, network, agent)"
    elif message.startswith("Value error, "):
        message = message[len("Value error, "):]
    return f"{where}: {message}"


def simulated_config(site: str, room: str, *, outbox_path: Path | str,
                     broker_url: str = "mqtt://127.0.0.1:1883", keepalive_s: int = 10,
                     health_s: float = 15.0, telemetry_s: float = 30.0,
                     synchronous: str = "FULL", max_bytes: int = 50 * 1024 * 1024,
                     probe: LinkProbe | None = None, **broker: object) -> AgentConfig:
    """A config for a room whose six devices are all simulated (demo, tests, benchmarks);
    ``broker`` takes further ``Broker`` fields (username, password, reconnect_min_s, ...);
    ``probe`` turns the link probe on."""
    from protocol.topics import DEVICE_TYPES

    return AgentConfig(
        site=site, room=room,
        broker=Broker(url=broker_url, keepalive_s=keepalive_s, **broker),
        outbox=Outbox(path=Path(outbox_path), max_bytes=max_bytes, synchronous=synchronous),
        intervals=Intervals(health_s=health_s, telemetry_s=telemetry_s),
        devices=[{"type": device, "backend": "sim"} for device in DEVICE_TYPES],
        probe=probe,
    )
