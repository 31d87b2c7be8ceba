"""The fleet's certificate authority: client and server certificates, and the revocation list.

EC P-256 keys (fast handshakes on the room terminals and MicroPython boards). Every function
takes ``now`` so that validity windows are decided by the caller.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "etapalvelu fleet CA"


@dataclass(frozen=True)
class Issued:
    """A private key and its certificate, both PEM."""

    key_pem: bytes
    cert_pem: bytes


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "etapalvelu"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def new_ca(now: datetime, days: int) -> Issued:
    """A self-signed CA allowed to sign certificates and CRLs only."""
    key = _key()
    cert = (x509.CertificateBuilder()
            .subject_name(_name(CA_NAME)).issuer_name(_name(CA_NAME))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return Issued(_key_pem(key), cert.public_bytes(serialization.Encoding.PEM))


def _alt_name(value: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(value))
    except ValueError:
        return x509.DNSName(value)


def issue(ca: Issued, common_name: str, now: datetime, days: int,
          server_names: list[str] | None = None) -> Issued:
    """A certificate for a client identity (CN = identity), or for the broker when
    ``server_names`` (DNS names or IP addresses) are given."""
    ca_key = serialization.load_pem_private_key(ca.key_pem, None)
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    key = _key()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server_names else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (x509.CertificateBuilder()
               .subject_name(_name(common_name)).issuer_name(ca_cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(minutes=5))
               .not_valid_after(now + timedelta(days))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   ca_cert.public_key()), critical=False))
    if server_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_alt_name(n) for n in server_names]), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return Issued(_key_pem(key), cert.public_bytes(serialization.Encoding.PEM))


def serial_of(cert_pem: bytes) -> int:
    """The serial number of a PEM certificate."""
    return x509.load_pem_x509_certificate(cert_pem).serial_number


def still_good(cert_pem: bytes, key_pem: bytes, ca_cert_pem: bytes, common_name: str,
               now: datetime, renew_before_days: int,
               server_names: list[str] | None = None) -> bool:
    """Whether a stored certificate can be kept: same CA, CN, key and names, not near expiry."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    key = serialization.load_pem_private_key(key_pem, None)
    if cert.issuer != ca_cert.subject or cert.subject != _name(common_name):
        return False
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        return False
    if server_names is not None:
        try:
            names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return False
        if set(names) != {_alt_name(n) for n in server_names}:
            return False
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):  # not signed by this CA: re-issue
        return False
    return cert.not_valid_after_utc - timedelta(days=renew_before_days) > now


def make_crl(ca: Issued, revoked: dict[int, datetime], now: datetime, days: int) -> bytes:
    """A CRL listing ``revoked`` serials (serial -> revocation time), valid for ``days``.

    The broker refuses every client once the CRL is past ``next_update``, so it must be
    re-signed in time: ``crl_due`` says when."""
    ca_key = serialization.load_pem_private_key(ca.key_pem, None)
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject)
               .last_update(now - timedelta(minutes=5)).next_update(now + timedelta(days)))
    for serial, when in sorted(revoked.items()):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def crl_due(crl_pem: bytes, ca_cert_pem: bytes, revoked: dict[int, datetime], now: datetime,
            renew_before_days: int) -> bool:
    """Whether the stored CRL must be re-signed (other serials, other CA, or near expiry)."""
    crl = x509.load_pem_x509_crl(crl_pem)
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    if not crl.is_signature_valid(ca_cert.public_key()):
        return True
    if {entry.serial_number for entry in crl} != set(revoked):
        return True
    return crl.next_update_utc - timedelta(days=renew_before_days) <= now
