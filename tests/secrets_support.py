"""Shared by the tests of generated secrets (a site's, a network's): file digests and certificate checks."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec


def digests(folder: Path) -> dict[str, str]:
    """Every file of a folder (backups excluded) by path, with a digest of its content."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.endswith("~")
    }


def certificate(path: Path) -> x509.Certificate:
    """The PEM certificate in a file."""
    return x509.load_pem_x509_certificate(path.read_bytes())


def signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    """Whether an (EC) CA issued and signed the certificate."""
    key = ca.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    try:
        key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))  # type: ignore[arg-type]
    except Exception:
        return False
    return cert.issuer == ca.subject


def site_secret_files(users: list[str], *more: str) -> list[str]:
    """What the play generates in a site's secrets folder, by path, sorted: the site's own files, one MQTT password
    per user, and `more` (a network's files, for a site that joins one)."""
    return sorted(
        [
            "badge.key",
            "broker.crt",
            "broker.key",
            "ca.crt",
            "ca.key",
            "command-signing.key",
            "command-signing.pub",
            "console-manager.password",
            "console.crt",
            "console.key",
            "grafana-admin.password",
            "mqtt",
            *(f"mqtt/{user}.password" for user in users),
            "snapshot-signing.key",
            "snapshot-signing.pub",
            *more,
        ]
    )
