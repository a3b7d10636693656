"""The site's secret keys on the staff machine: the Ed25519 signing keys and the site badge key.

Private keys are PEM (PKCS#8, as `openssl genpkey -algorithm ed25519` writes them), created 0600 and refused
when other users can read them; their public halves (PEM, SubjectPublicKeyInfo) go to the doors, which read them
with `edge.config.keyfiles`. Nothing here overwrites a file.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from edge.access.signed import key_id
from edge.config.keyfiles import read_badge_key, read_key_file
from edge.errors import ConfigError
from edge.staff.signing import public_key_of

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

BADGE_KEY_BYTES = 32


def generate_signing_key(private_path: str | Path, public_path: str | Path) -> str:
    """Create a new Ed25519 key pair in two new files (private 0600); return the key id."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    public_pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    _write_new(Path(private_path), private_pem, 0o600)
    try:
        _write_new(Path(public_path), public_pem, 0o644)
    except BaseException:
        Path(private_path).unlink(missing_ok=True)
        raise
    return key_id(public_key_of(key))


def generate_badge_key(path: str | Path) -> None:
    """Create a new site badge key file (256 random bits, hex, 0600) for badge tokens."""
    _write_new(Path(path), secrets.token_hex(BADGE_KEY_BYTES).encode("ascii") + b"\n", 0o600)


def load_badge_key(path: str | Path) -> bytes:
    """Read the site badge key on the staff machine: as `read_badge_key`, and refused when other users can read it.

    The key is the file's text itself (64 hex characters from `generate_badge_key`), not its decoded bytes, so
    every node that reads the same file through its `badge_key_file` computes the same tokens.
    """
    path = Path(path)
    key = read_badge_key(path)
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError([f"{path}: badge key is accessible to other users (run: chmod 600 {path})"])
    return key


def load_signing_key(path: str | Path) -> Ed25519PrivateKey:
    """Read a private Ed25519 key; raise ConfigError if unreadable, readable by others, or not Ed25519."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    path = Path(path)
    data = read_key_file(path)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError([f"{path}: private key is accessible to other users (run: chmod 600 {path})"])
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError([f"{path}: not an unencrypted PEM private key ({exc})"]) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError([f"{path}: not an Ed25519 key (generate one with `edge members keygen`)"])
    return key


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise ConfigError([f"{path}: already exists; refusing to overwrite a key"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot create: {exc.strerror}"]) from None
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
