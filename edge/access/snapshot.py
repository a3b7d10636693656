"""Member snapshots as a door takes them: signature, site and version checked before the snapshot is indexed.

A snapshot carries badge tokens (HMAC of the UID with the site badge key), never UIDs or names. It is signed
with Ed25519 on the staff machine (`edge.staff.snapshot` builds and signs it): doors hold only the public key, so
a stolen door can check snapshots but cannot forge one (see docs/security.md). A door applies a snapshot only if
the signature verifies against a key it trusts, the site is its own, and the version is newer than the one it has.
"""

from __future__ import annotations

from typing import Any

from edge.access.index import SnapshotIndex
from edge.access.signed import TrustedKeys, open_signed
from edge.errors import PayloadError

SNAPSHOT_KIND = "edge-members-snapshot/1"
MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024


def verify_snapshot(raw: bytes, trusted: TrustedKeys, *, site: str, applied_version: int | None) -> dict[str, Any]:
    """Check signature, site and version of a signed snapshot and return its payload; raise PayloadError otherwise.

    Reasons beyond the signature's (see `open_signed`): wrong_site, not_newer (the same or an older version than
    the one applied: a retained copy seen again after a reconnect is `not_newer` and needs no action).
    """
    payload = open_signed(SNAPSHOT_KIND, raw, trusted, max_bytes=MAX_SNAPSHOT_BYTES)
    if payload.get("site") != site:
        raise PayloadError("wrong_site", f"snapshot for {str(payload.get('site'))[:60]!r}, this door is in {site!r}")
    version = payload.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise PayloadError("malformed", "version is not an integer")
    if applied_version is not None and version <= applied_version:
        raise PayloadError("not_newer", f"version {version}, applied {applied_version}")
    return payload


def apply_snapshot(raw: bytes, trusted: TrustedKeys, *, site: str, applied_version: int | None) -> SnapshotIndex:
    """Verify a signed snapshot and index it; the caller swaps the returned index in (one assignment)."""
    return SnapshotIndex.from_payload(verify_snapshot(raw, trusted, site=site, applied_version=applied_version))
