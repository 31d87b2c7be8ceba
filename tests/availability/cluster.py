"""The availability parts as production configures them, run on loopback: HAProxy with the
config the ``haproxy`` role writes, an etcd and Patroni nodes with the config the
``postgres_ha`` role writes (each template rendered from the role itself with its defaults,
the hosts and ports this machine's), and the API replicas as their units start them."""
from __future__ import annotations

import csv
import io
import os
import pwd
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml

from tests.servers import PG_BIN, Server, binary, free_port, http_ok, port_open, wait_for

ROLES = Path(__file__).resolve().parents[2] / "ansible" / "roles"
EXECUTABLE = str(Path(sys.executable).with_name("etapalvelu"))


def render_role_template(role: str, template: str, **variables) -> str:
    """A role's template with the role's plain defaults (those Ansible does not compute)
    overridden by ``variables``."""
    defaults = yaml.safe_load((ROLES / role / "defaults/main.yml").read_text())
    plain = {k: v for k, v in defaults.items() if "{{" not in str(v) and "{%" not in str(v)}
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True)
    source = (ROLES / role / "templates" / template).read_text()
    return environment.from_string(source).render(**(plain | variables))


@dataclass
class HAProxy(Server):
    """HAProxy on loopback in front of ``servers`` ({name, address, port}), with its admin
    socket for the servers' states."""

    servers: list[dict] = field(default_factory=list)
    check_inter_ms: int = 300

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def socket_path(self) -> Path:
        return self.workdir / "admin.sock"

    def prepare(self) -> None:
        (self.workdir / "haproxy.cfg").write_text(render_role_template(
            "haproxy", "haproxy.cfg.j2", haproxy_bind=f"127.0.0.1:{self.port}",
            haproxy_stats_socket=str(self.socket_path), haproxy_user="",
            haproxy_log="stderr format raw local0 err", haproxy_api_servers=self.servers,
            haproxy_check_inter_ms=self.check_inter_ms, haproxy_maxconn=1000))

    def command(self) -> list[str]:
        return [binary("haproxy"), "-db", "-f", str(self.workdir / "haproxy.cfg")]

    def admin(self, command: str) -> str:
        """One command on the admin socket and its answer."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(self.socket_path))
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def backend(self) -> dict[str, dict]:
        """Each API server's row of ``show stat``: status (UP/DOWN), scur (open streams)."""
        rows = csv.DictReader(io.StringIO(self.admin("show stat").lstrip("# ")))
        return {row["svname"]: row for row in rows
                if row["pxname"] == "api_replicas" and row["svname"] not in ("BACKEND",)}

    def status(self, name: str) -> str:
        return self.backend()[name]["status"]


@dataclass
class Replica:
    """One ``etapalvelu cloud api`` process, as its unit starts it."""

    name: str
    env: dict
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Replica:
        log = (self.workdir / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(
            [EXECUTABLE, "cloud", "api", "--host", "127.0.0.1", "--port", str(self.port),
             "--name", self.name], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: self.process.poll() is not None or http_ok(f"{self.url}/readyz"), 60,
                 f"{self.name} ready")
        assert self.process.poll() is None, self.output()
        return self

    def output(self) -> str:
        return (self.workdir / f"{self.name}.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def cloud_env(database_url: str, broker_url: str, **more: str) -> dict:
    """A cloud process's environment: this checkout's PATH and PYTHONPATH, no other ETP_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETP_", "NOTIFY_SOCKET"))}
    return env | {"ETP_DATABASE_URL": database_url, "ETP_BROKER_URL": broker_url, **more}


# --- PostgreSQL under Patroni -------------------------------------------------------------------

def _as_postgres() -> dict:
    """Popen arguments running a child as ``postgres`` when we are root (initdb refuses root)."""
    return {"user": "postgres", "group": "postgres", "extra_groups": []} \
        if os.geteuid() == 0 else {}


def shared_folder() -> Path:
    """A folder the ``postgres`` user owns when we are root."""
    folder = Path(tempfile.mkdtemp(prefix="etp-ha-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    return folder


@dataclass
class Etcd(Server):
    """A one-member etcd: Patroni's consensus store (three members in production)."""

    peer_port: int = field(default_factory=free_port)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        peer = f"http://127.0.0.1:{self.peer_port}"
        return [binary("etcd"), "--name", "etcd1", "--data-dir", str(self.workdir / "data"),
                "--listen-client-urls", f"http://{self.endpoint}",
                "--advertise-client-urls", f"http://{self.endpoint}",
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", f"etcd1={peer}", "--log-level", "error"]

    def ready(self) -> bool:
        return http_ok(f"http://{self.endpoint}/health")


@dataclass
class PatroniNode(Server):
    """One PostgreSQL node managed by Patroni; ``port`` is PostgreSQL's, ``api_port`` Patroni's
    REST API (``/primary`` answers 200 on the leader)."""

    etcd: str = ""
    api_port: int = field(default_factory=free_port)

    def owner(self) -> dict:
        return _as_postgres()

    @property
    def name(self) -> str:
        return self.workdir.name

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def prepare(self) -> None:
        (self.workdir / "patroni.yml").write_text(render_role_template(
            "postgres_ha", "patroni.yml.j2", postgres_ha_node=self.name,
            postgres_ha_address="127.0.0.1", postgres_ha_port=self.port,
            postgres_ha_api_port=self.api_port, postgres_ha_etcd_hosts=[self.etcd],
            postgres_ha_data_dir=str(self.workdir / "data"),
            postgres_ha_bin_dir=str(PG_BIN), postgres_ha_socket_dir=str(self.workdir),
            postgres_ha_pgpass=str(self.workdir / "pgpass"),
            postgres_ha_client_network="127.0.0.1/32",
            postgres_ha_superuser_password="not-a-real-secret",
            postgres_ha_replication_password="not-a-real-secret",
            postgres_ha_rewind_password="not-a-real-secret",
            postgres_ha_parameters={"fsync": "off"}))
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            for path in (self.workdir, self.workdir / "patroni.yml"):
                os.chown(path, owner.pw_uid, owner.pw_gid)

    def command(self) -> list[str]:
        return [binary("patroni"), str(self.workdir / "patroni.yml")]

    def ready(self) -> bool:
        return port_open(self.api_port)

    def kill(self) -> None:
        """The host's loss: Patroni and its PostgreSQL both killed, nothing handed over."""
        postmaster = (self.workdir / "data" / "postmaster.pid")
        pid = int(postmaster.read_text().split()[0]) if postmaster.exists() else None
        self.process.kill()
        self.process.wait(10)
        self.process = None
        if pid:
            subprocess.run(["kill", "-9", str(pid)], check=False)


def multi_host_url(nodes: list[PatroniNode], database: str) -> str:
    """The URL every cloud process uses: every node, and only the read-write one accepted."""
    hosts = "&".join(f"host=127.0.0.1:{node.port}" for node in nodes)
    return (f"postgresql+psycopg://postgres@/{database}?{hosts}"
            "&target_session_attrs=read-write&connect_timeout=3")


def create_database(url_of_primary_port: int, name: str) -> None:
    """``CREATE DATABASE`` on the leader."""
    subprocess.run([str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(url_of_primary_port),
                    "-U", "postgres", "-c", f'CREATE DATABASE "{name}"'], check=True,
                   stdout=subprocess.DEVNULL)
