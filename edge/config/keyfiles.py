"""The key files a node's config names, read as every daemon reads them: the public keys a door trusts
(`access.snapshot_keys`, `access.command_keys`) and the site badge key (`badge_key_file`).

Public keys are PEM (SubjectPublicKeyInfo, RFC 8410), checked by `edge.access.ed25519` without `cryptography`.
Private keys and key generation are the staff machine's (`edge.staff.keys`). Every problem is a ConfigError.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edge.access.ed25519 import KeyFormatError, PublicKey, WeakKeyError
from edge.access.signed import TrustedKeys
from edge.errors import ConfigError

MIN_BADGE_KEY_BYTES = 16


def read_badge_key(path: str | Path) -> bytes:
    """Read a badge key file as every node reads its `badge_key_file`: the text, stripped, 16 bytes at least.

    Nodes keep it 0640 for the daemons' group (deploy/), so this does not judge permissions. A short or empty
    file (a secret that was never filled in) would give tokens no snapshot contains: refused at start instead.
    """
    path = Path(path)
    key = read_key_file(path).strip()
    if len(key) < MIN_BADGE_KEY_BYTES:
        problem = f"a badge key is at least {MIN_BADGE_KEY_BYTES} bytes, this one has {len(key)}"
        raise ConfigError([f"{path}: {problem} (generate one with `edge members keygen`)"])
    return key


def load_public_key(path: str | Path) -> PublicKey:
    """Read a public Ed25519 key (PEM); raise ConfigError if unreadable, not Ed25519, or weak (small order)."""
    path = Path(path)
    try:
        return PublicKey.from_pem(read_key_file(path))
    except WeakKeyError as exc:
        raise ConfigError([f"{path}: refused: {exc}"]) from None
    except KeyFormatError as exc:
        raise ConfigError([f"{path}: not an Ed25519 PEM public key ({exc})"]) from None


def load_trusted_keys(paths: Sequence[str | Path], *, key_path: str | None = None) -> TrustedKeys:
    """Read the public keys a door trusts; ConfigError listing every file that cannot be used, each named
    `key_path[i]: file: problem` when `key_path` (the config key listing them) is given."""
    if not paths:
        raise ConfigError([f"{key_path or 'trusted keys'}: no trusted public key configured"])
    keys: list[PublicKey] = []
    issues: list[str] = []
    for position, path in enumerate(paths):
        try:
            keys.append(load_public_key(path))
        except ConfigError as exc:
            prefix = f"{key_path}[{position}]: " if key_path else ""
            issues.extend(prefix + issue for issue in exc.issues)
    if issues:
        raise ConfigError(issues)
    return TrustedKeys(keys)


def read_key_file(path: Path) -> bytes:
    """A key file's bytes; ConfigError naming the file when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
