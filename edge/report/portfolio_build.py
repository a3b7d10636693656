"""Making the network's portfolio: read the central store for a period, compute the figures, render page and CSV."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from edge.config.network import NetworkReportConfig
from edge.report.central import CentralStore
from edge.report.period import Period
from edge.report.portfolio import Portfolio, compute
from edge.report.portfolio_page import PortfolioContext, render_csv, render_html

HOUR_MS = 3_600_000


def unique_series(period: Period) -> str | None:
    """`yearly` for a calendar year, `monthly` for a calendar month: the periods sites count unique members for."""
    first, last = period.first, period.last
    if (first.month, first.day, last.month, last.day) == (1, 1, 12, 31) and first.year == last.year:
        return "yearly"
    after = last + dt.timedelta(days=1)
    if first.day == 1 and after.day == 1 and (after.year * 12 + after.month) - (first.year * 12 + first.month) == 1:
        return "monthly"
    return None


@dataclass(frozen=True)
class PortfolioReport:
    """A made portfolio: its figures, the page and the CSV."""

    portfolio: Portfolio
    html: str
    csv: str


def make_portfolio(
    config: NetworkReportConfig, period: Period, *, now: dt.datetime, lang: str, store: CentralStore | None = None
) -> PortfolioReport:
    """Read the central store for the period and render the portfolio in `lang`."""
    central = store or CentralStore(config)
    now_ms = int(now.timestamp() * 1000)
    expected_end = now_ms - int(config.delay_h * HOUR_MS)
    unique = unique_series(period)
    readings = central.read(period.start_ms, period.end_ms, expected_end, unique)
    listed = [(site.id, site.title) for site in config.sites]
    portfolio = compute(
        readings,
        listed,
        period.start_ms,
        period.end_ms,
        expected_end,
        max_unknown_share=config.max_unknown_share,
        min_count=config.min_count,
    )
    ctx = PortfolioContext(
        name=config.name,
        first=period.first,
        last=period.last,
        timezone=config.timezone,
        source=central.describe(),
        generated=now.astimezone(config.tz),
        delay_h=config.delay_h,
        unique=unique,
        min_count=config.min_count,
    )
    return PortfolioReport(portfolio, render_html(portfolio, ctx, lang), render_csv(portfolio, ctx, lang))
