"""Member aggregates: a small known case computed by hand, figures that outlive the access records, a year that
closes (its key and its sketch destroyed), and nothing kept that names or points at a member.

The dataset is in tests/aggregates_support.py.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import stat
from pathlib import Path

import pytest

from edge.collector.ingest import classify
from edge.collector.members import DayMembers, MonthMembers
from edge.collector.schema import MEASUREMENTS, Retention
from edge.collector.sketch import REGISTERS, Sketch, keyed_hash, register_of
from edge.contract import DoorAccess, Reason
from tests.aggregates_support import KEY, MEMBERS, MON, TOKENS, TUE, WED, Site, local
from tests.collector_support import TOPICS, event, wire


def late_entry() -> DoorAccess:
    """A fifth member's entry, arriving late."""
    token, member = "e" * 32, "m-late"
    return DoorAccess(
        door="front", reader="front-in", token=token, member=member, granted=True, reason=Reason.GRANTED, latency_ms=1
    )


@pytest.fixture
def site(tmp_path: Path) -> Site:
    s = Site(tmp_path, local(WED, "20:00"))
    s.aggregator.run(force=True)
    yield s
    s.store.close()


def test_each_day_counts_its_members_entries_and_measured_visits(site: Site) -> None:
    days = site.days()
    # Monday: alice, bruno, chloe; 3 entries; alice 8 h and bruno 1 h 30 measured, chloe never left (incomplete)
    assert days[MON] == DayMembers(MON, 3, 3, 2, 1, 8 * 3600 + 5400, (0, 1, 0, 0, 0, 1))
    # Tuesday: alice (3 h + 5 h = 8 h) and david (30 min); alice came in twice: 3 entries
    assert days[TUE] == DayMembers(TUE, 2, 3, 2, 0, 8 * 3600 + 1800, (1, 0, 0, 0, 0, 1))
    # Wednesday: alice 2 h; bruno only left (incomplete) but was there: 2 members, 1 entry
    assert days[WED] == DayMembers(WED, 2, 1, 1, 1, 7200, (0, 0, 1, 0, 0, 0))


def test_each_month_counts_distinct_members_and_how_often_they_came(site: Site) -> None:
    months = site.months()
    # March: alice came 2 days, bruno, chloe and david 1 day each -> 4 members: three on 1 day, one on 2-4 days
    assert months["2026-03"] == MonthMembers(dt.date(2026, 3, 1), 4, (3, 1, 0, 0), 31)
    # April so far (1 day): alice and bruno
    assert months["2026-04"] == MonthMembers(dt.date(2026, 4, 1), 2, (2, 0, 0, 0), 1)


def test_the_year_estimates_its_distinct_members_from_the_keyed_sketch(site: Site) -> None:
    year = site.store.member_year(2026)
    assert year is not None
    # 4 members hashed under the year's key land in 4 different registers (checked here), so linear counting
    # gives 512 x ln(512 / 508) = 4.03 -> 4
    assert len({register_of(keyed_hash(KEY, m))[0] for m in MEMBERS.values()}) == 4
    # it counts from the first day of the first month with a door record
    assert (year.members, year.first_day, year.last_day, year.final) == (4, dt.date(2026, 3, 1), WED, False)
    expected = Sketch()
    for member in MEMBERS.values():
        expected.add(keyed_hash(KEY, member))
    assert year.registers == bytes(expected.registers)


def test_the_figures_are_forwarded_as_derived_series_that_conform(site: Site) -> None:
    with sqlite3.connect(site.store.path) as db:
        lines = [r[0] for r in db.execute("SELECT line FROM derived WHERE series LIKE 'members_%'")]
    by_kind = {name: [line for line in lines if line.startswith(name + ",")] for name in MEASUREMENTS}
    assert len(by_kind["members_daily"]) == 31 + 1  # every day of March (records go back to January) and 1 April
    midnight_ns = int(local(MON, "00:00").timestamp()) * 10**9
    assert (
        "members_daily,site=tiers-lieu entries=3i,incomplete=1i,measured=2i,members=3i,visit_s=34200i,visits_0_1h=0i,"
        f"visits_1_2h=1i,visits_2_4h=0i,visits_4_6h=0i,visits_6_8h=0i,visits_8h_plus=1i {midnight_ns}"
    ) in lines
    march_ns = int(local(dt.date(2026, 3, 1), "00:00").timestamp()) * 10**9
    assert (
        "members_monthly,site=tiers-lieu came_1=3i,came_10_plus=0i,came_2_4=1i,came_5_9=0i,days=31i,member_days=5i,"
        f"members=4i {march_ns}"
    ) in lines
    january_ns = int(local(dt.date(2026, 1, 1), "00:00").timestamp()) * 10**9
    yearly = "members_yearly,site=tiers-lieu days=32i,error=0i,final=0i,member_days=7i,members=4i,since_day=59i"
    assert f"{yearly} {january_ns}" in lines  # counted from 1 March, day 59 of the year


def test_the_figures_outlive_the_access_records(tmp_path: Path) -> None:
    site = Site(tmp_path, local(WED, "20:00"))
    site.aggregator.run(force=True)
    before = (site.days(), site.months()["2026-03"], site.store.member_year(2026))
    for _ in range(100):  # a hundred days of a running collector: aggregates each day, then purges
        site.clock.advance(86400)
        site.aggregator.run()
        site.store.purge({Retention.PSEUDONYMOUS: int((site.clock.now().timestamp() - 90 * 86400) * 1000)})
    assert site.store.count("events") == 0 and site.store.door_passages(0, 2**62) == []  # 10 July: all gone
    after = (site.days(), site.months()["2026-03"], site.store.member_year(2026))
    assert (after[0], after[1], after[2].members) == (before[0], before[1], 4)  # type: ignore[union-attr]
    # quiet days were counted as they passed: April has its 30 days (alice and bruno on the 1st only)
    assert site.months()["2026-04"] == MonthMembers(dt.date(2026, 4, 1), 2, (2, 0, 0, 0), 30)
    assert site.store.member_days_between(dt.date(2026, 7, 9), dt.date(2026, 7, 9))[0].members == 0
    site.store.close()


def test_a_day_whose_records_are_partly_gone_is_never_recomputed(tmp_path: Path) -> None:
    site = Site(tmp_path, local(WED, "20:00"))
    site.aggregator.run(force=True)
    site.clock.advance(100 * 86400)
    late = DoorAccess(
        door="front",
        reader="front-in",
        token="e" * 32,
        member="m-late",
        granted=True,
        reason=Reason.GRANTED,
        latency_ms=1,
    )
    site.store.commit([classify(TOPICS, *wire(event(late, 99, local(MON, "15:00"), node="door")))], 0)
    site.aggregator.run(force=True)
    assert site.days()[MON].members == 3  # not 1: the day's other records may be gone, so its figures stay
    site.store.close()


def test_a_late_record_of_a_day_still_held_updates_it(site: Site) -> None:
    late = DoorAccess(
        door="front",
        reader="front-in",
        token="e" * 32,
        member="m-late",
        granted=True,
        reason=Reason.GRANTED,
        latency_ms=1,
    )
    site.store.commit([classify(TOPICS, *wire(event(late, 99, local(TUE, "15:00"), node="door")))], 0)
    assert site.aggregator.due() is False  # at most one pass every 15 minutes
    site.clock.advance(901)
    assert site.aggregator.due() is True
    site.aggregator.run()
    assert site.days()[TUE].members == 3
    assert site.months()["2026-03"].members == 5
    year = site.store.member_year(2026)
    assert year is not None and year.members == 5


def test_a_closed_year_keeps_its_count_and_loses_its_key_and_its_sketch(site: Site) -> None:
    year = site.store.member_year(2026)
    assert year is not None and year.registers is not None
    registers = year.registers
    site.clock.set(local(dt.date(2027, 1, 7), "23:00"))
    site.aggregator.run()  # not yet: a week of grace for late records of December
    still_open = site.store.member_year(2026)
    assert still_open is not None and still_open.final is False and site.keys.path(2026).exists()
    site.clock.set(local(dt.date(2027, 1, 8), "00:30"))
    site.aggregator.run()
    closed = site.store.member_year(2026)
    assert closed is not None
    assert (closed.members, closed.final, closed.registers) == (4, True, None)
    assert not site.keys.path(2026).exists()
    for path in (site.store.path, site.store.path.with_name(site.store.path.name + "-wal")):
        if path.exists():
            assert registers not in path.read_bytes(), f"{path.name} still holds the sketch"


def test_the_key_is_private_to_the_collector_and_kept_out_of_the_store(tmp_path: Path) -> None:
    site = Site(tmp_path, local(WED, "20:00"))
    site.keys.path(2026).unlink()  # a year that starts without a key gets a random one
    site.aggregator.run(force=True)
    key = site.keys.get(2026)
    assert key is not None and key != KEY and len(key) == 32
    assert stat.S_IMODE(site.keys.path(2026).stat().st_mode) == 0o600
    assert stat.S_IMODE(site.keys.folder.stat().st_mode) == 0o700
    site.store.checkpoint()
    assert key not in site.store.path.read_bytes()
    site.store.close()


def test_nothing_kept_names_or_points_at_a_member(site: Site) -> None:
    with sqlite3.connect(site.store.path) as db:
        kept = [
            *db.execute("SELECT * FROM member_days"),
            *db.execute("SELECT * FROM member_months"),
            *db.execute("SELECT year, members, error, first_day, last_day, final, interrupted FROM member_years"),
            *db.execute("SELECT series, line FROM derived"),
        ]
    text = repr(kept)
    for name, member in MEMBERS.items():
        assert member not in text and name not in text and TOKENS[name] not in text
    # the sketch's registers hold small ranks only: no byte pattern of an id or token
    year = site.store.member_year(2026)
    assert year is not None and year.registers is not None
    assert len(year.registers) == REGISTERS and max(year.registers) <= 56
    for member in MEMBERS.values():
        assert member.encode() not in year.registers


def test_without_the_key_the_registers_do_not_depend_on_who_came(tmp_path: Path) -> None:
    # The same four members under two keys fill different registers: whoever holds a member id but not the
    # key cannot tell where that member would land, so cannot test whether they came.
    one, two = Sketch(), Sketch()
    for member in MEMBERS.values():
        one.add(keyed_hash(KEY, member))
        two.add(keyed_hash(bytes(32), member))
    assert one.registers != two.registers
    assert one.estimate().value == two.estimate().value == 4


def test_a_site_may_keep_no_yearly_sketch_at_all(tmp_path: Path) -> None:
    site = Site(tmp_path, local(WED, "20:00"))
    site.keys.path(2026).unlink()
    site.aggregator.yearly_sketch = False
    site.aggregator.run(force=True)
    assert site.store.member_year(2026) is None and site.keys.get(2026) is None
    assert site.months()["2026-03"].members == 4  # days and months are kept as ever
    site.store.close()
