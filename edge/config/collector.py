"""The collector section: where to subscribe, where to store, where to forward, and how long to keep what."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator, model_validator

from edge.config.base import FilePath, Issue, Name, PositiveSeconds, SecretFile, StrictModel
from edge.config.schedule import ScheduleField
from edge.schedule import ALWAYS, Schedule

if TYPE_CHECKING:
    from edge.config.node import NodeConfig

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
Bucket = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\s\"']+$")]


class InfluxConfig(StrictModel):
    """The InfluxDB the collector forwards to (InfluxDB 1.8+, 2.x, 3.x through `/api/v2/write`)."""

    url: str
    api: Literal["v2", "v1"] = "v2"
    org: str = ""
    bucket: Bucket
    aggregate_bucket: Bucket | None = None
    token_file: SecretFile | None = None
    username: str | None = None
    password_file: SecretFile | None = None
    timeout_s: PositiveSeconds = 10.0

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not _URL.match(value):
            raise ValueError("must be an http:// or https:// URL such as http://influx.local:8086")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _credentials(self) -> InfluxConfig:
        if self.password_file is not None and self.username is None:
            raise ValueError("password_file needs a username")
        if self.api == "v1" and self.token_file is not None:
            raise ValueError("token_file is for api v2; InfluxDB 1.x uses username and password_file")
        return self


class NetworkConfig(StrictModel):
    """The network's central store this site sends its anonymous, derived series to (docs/architecture.md).

    The central store is VictoriaMetrics behind vmauth: `username` (default: the site's name) and the password in
    `password_file` are this site's own credentials there, which also fix the `site` label of what it writes.
    """

    url: str
    username: str | None = Field(default=None, min_length=1, max_length=64)
    password_file: SecretFile
    ca_file: SecretFile | None = None
    # A derived row leaves only once it has stayed unchanged this long: late events (a desk Pi's backlog after a
    # Wi-Fi cut) correct recent rows on the site, and the central store cannot overwrite a sample.
    settle_s: float = Field(default=3600.0, ge=0, le=7 * 86400)
    # An occupancy point covering fewer desks than this stays on the site: a zone of one desk is a desk.
    min_desks: int = Field(default=3, ge=1, le=1000)
    batch_size: int = Field(default=1000, ge=1, le=100_000)
    timeout_s: PositiveSeconds = 10.0
    backoff_max_s: PositiveSeconds = 60.0

    @field_validator("url")
    @classmethod
    def _https_url(cls, value: str) -> str:
        if not _URL.match(value):
            raise ValueError("must be an https:// URL such as https://central.example.org:8427")
        host = urllib.parse.urlsplit(value).hostname or ""
        if value.startswith("http://") and host not in _LOOPBACK:
            raise ValueError(
                "must be https:// (the site's password travels with every write); http:// is only for"
                " a central store on this host (127.0.0.1, localhost)"
            )
        return value.rstrip("/")


class CollectorConfig(StrictModel):
    """Store-and-forward from the site's MQTT broker to a local SQLite store and on to InfluxDB."""

    client_id: str | None = Field(default=None, min_length=1, max_length=64)
    shared_group: Name | None = None
    derive: bool = True
    store_path: FilePath | None = None
    influx: InfluxConfig | None = None
    network: NetworkConfig | None = None
    batch_size: int = Field(default=500, ge=1, le=100_000)
    ingest_batch: int = Field(default=250, ge=1, le=10_000)
    receive_maximum: int = Field(default=500, ge=1, le=65535)
    session_expiry_s: int = Field(default=30 * 86400, ge=60, le=0xFFFFFFFF)
    retention_days: int = Field(default=90, ge=1, le=3650)
    raw_retention_days: int | None = Field(default=400, ge=1, le=36500)
    health_retention_days: int | None = Field(default=30, ge=1, le=36500)
    derive_step_s: int = Field(default=60, ge=10, le=3600)
    assumed_stay_h: float = Field(default=4.0, gt=0, le=24)
    directions: dict[Name, Literal["in", "out"]] = Field(default_factory=dict)
    # Keep a keyed sketch of each open year to count its distinct members after access records expire (the key and
    # the sketch are destroyed when the year closes; docs/data-model.md). False: yearly distinct counts are not kept.
    yearly_sketch: bool = True
    # The site's opening hours (site time zone): utilisation "within opening hours" counts only these.
    opening_hours: ScheduleField = ALWAYS
    backoff_max_s: PositiveSeconds = 60.0
    # How long a hole in a node's seq numbers must last before the collector asks the node to replay it.
    replay_after_s: float = Field(default=15.0, ge=1, le=3600)
    purge_interval_s: PositiveSeconds = 3600.0
    # How far ahead of its receipt (collector clock) an event may be dated; a later date is replaced by the receipt
    # time everywhere it ages or plots (store, InfluxDB, derived series), so a node whose clock runs ahead cannot
    # make a record outlive its retention.
    max_clock_ahead_s: int = Field(default=300, ge=1, le=7 * 86400)

    @field_validator("opening_hours")
    @classmethod
    def _no_window_is_always(cls, value: Schedule) -> Schedule:
        # Before schedules had one syntax an empty list meant "no opening hours": every instant counts as open.
        return value if value.windows else Schedule(ALWAYS.windows, value.closed)

    @field_validator("derive_step_s")
    @classmethod
    def _divides_an_hour(cls, value: int) -> int:
        if 3600 % value:
            raise ValueError("must divide an hour (10, 15, 20, 30, 60, ... 3600) so grid points align on hours")
        return value

    def cross_check(self, root: NodeConfig) -> Iterable[Issue]:
        """Raw events with a pseudonym must not outlive the anonymous raw events they are part of; the network
        receives derived series only, so a collector that does not derive has nothing to send it."""
        if self.network is not None and not self.derive:
            yield Issue("collector.network", "needs derive: true (only derived series leave the site)")
        if self.raw_retention_days is not None and self.raw_retention_days < self.retention_days:
            yield Issue(
                "collector.raw_retention_days",
                f"must be at least retention_days ({self.retention_days}): it applies to anonymous events",
            )
