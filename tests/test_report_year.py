"""A report over periods whose access records have expired: the collector's member aggregates, checked against
the hand-computed case of test_collector_aggregates (four members over 30 March - 1 April 2026), read back a
hundred days later when none of the records is left.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from edge.collector.schema import Retention
from edge.report.build import make_report
from edge.report.period import Assumptions, Period
from edge.report.store_source import StoreSource
from edge.schedule import parse_schedule
from tests.aggregates_support import MEMBERS, MON, TOKENS, TZ, WED, Site, local

HOURS = parse_schedule("mon-fri 08:00-19:00")
K1 = Assumptions(min_count=1)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> StoreSource:
    """The store of a collector that ran from 1 April to 10 July, aggregating each day and purging after 90."""
    site = Site(tmp_path_factory.mktemp("year"), local(WED, "20:00"))
    site.aggregator.run(force=True)
    for _ in range(100):
        site.clock.advance(86400)
        site.aggregator.run()
        site.store.purge({Retention.PSEUDONYMOUS: int((site.clock.now().timestamp() - 90 * 86400) * 1000)})
    path = site.store.path
    site.store.close()
    store = StoreSource(path, directions={"front-out": "out"}, site="tiers-lieu")
    assert store.passages(0, 2**62) == []  # nothing left of the door records
    return store


def report(source: StoreSource, first: dt.date, last: dt.date, lang: str = "en"):  # type: ignore[no-untyped-def]
    return make_report(source, Period(first, last, TZ), HOURS, K1, lang=lang)


def test_days_whose_records_expired_are_read_from_the_daily_aggregates(source: StoreSource) -> None:
    made = report(source, MON, WED)
    f = made.figures
    assert [d.unique_members for d in f.days] == [3, 2, 2]
    assert f.members.member_days == 7
    # three days are not a calendar month: their distinct members needed the door records, which expired
    assert (f.members.unique_members, f.members.unique_how) == (None, "unavailable")
    assert "Unique members over the period are not available" in made.html


def test_visit_lengths_come_from_the_daily_aggregates(source: StoreSource) -> None:
    v = report(source, MON, WED).figures.visits
    # measured member-days: Monday alice 8 h + bruno 1 h 30, Tuesday alice 8 h + david 30 min, Wednesday alice 2 h
    assert (v.method, v.measured_days, v.incomplete_days) == ("measured", 5, 2)
    assert v.average_s == pytest.approx((8 * 3600 + 5400 + 8 * 3600 + 1800 + 7200) / 5)  # 4 h
    assert v.median_s is None  # a median needs every visit; the aggregates keep sums and bins
    assert [n for _, n in v.histogram] == [1, 1, 1, 0, 0, 2]


def test_a_calendar_month_has_its_exact_distinct_count(source: StoreSource) -> None:
    made = report(source, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    m = made.figures.members
    assert (m.unique_members, m.unique_how, m.member_days) == (4, "month", 5)
    [march] = made.figures.months
    # alice came 2 days, bruno, chloe, david 1 day each
    assert [n for _, n in march.frequency or []] == [3, 1, 0, 0]


def test_a_calendar_year_has_its_estimated_distinct_count(source: StoreSource) -> None:
    made = report(source, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    m = made.figures.members
    assert (m.unique_members, m.unique_how, m.unique_error, m.unique_since) == (4, "year", 0, dt.date(2026, 3, 1))
    assert m.member_days == 7
    # January and February predate the collector's member figures; days after 10 July have not happened yet
    assert m.missing_days == 59
    months = {mo.month.month: mo for mo in made.figures.months}
    assert (months[3].unique_members, months[4].unique_members, months[5].unique_members) == (4, 2, 0)
    assert months[1].unique_members is None and months[1].member_days == 0
    assert "≈ 4" in made.html and "It counts from 1 March 2026" in made.html


def test_the_year_in_french(source: StoreSource) -> None:
    html = report(source, dt.date(2026, 1, 1), dt.date(2026, 12, 31), lang="fr").html.replace("&#39;", "'")
    for text in ("Par mois", "mars 2026", "estimation ± 0", "Elle compte à partir du 1 mars 2026", "Venus 1 jour"):
        assert text in html, text


@pytest.mark.parametrize(("first", "last"), [(MON, WED), (dt.date(2026, 1, 1), dt.date(2026, 12, 31))])
def test_no_member_id_or_token_reaches_a_report_made_from_aggregates(
    source: StoreSource, first: dt.date, last: dt.date
) -> None:
    made = report(source, first, last)
    for text in (made.html, made.csv):
        for name, member in MEMBERS.items():
            assert member not in text and TOKENS[name] not in text
        assert not re.search(r"[0-9a-f]{32}", text)
