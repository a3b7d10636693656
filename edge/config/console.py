"""The console section: the staff console the hub serves over HTTPS (`edge console -c FILE`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, field_validator

from edge.config.base import FilePath, Issue, SecretFile, StrictModel

if TYPE_CHECKING:
    from edge.config.node import NodeConfig

HostName = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:\[\]*-]+$")]


class ConsoleConfig(StrictModel):
    """Where the console listens, its TLS certificate, its files and keys, and how long staff sessions last."""

    listen: str = "0.0.0.0"
    port: int = Field(default=8443, ge=1, le=65535)
    tls_cert_file: SecretFile
    tls_key_file: SecretFile
    # Host names staff type in the browser (Django's ALLOWED_HOSTS); the listen address is always allowed.
    allowed_hosts: tuple[HostName, ...] = ()
    # The site's own import mapping (plan names ...), applied over the chosen platform's (docs/members.md).
    import_mapping: FilePath | None = None
    # Staff accounts, sessions, audit log and login attempts (SQLite), compiled catalogues, the trash.
    state_dir: FilePath = Path("/var/lib/edge/console")
    # The member file shared with `edge members` (the one source of truth).
    members_file: FilePath
    snapshot_signing_key_file: SecretFile
    # Without it the console sends no door command (the command pages say so).
    command_signing_key_file: SecretFile | None = None
    # The collector's local store, read for the door log and the funders' report; None: neither page works.
    collector_store: FilePath | None = None
    # A staff session ends after this long without a request, and in any case this long after login.
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=7 * 24)
    # Failed logins per user name and address before that pair is locked out for lockout_minutes.
    login_failures: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # The door log shows nothing older than this (access records are kept at most 3 months).
    door_log_days: int = Field(default=90, ge=1, le=90)
    # The audit log keeps staff actions this long (5 years: a former member's identity data, docs/console.md);
    # login records (failed and successful logins, the audit log's login lines) at most 90 days.
    audit_log_days: int = Field(default=1826, ge=90, le=3653)
    login_record_days: int = Field(default=90, ge=1, le=90)

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str) -> str:
        import ipaddress

        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ValueError("must be an IP address (0.0.0.0 for every IPv4 interface, :: for IPv6)") from None
        return value

    def cross_check(self, root: NodeConfig) -> Iterable[Issue]:
        """The console signs snapshots with badge tokens: it needs the site's badge key."""
        if root.badge_key_file is None:
            yield Issue("badge_key_file", "required with a console section (snapshots carry keyed badge tokens)")
