"""The root of a node's configuration, and the cross-field checks that span sections."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from edge.config.access import AccessConfig
from edge.config.base import (
    FilePath,
    Issue,
    Name,
    PositiveSeconds,
    SecretFile,
    StrictModel,
    TimeZoneName,
    iter_claims,
    iter_sections,
)
from edge.config.collector import CollectorConfig
from edge.config.console import ConsoleConfig
from edge.config.desks import PresenceConfig
from edge.config.doors import DoorConfig
from edge.config.mqtt import MqttConfig
from edge.config.readers import ReaderConfig
from edge.config.report import ReportConfig


class OutboxConfig(StrictModel):
    """The durable outbox: how many unpublished events it keeps, how hard it syncs, how long it keeps sent ones."""

    max_events: int = Field(default=200_000, ge=100, le=10_000_000)
    synchronous: Literal["full", "normal"] = "full"
    # Acknowledged events kept for the collector's replay requests (a broker crash loses what it had not saved).
    keep_acked_s: float = Field(default=3600.0, ge=0, le=7 * 86400)
    keep_acked_events: int = Field(default=20_000, ge=0, le=1_000_000)


class NodeConfig(StrictModel):
    """Everything one node (a Pi) needs to know; read from one YAML file."""

    site: Name
    node: Name
    timezone: TimeZoneName = "Europe/Paris"
    mqtt: MqttConfig = MqttConfig()
    badge_key_file: SecretFile | None = None
    state_dir: FilePath = Path("/var/lib/edge")
    outbox: OutboxConfig = OutboxConfig()
    status_interval_s: PositiveSeconds = 60.0
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    readers: tuple[ReaderConfig, ...] = ()
    doors: tuple[DoorConfig, ...] = ()
    access: AccessConfig | None = None
    presence: PresenceConfig | None = None
    collector: CollectorConfig | None = None
    console: ConsoleConfig | None = None
    report: ReportConfig | None = None

    @property
    def tz(self) -> ZoneInfo:
        """The site's time zone."""
        return ZoneInfo(self.timezone)

    def cross_check(self, root: NodeConfig) -> Iterable[Issue]:
        """Exclusive resources (GPIO pins, serial devices) are used by one field only; readers need the badge key."""
        if (self.readers or self.doors) and self.badge_key_file is None:
            yield Issue("badge_key_file", "required when the node has readers or doors (badge tokens are keyed hashes)")
        owners: dict[tuple[str, object], str] = {}
        for path, resource, value in iter_claims(self):
            key = (resource, value)
            if key in owners:
                label = f"GPIO {value}" if resource == "GPIO" else f"{resource} {value}"
                yield Issue(path, f"{label} is already used by {owners[key]}")
            else:
                owners[key] = path


def cross_check(config: NodeConfig) -> list[Issue]:
    """Run every section's `cross_check(root)`, the root's included."""
    issues: list[Issue] = []
    for _path, section in iter_sections(config):
        check = getattr(section, "cross_check", None)
        if callable(check):
            issues.extend(check(config))
    return issues
