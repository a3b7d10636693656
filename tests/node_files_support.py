"""Real files for node configs in tests: a broker CA and client certificate (made with `cryptography`), site keys,
and an example config copied with every file it names created for real, so `edge check-config` loads them."""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edge.config import load_config
from edge.config.base import iter_secrets
from edge.staff.keys import generate_signing_key

NOW = dt.datetime.now(dt.UTC)


def _certificate(
    name: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[str, ec.EllipticCurvePrivateKey], ip: str | None = None
) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer[0])])
    builder = x509.CertificateBuilder()
    if ip is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), False)
    certificate = (
        builder.subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=issuer[0] == name, path_length=None), critical=True)
        .sign(issuer[1], hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


@cache
def _ca() -> tuple[bytes, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    return _certificate("edge test CA", key, ("edge test CA", key)), key


def ca_pem() -> bytes:
    """A self-signed CA certificate, PEM."""
    return _ca()[0]


def client_pair(
    folder: Path, *, passphrase: bytes | None = None, name: str = "client", ip: str | None = None
) -> tuple[Path, Path]:
    """A certificate signed by the CA (for a client, or a server at `ip`) and its private key (encrypted with
    `passphrase` if given), as `name`.crt and `name`.key."""
    key = ec.generate_private_key(ec.SECP256R1())
    encryption: serialization.KeySerializationEncryption = serialization.NoEncryption()
    if passphrase:
        encryption = serialization.BestAvailableEncryption(passphrase)
    cert, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert.write_bytes(_certificate(name, key, ("edge test CA", _ca()[1]), ip))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    return cert, key_path


def materialise(example: Path, tmp_path: Path) -> Path:
    """Copy an example config with every file it names (secrets, trusted keys) created under `tmp_path`."""
    config = load_config(example, check_secrets=False)
    text = example.read_text()
    folder = tmp_path / "secrets"
    folder.mkdir(exist_ok=True)
    for key, secret in iter_secrets(config):
        local = folder / secret.name
        if key == "mqtt.tls.ca_file":
            local.write_bytes(ca_pem())
        elif key == "badge_key_file":
            local.write_text(secrets.token_hex(32) + "\n")
        else:
            local.write_bytes(b"x" * 32)
        text = text.replace(str(secret), str(local))
    if config.access is not None:
        for public in (*config.access.snapshot_keys, *config.access.command_keys):
            local = folder / public.name
            if not local.exists():
                generate_signing_key(local.with_suffix(".key"), local)
            text = text.replace(str(public), str(local))
    copy = tmp_path / example.name
    copy.write_text(text)
    return copy
