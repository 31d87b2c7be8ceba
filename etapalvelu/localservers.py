"""Real servers on this machine for tests and benchmarks: installed from Debian when missing,
started on free loopback ports in a temporary folder, checked for readiness, stopped cleanly.
No Docker."""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

# binary -> Debian package that brings it
DEBIAN_PACKAGES = {
    "mosquitto": "mosquitto",
    "victoria-metrics": "victoria-metrics",
    "influxd": "influxdb",
    "pg_ctl": "postgresql",
    "chromium": "chromium",
    "turnserver": "coturn",  # TURN relay for the video sessions
    "haproxy": "haproxy",  # the load balancer in front of the API replicas
    "patroni": "patroni",  # PostgreSQL failover (docs/availability.md)
    "etcd": "etcd-server",  # Patroni's consensus store
}
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _which(binary: str) -> str | None:
    extra = [str(PG_BIN), "/usr/sbin"]
    return shutil.which(binary, path=os.pathsep.join([os.environ.get("PATH", ""), *extra]))


def ensure_debian_packages(binaries: list[str] = list(DEBIAN_PACKAGES)) -> None:
    """Install, in one apt-get run, the packages of the binaries that are missing."""
    missing = sorted({DEBIAN_PACKAGES[b] for b in binaries if _which(b) is None})
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-q"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    for binary in ("mosquitto", "influxd"):  # the packages start system services we do not use
        subprocess.run([*sudo, "sh", "-c", f"pkill -x {binary} || true"], check=False)


def binary(name: str) -> str:
    """Absolute path of a server binary, installing its package when missing."""
    found = _which(name)
    if found is None:
        ensure_debian_packages([name])
        found = _which(name)
    assert found, f"{name} is not installed and could not be installed"
    return found


def free_port() -> int:
    """A TCP port free on 127.0.0.1 at the time of asking."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.02) -> None:
    """Poll ``predicate`` until true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on the port."""
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def http_ok(url: str) -> bool:
    """Whether a GET of the url answers 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return 200 <= response.status < 300
    except OSError:
        return False


@dataclass
class Server:
    """A server process with a working folder; ``start``/``stop`` may repeat (same port)."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def owner(self) -> dict:
        """Popen arguments of the user the server runs as (none: ours)."""
        return {}

    def ready(self) -> bool:
        return port_open(self.port)

    def prepare(self) -> None:
        """Write config files before the first start."""

    def start(self, timeout: float = 30) -> Server:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.prepare()
        log = open(self.workdir / "server.log", "ab")
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                        cwd=self.workdir, start_new_session=True, **self.owner())
        wait_for(lambda: self._alive_or_fail() and self.ready(), timeout,
                 f"{type(self).__name__} on port {self.port}")
        return self

    def _alive_or_fail(self) -> bool:
        if self.process and self.process.poll() is not None:
            log = (self.workdir / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{type(self).__name__} exited: {log}")
        return True

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


@dataclass
class Mosquitto(Server):
    """Mosquitto 2 with a generated config; ``extra_config`` lines are appended."""

    extra_config: list[str] = field(default_factory=list)
    persistence: bool = True
    plain_listener: bool = True  # False when extra_config brings its own (e.g. TLS) listeners

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def prepare(self) -> None:
        lines = [
            *([f"listener {self.port} 127.0.0.1", "allow_anonymous true"]
              if self.plain_listener else []),
            *(["user root"] if os.geteuid() == 0 else []),  # keep access to our own folder
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.workdir}/",
            "max_queued_messages 0",
            "max_inflight_messages 0",
            "log_type error",
            "log_type warning",
            *self.extra_config,
        ]
        (self.workdir / "mosquitto.conf").write_text("\n".join(lines) + "\n")

    def command(self) -> list[str]:
        return [binary("mosquitto"), "-c", str(self.workdir / "mosquitto.conf")]

    def saved_after(self, moment: float) -> bool:
        """Whether the broker saved its persistence after ``moment`` (``time.time()``): what
        a restart after ``kill -9`` comes back with."""
        saved = self.workdir / "mosquitto.db"
        return saved.exists() and saved.stat().st_mtime > moment


@dataclass
class VictoriaMetrics(Server):
    """VictoriaMetrics: accepts InfluxDB line protocol on ``/api/v2/write``."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [binary("victoria-metrics"), f"-httpListenAddr=127.0.0.1:{self.port}",
                f"-storageDataPath={self.workdir / 'data'}", "-retentionPeriod=100y",
                "-search.latencyOffset=0s", "-loggerLevel=ERROR",
                # one sample per series and timestamp, as InfluxDB overwrites a rewritten point
                "-dedup.minScrapeInterval=1ms"]

    def export(self, metric: str, start_ms: int = 0, end_ms: int | None = None
               ) -> dict[tuple, list[int]]:
        """Timestamps (ms) stored per series of ``metric`` from ``start_ms`` to ``end_ms``
        (by default a day past now: device clocks may run ahead of this one), after flushing
        recent writes."""
        import json

        urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=10).read()
        end_ms = time.time_ns() // 1_000_000 + 86_400_000 if end_ms is None else end_ms
        query = urllib.parse.urlencode({"match[]": f'{{__name__="{metric}"}}',
                                        "start": f"{start_ms / 1000:.3f}",
                                        "end": f"{end_ms / 1000:.3f}"})
        with urllib.request.urlopen(f"{self.url}/api/v1/export?{query}", timeout=10) as response:
            series = [json.loads(line) for line in response.read().splitlines() if line.strip()]
        return {tuple(sorted(s["metric"].items())): s["timestamps"] for s in series}

    def ready(self) -> bool:
        return http_ok(f"{self.url}/health")


@dataclass
class InfluxDB1(Server):
    """InfluxDB 1.x, which answers the InfluxQL the dashboards use."""

    def prepare(self) -> None:
        data = self.workdir
        (data / "influxdb.conf").write_text(f"""
reporting-disabled = true
bind-address = "127.0.0.1:{free_port()}"
[meta]
  dir = "{data}/meta"
[data]
  dir = "{data}/data"
  wal-dir = "{data}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
[monitor]
  store-enabled = false
""")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [binary("influxd"), "-config", str(self.workdir / "influxdb.conf")]

    def ready(self) -> bool:
        return http_ok(f"{self.url}/ping")


@dataclass
class PostgreSQL(Server):
    """A PostgreSQL cluster of its own, run as the ``postgres`` user when we are root."""

    def __post_init__(self) -> None:
        if os.geteuid() == 0:  # the postgres user must reach the folder: /tmp itself, not ours
            self.workdir = Path(tempfile.mkdtemp(prefix="etp-pg-"))

    def owner(self) -> dict:
        """As root, the ``postgres`` user, set in the child itself (no ``runuser`` between us
        and the server, so a signal we send reaches the postmaster)."""
        return {"user": "postgres", "group": "postgres", "extra_groups": []} \
            if os.geteuid() == 0 else {}

    def prepare(self) -> None:
        data = self.workdir / "data"
        if data.exists():
            return
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.workdir, owner.pw_uid, owner.pw_gid)
        subprocess.run([binary("initdb"), "-D", str(data), "-U", "postgres",
                        "--auth=trust", "-E", "UTF8", "--no-sync"], check=True,
                       stdout=subprocess.DEVNULL, cwd=self.workdir, **self.owner())

    def command(self) -> list[str]:
        return [binary("postgres"), "-D", str(self.workdir / "data"),
                "-p", str(self.port), "-k", str(self.workdir), "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off", "-c", "max_connections=200"]

    def ready(self) -> bool:
        # the port opens while the server still answers "the database system is starting
        # up": ready is when it accepts a connection
        return port_open(self.port) and subprocess.run(
            [binary("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-q"], check=False).returncode == 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        subprocess.run([binary("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                        "-c", f'CREATE DATABASE "{name}"'], check=True, stdout=subprocess.DEVNULL)
        return self.url(name)
