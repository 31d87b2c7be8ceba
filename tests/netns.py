"""A broker behind real links: Mosquitto in a network namespace of its own, reached from the
test's side over two veth pairs, one for the room and one for the cloud, so one link can be
taken down in the kernel (a pulled cable: packets vanish, no socket is told) while the other
holds. This kernel has no netem; loss and delay are ``tests.netfault``'s relay.

Root only (``ip netns``); ``available()`` says whether this machine allows it."""
from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass, field

from etapalvelu.localservers import Mosquitto, port_open


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def available() -> bool:
    """Whether network namespaces can be made here."""
    name = f"etp-probe-{uuid.uuid4().hex[:6]}"
    try:
        if _ip("netns", "add", name, check=False).returncode:
            return False
    except FileNotFoundError:
        return False
    _ip("netns", "del", name, check=False)
    return True


@dataclass
class Link:
    """One veth pair: ``host`` on the test's side, ``peer`` inside the namespace."""

    host: str
    host_ip: str
    peer_ip: str

    def down(self) -> None:
        """Pull the cable: the kernel drops whatever crosses, both ways."""
        _ip("link", "set", self.host, "down")

    def up(self) -> None:
        _ip("link", "set", self.host, "up")


@dataclass
class NamespacedBroker(Mosquitto):
    """Mosquitto listening on every address of its namespace."""

    namespace: str = ""
    ready_ip: str = ""

    def __post_init__(self) -> None:
        self.plain_listener = False
        self.extra_config = [f"listener {self.port}", "allow_anonymous true", *self.extra_config]

    def command(self) -> list[str]:
        return ["ip", "netns", "exec", self.namespace, *super().command()]

    def ready(self) -> bool:
        return port_open(self.port, host=self.ready_ip)


@dataclass
class BrokerHost:
    """The namespace, its two links (``room``, ``cloud``) and the broker in it."""

    name: str
    room: Link
    cloud: Link
    broker: NamespacedBroker | None = None
    _made: list[str] = field(default_factory=list)

    def url(self, link: Link) -> str:
        """The broker's address over ``link``."""
        return f"mqtt://{link.peer_ip}:{self.broker.port}"

    def remove(self) -> None:
        if self.broker is not None:
            self.broker.stop()
        for device in self._made:
            _ip("link", "del", device, check=False)
        _ip("netns", "del", self.name, check=False)


def broker_host(workdir) -> BrokerHost:
    """Make a namespace with its two links (in a ``10.213.x.0/29`` of its own) and start the
    broker in it."""
    tag = uuid.uuid4().hex[:5]
    name = f"etp-broker-{tag}"
    _ip("netns", "add", name)
    base = f"10.213.{int(tag, 16) % 250}"
    host = BrokerHost(name, Link(f"etr{tag}", f"{base}.1", f"{base}.2"),
                      Link(f"etc{tag}", f"{base}.5", f"{base}.6"))
    try:
        for link, peer in ((host.room, f"etr{tag}p"), (host.cloud, f"etc{tag}p")):
            _ip("link", "add", link.host, "type", "veth", "peer", "name", peer)
            host._made.append(link.host)
            _ip("link", "set", peer, "netns", name)
            _ip("addr", "add", f"{link.host_ip}/30", "dev", link.host)
            _ip("link", "set", link.host, "up")
            _ip("-n", name, "addr", "add", f"{link.peer_ip}/30", "dev", peer)
            _ip("-n", name, "link", "set", peer, "up")
        _ip("-n", name, "link", "set", "lo", "up")
        host.broker = NamespacedBroker(workdir, namespace=name, ready_ip=host.cloud.peer_ip)
        host.broker.start()
    except Exception:
        host.remove()
        raise
    return host
