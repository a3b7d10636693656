"""The network report's file (`edge report --network -c FILE`): where the central store is, how to read it, and the
sites of the network. It is not a node's config: no site or node of its own, no broker.

    network:
      name: Réseau des tiers-lieux du Diois
      url: https://central.example.org:8427
      password_file: secrets/portfolio.password
      ca_file: secrets/central-ca.crt
      sites:
        - {id: la-ruche, name: "La Ruche (Crest)"}
        - {id: le-hangar, name: "Le Hangar (Die)"}
"""

from __future__ import annotations

import re
import urllib.parse
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator

from edge.config.base import Name, PositiveSeconds, SecretFile, StrictModel, TimeZoneName

_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class NetworkSite(StrictModel):
    """A site of the network: its id (the `site` of its collector) and the name funders know it by."""

    id: Name
    name: str = Field(default="", max_length=120)

    @property
    def title(self) -> str:
        """The name to show (the id when no name is given)."""
        return self.name or self.id


class NetworkReportConfig(StrictModel):
    """The central store as the portfolio report reads it, the network's sites and the report's rules."""

    name: str = Field(default="", max_length=120)
    url: str
    username: str = Field(default="portfolio", min_length=1, max_length=64)
    password_file: SecretFile
    ca_file: SecretFile | None = None
    timeout_s: PositiveSeconds = 60.0
    # Local days are cut in this time zone (the sites of one network share one).
    timezone: TimeZoneName = "Europe/Paris"
    # The sites, in the order the report lists them; sites the central store holds but this list lacks are added.
    sites: tuple[NetworkSite, ...] = ()
    # Counts of people from 1 to this minus one are withheld (as in each site's own report).
    min_count: int = Field(default=5, ge=1, le=100)
    # Hours that ended less than this before the report are not expected yet (sites send settled rows only).
    delay_h: float = Field(default=2.0, ge=0, le=48)
    # A site whose desks had no known state for more than this share of its opening hours is flagged.
    max_unknown_share: float = Field(default=0.1, ge=0, le=1)

    @field_validator("url")
    @classmethod
    def _https_url(cls, value: str) -> str:
        if not _URL.match(value):
            raise ValueError("must be an https:// URL such as https://central.example.org:8427")
        host = urllib.parse.urlsplit(value).hostname or ""
        if value.startswith("http://") and host not in _LOOPBACK:
            raise ValueError("must be https:// (the reader's password travels with every query)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _distinct_sites(self) -> NetworkReportConfig:
        ids = [site.id for site in self.sites]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"sites listed twice: {', '.join(repeated)}")
        return self

    @property
    def tz(self) -> ZoneInfo:
        """The time zone local days are cut in."""
        return ZoneInfo(self.timezone)


class NetworkFile(StrictModel):
    """The whole file: one `network` section."""

    network: NetworkReportConfig
