"""The files a daemon reads when it starts, besides its config: a door's trusted public keys, the site badge key, the
broker's TLS files.

Each is read by one function here (through `edge.config.keyfiles`; for TLS, `edge.bus.session.tls_context`), which
the daemon calls and `edge check-config` runs through `node_file_issues`: the check can never call valid a file the
daemon then refuses. Every problem is a ConfigError issue that starts with the config key naming the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edge.access.signed import TrustedKeys
from edge.bus.session import tls_context
from edge.config import NodeConfig
from edge.config.access import AccessConfig
from edge.config.keyfiles import load_trusted_keys, read_badge_key
from edge.errors import ConfigError


@dataclass(frozen=True)
class AccessKeys:
    """The keys a door verifies with: snapshots, and (separately) commands; None when it takes no command."""

    snapshot: TrustedKeys
    command: TrustedKeys | None


def load_access_keys(access: AccessConfig) -> AccessKeys:
    """Read `access.snapshot_keys` and `access.command_keys`; ConfigError listing every unusable file of both."""
    issues: list[str] = []
    snapshot: TrustedKeys | None = None
    command: TrustedKeys | None = None
    try:
        snapshot = load_trusted_keys(access.snapshot_keys, key_path="access.snapshot_keys")
    except ConfigError as exc:
        issues += exc.issues
    if access.command_keys:
        try:
            command = load_trusted_keys(access.command_keys, key_path="access.command_keys")
        except ConfigError as exc:
            issues += exc.issues
    if issues or snapshot is None:
        raise ConfigError(issues)
    return AccessKeys(snapshot, command)


def load_node_badge_key(config: NodeConfig) -> bytes:
    """The node's badge key (`badge_key_file`), for the door and badge daemons; ConfigError naming the key."""
    if config.badge_key_file is None:
        raise ConfigError(["badge_key_file: required when the node has readers or doors"])
    try:
        return read_badge_key(config.badge_key_file)
    except ConfigError as exc:
        raise ConfigError([f"badge_key_file: {issue}" for issue in exc.issues]) from None


def node_file_issues(config: NodeConfig) -> list[str]:
    """Load every file a daemon of this node reads at start, as the daemon does; the problems found."""
    checks: list[Callable[[], object]] = []
    if (access := config.access) is not None:
        checks.append(lambda: load_access_keys(access))
    if config.badge_key_file is not None:
        checks.append(lambda: load_node_badge_key(config))
    if (tls := config.mqtt.tls) is not None:
        checks.append(lambda: tls_context(tls))
    issues: list[str] = []
    for check in checks:
        try:
            check()
        except ConfigError as exc:
            issues += exc.issues
    return issues
