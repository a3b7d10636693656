"""The network's central store as the portfolio report reads it: VictoriaMetrics' query API through vmauth.

Every figure is computed by VictoriaMetrics from the raw samples of the period (`sum_over_time`,
`max_over_time`, `last_over_time` over a window that is exactly the period), so nothing is interpolated and a year
costs a handful of queries. An instant query at T with window W reads the samples in (T - W, T]: the period
[start, end) is T = end - 1 ms, W = end - start.

What it reads is what sites send (edge.collector.egress): `site_hourly` (desk-time per hour within opening hours),
`site_occupancy` (the peak), `data_completeness` (events numbered by each node versus events received), and the
member aggregates of a site's collector (`members_daily` per local day, `members_monthly`, `members_yearly`: a
period that is one calendar month or year has its unique members).
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from edge.config.base import read_secret
from edge.config.network import NetworkReportConfig
from edge.errors import ConfigError, SourceError

HOURLY_SUMS = ("open_s", "open_occupied_s", "open_known_s", "open_desk_s", "occupied_s", "known_s")
COMPLETENESS = ("expected", "received", "gaps")
MEMBER_SUMS = ("members", "entries", "measured", "visit_s")  # members_daily fields summed over the period's days
UNIQUE = ("members", "error", "final")  # members_monthly or members_yearly fields of the period's month or year
LOOKBACK_MS = 400 * 86_400_000  # how far back the last completeness figures and any desk figure are looked for


@dataclass
class SiteReadings:
    """What the central store holds about one site for one period (all zero when it holds nothing)."""

    hourly: dict[str, float] = field(default_factory=dict)  # sums of site_hourly fields over the period
    hours_with_data: int = 0  # site_hourly samples in the expected part of the period
    desks: int = 0  # the most desks the site counted in an hour of the period
    peak: int | None = None  # the most desks occupied at one instant
    peak_ms: int | None = None
    last_hour_ms: int | None = None  # the latest hour of the period the central store has a site_hourly sample of
    desk_site: bool = False  # the site sent desk figures (site_hourly) at some point in the lookback: it has desks
    completeness_start: dict[str, tuple[int, int, int]] = field(
        default_factory=dict
    )  # node -> expected, received, gaps
    completeness_end: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    members: dict[str, float] = field(default_factory=dict)  # sums of members_daily fields over the period's days
    unique: dict[str, float] = field(default_factory=dict)  # the period's month or year: members (error, final)


class CentralStore:
    """Reads the central store over HTTPS as the network's reader user."""

    def __init__(self, config: NetworkReportConfig) -> None:
        self.config = config
        try:
            password = read_secret(config.password_file).decode()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise ConfigError([f"network.password_file: cannot read {config.password_file}: {reason}"]) from None
        pair = f"{config.username}:{password}".encode()
        self._auth = "Basic " + base64.b64encode(pair).decode()
        self._context = (
            ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)
            if config.url.startswith("https://")
            else None
        )

    def describe(self) -> str:
        """The server (no credentials)."""
        parts = urllib.parse.urlsplit(self.config.url)
        return f"VictoriaMetrics {parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"

    def _get(self, path: str, params: Mapping[str, str]) -> Any:
        url = f"{self.config.url}{path}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(url, headers={"Authorization": self._auth})
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout_s, context=self._context) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode(errors="replace").strip()
            raise SourceError(f"{self.describe()} answered {exc.code}: {detail}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SourceError(f"cannot read {self.describe()}: {getattr(exc, 'reason', exc)}") from None
        if answer.get("status") != "success":
            raise SourceError(f"{self.describe()} refused a query: {answer.get('error', answer)}")
        return answer["data"]

    def sites(self) -> list[str]:
        """Every site the central store holds something of."""
        return sorted(str(s) for s in self._get("/api/v1/label/site/values", {}))

    def query(self, expr: str, at_ms: int) -> list[tuple[dict[str, str], float]]:
        """An instant query at `at_ms`: (labels, value) per series."""
        data = self._get("/api/v1/query", {"query": expr, "time": f"{at_ms / 1000:.3f}"})
        return [(dict(r["metric"]), float(r["value"][1])) for r in data.get("result", [])]

    def _per_site(self, expr: str, at_ms: int) -> dict[str, float]:
        return {labels["site"]: value for labels, value in self.query(expr, at_ms) if "site" in labels}

    def read(
        self, start_ms: int, end_ms: int, expected_end_ms: int, unique: str | None = None
    ) -> dict[str, SiteReadings]:
        """What the central store holds about each site for [start_ms, end_ms); hours are expected up to
        `expected_end_ms` (sites send settled rows only, so the last hours before now are not there yet).
        `unique` is `monthly` or `yearly` when the period is one calendar month or year (its unique members)."""
        out: dict[str, SiteReadings] = {}

        def site(name: str) -> SiteReadings:
            return out.setdefault(name, SiteReadings())

        at, window = end_ms - 1, f"{end_ms - start_ms}ms"
        for name in HOURLY_SUMS:
            for s, value in self._per_site(f"sum_over_time(site_hourly_{name}[{window}])", at).items():
                site(s).hourly[name] = value
        for s, value in self._per_site(f"max_over_time(site_hourly_desks[{window}])", at).items():
            site(s).desks = round(value)
        for s, value in self._per_site(f"tlast_over_time(site_hourly_desks[{window}])", at).items():
            site(s).last_hour_ms = round(value * 1000)
        if expected_end_ms > start_ms:
            covered = f"count_over_time(site_hourly_desks[{expected_end_ms - start_ms}ms])"
            for s, value in self._per_site(covered, expected_end_ms - 1).items():
                site(s).hours_with_data = round(value)
        lookback = f"{LOOKBACK_MS}ms"
        for s in self._per_site(f"last_over_time(site_hourly_desks[{lookback}])", at):
            site(s).desk_site = True
        for s, value in self._per_site(f"max_over_time(site_occupancy_occupied[{window}])", at).items():
            site(s).peak = round(value)
        for s, value in self._per_site(f"tmax_over_time(site_occupancy_occupied[{window}])", at).items():
            site(s).peak_ms = round(value * 1000)
        for when, attribute in ((start_ms - 1, "completeness_start"), (end_ms - 1, "completeness_end")):
            figures: dict[tuple[str, str], list[int]] = {}
            for index, name in enumerate(COMPLETENESS):
                expr = f"last_over_time(data_completeness_{name}[{LOOKBACK_MS}ms])"
                for labels, value in self.query(expr, when):
                    if "site" in labels and "node" in labels:
                        figures.setdefault((labels["site"], labels["node"]), [0, 0, 0])[index] = round(value)
            for (s, node), (expected, received, gaps) in figures.items():
                getattr(site(s), attribute)[node] = (expected, received, gaps)
        for name in MEMBER_SUMS:
            for s, value in self._per_site(f"sum_over_time(members_daily_{name}[{window}])", at).items():
                site(s).members[name] = value
        if unique is not None:
            for name in UNIQUE if unique == "yearly" else UNIQUE[:1]:
                expr = f"last_over_time(members_{unique}_{name}[{window}])"
                for s, value in self._per_site(expr, at).items():
                    site(s).unique[name] = value
        return out
