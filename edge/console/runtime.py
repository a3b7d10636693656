"""What the console's views work with besides the database: the member file, the keys, the broker link, the clock.

The server builds one `Runtime` from the config at start and installs it; tests install their own. Views get it
with `current()`. Keys are loaded once, at start: a console with an unreadable key refuses to start (exit 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from edge.clock import Clock, SystemClock
from edge.config import NodeConfig
from edge.config.console import ConsoleConfig
from edge.contract.topics import Topics
from edge.staff.memberstore import MemberStore

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from edge.staff.live import LiveLink


@dataclass
class Runtime:
    """The console's services: built once per process (or per test)."""

    config: NodeConfig
    members: MemberStore
    snapshot_key: Ed25519PrivateKey
    badge_key: bytes
    command_key: Ed25519PrivateKey | None = None
    link: LiveLink | None = None
    clock: Clock = field(default_factory=SystemClock)

    @property
    def console(self) -> ConsoleConfig:
        """The console section of the config."""
        assert self.config.console is not None
        return self.config.console

    @property
    def topics(self) -> Topics:
        """The site's MQTT topics."""
        return Topics(self.config.site, self.config.mqtt.prefix)

    @property
    def state_dir(self) -> Path:
        """The console's own folder (database, compiled catalogues, uploads waiting for confirmation)."""
        return self.console.state_dir

    @classmethod
    def from_config(cls, config: NodeConfig) -> Runtime:
        """Load the member file's store and the keys named in the config; ConfigError naming the key otherwise."""
        from edge.staff.keys import load_badge_key, load_signing_key

        console = config.console
        assert console is not None and config.badge_key_file is not None
        command_key = None
        if console.command_signing_key_file is not None:
            command_key = load_signing_key(console.command_signing_key_file)
        return cls(
            config=config,
            members=MemberStore(console.members_file),
            snapshot_key=load_signing_key(console.snapshot_signing_key_file),
            badge_key=load_badge_key(config.badge_key_file),
            command_key=command_key,
        )


_current: Runtime | None = None


def install(runtime: Runtime | None) -> None:
    """Make `runtime` the one the views use (None uninstalls it)."""
    global _current
    _current = runtime


def current() -> Runtime:
    """The installed runtime."""
    if _current is None:
        raise RuntimeError("the console runtime is not installed")
    return _current
