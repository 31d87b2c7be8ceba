"""The agent reaches a broker over mutual TLS, as in production (``mqtts://``)."""
from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edge.agent import Agent
from edge.config import AgentConfig
from tests.edge.conftest import Subscriber
from tests.servers import free_port, port_open, wait_for


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(folder: Path, stem: str, subject: str, issuer_key=None, issuer_cert=None,
           ca: bool = False) -> tuple:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject))
               .issuer_name(issuer_cert.subject if issuer_cert else _name(subject))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    (folder / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / f"{stem}.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return key, cert


@pytest.fixture
def pki(tmp_path) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate of the agent."""
    folder = tmp_path / "pki"
    folder.mkdir()
    ca_key, ca_cert = _issue(folder, "ca", "etapalvelu test CA", ca=True)
    _issue(folder, "server", "broker", ca_key, ca_cert)
    _issue(folder, "agent", "porvoo-r1-agent", ca_key, ca_cert)
    return folder


def test_agent_connects_over_mutual_tls_and_refuses_a_broker_it_cannot_verify(
        broker_factory, pki, tmp_path):
    tls_broker = broker_factory("tls", plain_listener=False)
    tls_port, observer_port = tls_broker.port, free_port()
    tls_broker.extra_config = [
        f"listener {tls_port} 127.0.0.1", f"cafile {pki / 'ca.pem'}",
        f"certfile {pki / 'server.pem'}", f"keyfile {pki / 'server.key'}",
        "require_certificate true", "allow_anonymous true",
        f"listener {observer_port} 127.0.0.1",  # plain, for the observing subscriber
    ]
    tls_broker.start()
    wait_for(lambda: port_open(observer_port), 10, "the plain listener")
    observer = Subscriber(observer_port)
    agents = []
    try:
        def make(ca: Path) -> Agent:
            config = AgentConfig(
                site="porvoo", room="r1",
                broker={"url": f"mqtts://127.0.0.1:{tls_port}", "keepalive_s": 5,
                        "reconnect_min_s": 0.1, "reconnect_max_s": 0.5,
                        "tls": {"ca_file": ca, "cert_file": pki / "agent.pem",
                                "key_file": pki / "agent.key"}},
                outbox={"path": tmp_path / f"outbox-{len(agents)}.sqlite"},
                devices=[{"type": "doccam"}])
            agent = Agent(config).start()
            agents.append(agent)
            return agent

        good = make(pki / "ca.pem")
        assert good.wait_connected(10)
        observer.wait(lambda s: s.statuses() == ["online"], 5, "online over TLS")
        good.stop()
        stranger_ca = tmp_path / "other"
        stranger_ca.mkdir()
        _issue(stranger_ca, "ca", "someone else's CA", ca=True)
        doubtful = make(stranger_ca / "ca.pem")  # cannot verify the broker: must not connect
        assert not doubtful.wait_connected(2)
        assert doubtful.link.connects == 0
    finally:
        for agent in agents:
            agent.stop()
        observer.close()
