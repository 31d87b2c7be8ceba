"""Changes of an identity's credentials: revoke a lost device, rotate secrets and certificates.

Both only change the fleet folder's state; ``generate.build``/``write`` then produce the new
CRL and broker files, and ``fleet apply`` places them.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from provisioning import pki
from provisioning.generate import REVOKED, Revocations


def _forget(fleet_dir: Path, name: str, revocations: Revocations, now: datetime) -> None:
    """Revoke the identity's current certificate and drop its stored secret and key."""
    cert = Path(fleet_dir) / "pki" / "certs" / f"{name}.crt"
    if cert.is_file():
        revocations.serials[pki.serial_of(cert.read_bytes())] = (name, now)
    for relpath in (f"secrets/{name}.password", f"secrets/{name}.key", f"pki/certs/{name}.crt"):
        (Path(fleet_dir) / relpath).unlink(missing_ok=True)


def _save(fleet_dir: Path, revocations: Revocations) -> None:
    path = Path(fleet_dir) / REVOKED
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(revocations.render())


def revoke(fleet_dir: Path, name: str, now: datetime) -> None:
    """Revoke an identity: its certificate goes on the CRL, its password and ACL are removed,
    and it stays disabled until ``rotate`` issues it new credentials."""
    revocations = Revocations.load(fleet_dir)
    _forget(fleet_dir, name, revocations, now)
    revocations.disabled.add(name)
    _save(fleet_dir, revocations)


def rotate(fleet_dir: Path, names: list[str], now: datetime) -> None:
    """Issue new secrets and certificates for ``names`` at the next build; the old
    certificates are revoked so a copied key stops working once the CRL is placed."""
    revocations = Revocations.load(fleet_dir)
    for name in names:
        _forget(fleet_dir, name, revocations, now)
        revocations.disabled.discard(name)
    _save(fleet_dir, revocations)
