"""`edge members keygen`: the site's keys, created once and never overwritten.

Two Ed25519 pairs (one signs member snapshots, one signs door commands, so that whoever may open doors
remotely is not automatically allowed to change who is a member) and the site badge key. Private keys are
created 0600 in a 0700 folder; their `.pub` halves go to every door, the private halves never do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge.access.signed import key_id
from edge.config.keyfiles import load_public_key
from edge.errors import ConfigError
from edge.staff.keys import generate_badge_key, generate_signing_key

SIGNING_PAIRS = ("snapshot-signing", "command-signing")
BADGE_KEY_NAME = "badge.key"


@dataclass(frozen=True)
class KeyOutcome:
    """What keygen did with one key: `created` or `kept` (it already existed), and its public key id if any."""

    name: str
    files: tuple[Path, ...]
    action: str
    key_id: str | None = None


def generate_site_keys(folder: Path) -> list[KeyOutcome]:
    """Create every missing key in `folder`; keep existing ones; refuse a pair with only one half present."""
    half_pairs = [
        f"{folder / name}.key and {folder / name}.pub: only one of them exists; restore the other or move both away"
        for name in SIGNING_PAIRS
        if (folder / f"{name}.key").exists() != (folder / f"{name}.pub").exists()
    ]
    if half_pairs:
        raise ConfigError(half_pairs)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError([f"{folder}: cannot create the key folder: {exc.strerror}"]) from None
    outcomes: list[KeyOutcome] = []
    for name in SIGNING_PAIRS:
        private, public = folder / f"{name}.key", folder / f"{name}.pub"
        if private.exists():
            outcomes.append(KeyOutcome(name, (private, public), "kept", key_id(load_public_key(public))))
        else:
            outcomes.append(KeyOutcome(name, (private, public), "created", generate_signing_key(private, public)))
    badge = folder / BADGE_KEY_NAME
    if badge.exists():
        outcomes.append(KeyOutcome("badge", (badge,), "kept"))
    else:
        generate_badge_key(badge)
        outcomes.append(KeyOutcome("badge", (badge,), "created"))
    return outcomes
