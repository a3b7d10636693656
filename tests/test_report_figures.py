"""The report's arithmetic on a small known dataset, against values computed by hand (arithmetic in comments).

The dataset and its table are in tests/report_support.py.
"""

from __future__ import annotations

import datetime as dt

import pytest

from edge.collector.members import VISIT_BINS, time_on_site
from edge.report.commute import Commute, ModeShare
from edge.report.figures import compute, people, site_samples
from edge.report.model import Passage, ReportData, Withheld, ZoneSample
from edge.report.period import Assumptions
from tests.report_support import (
    ASSUMPTIONS,
    HOUR_MS,
    HOURS,
    MON,
    NODES,
    PASSAGES,
    PERIOD,
    SAMPLES,
    TUE,
    TZ,
    WED,
    K,
    W,
    at,
    data,
)


@pytest.fixture(scope="module")
def figures():
    return compute(data(), PERIOD, HOURS, ASSUMPTIONS)


def test_zone_utilisation_counts_known_desk_time_within_opening_hours(figures) -> None:
    a, b = figures.zones
    # a, open instants Mon 9,10,11 Tue 9,10,11: occupied 2+1+1+0+2+0 = 6, known 2+2+1+2+2+1 = 10 -> 0.6
    assert (a.name, a.utilisation_open) == ("a", pytest.approx(6 / 10))
    # b: occupied 0+1+1+1+0+0 = 3, known 1+1+1+1+1+0 = 5 -> 0.6
    assert (b.name, b.utilisation_open) == ("b", pytest.approx(3 / 5))
    # site: occupied 2+2+2+1+2+0 = 9, known 3+3+2+3+3+1 = 15 -> 0.6
    assert figures.site.utilisation_open == pytest.approx(9 / 15)


def test_unknown_desk_time_is_its_own_share(figures) -> None:
    a, b = figures.zones
    # a: unknown 1 (Mon 11) + 1 (Tue 11) over 6 instants x 2 desks = 2/12; b: 1 (Tue 11) / 6; site: 3 / 18
    assert (a.unknown_share_open, b.unknown_share_open) == (pytest.approx(2 / 12), pytest.approx(1 / 6))
    assert figures.site.unknown_share_open == pytest.approx(3 / 18)


@pytest.mark.parametrize(
    ("index", "name", "desks", "peak", "peak_at", "average_open"),
    [
        (0, "a", 2, 2, at(MON, 9), 6 / 6),  # 2 at Mon 09 and Tue 10: the first; mean over 6 open instants
        (1, "b", 1, 1, at(MON, 10), 3 / 6),
        (2, "site", 3, 2, at(MON, 9), 9 / 6),  # zone peaks add to 3, but never at the same instant
    ],
)
def test_peak_and_average_concurrent_occupancy(figures, index, name, desks, peak, peak_at, average_open) -> None:
    z = [*figures.zones, figures.site][index]
    assert (z.name, z.desks, z.peak, z.peak_at_ms) == (name, desks, peak, peak_at)
    assert z.average_open == pytest.approx(average_open)


def test_heatmap_cells_average_each_weekday_and_hour(figures) -> None:
    cells = {(c.weekday, c.hour): (c.average_occupied, c.utilisation) for c in figures.heatmap}
    assert cells == {
        (0, 8): (1.0, pytest.approx(1 / 3)),  # Mon 08: 1 occupied of 3 known
        (0, 9): (2.0, pytest.approx(2 / 3)),
        (0, 10): (2.0, pytest.approx(2 / 3)),
        (0, 11): (2.0, 1.0),  # 2 occupied of 2 known (the third is unknown)
        (0, 12): (0.0, 0.0),
        (1, 9): (1.0, pytest.approx(1 / 3)),
        (1, 10): (2.0, pytest.approx(2 / 3)),
        (1, 11): (0.0, 0.0),  # 0 of 1 known
    }


@pytest.mark.parametrize(
    ("day", "peak", "average_open", "utilisation", "entries", "unique"),
    [
        # Mon: peak 2; open mean (2+2+2)/3; occupied 6 / known 3+3+2; entries 08:30 09:00 09:15 10:30; v0 v1 v2
        (MON, 2, 2.0, 6 / 8, 4, 3),
        # Tue: open mean (1+2+0)/3; occupied 3 / known 3+3+1; one entry (withheld); v0 v1 (v1 only left)
        (TUE, 2, 1.0, 3 / 7, W, 2),
        # Wed: no samples; one entry and one member: both withheld
        (WED, None, None, None, W, W),
    ],
)
def test_day_figures(figures, day, peak, average_open, utilisation, entries, unique) -> None:
    d = next(d for d in figures.days if d.day == day)
    assert (d.peak, d.entries, d.unique_members) == (peak, entries, unique)
    assert d.average_open == (None if average_open is None else pytest.approx(average_open))
    assert d.utilisation_open == (None if utilisation is None else pytest.approx(utilisation))


def test_members_per_week_and_member_days(figures) -> None:
    [week] = figures.weeks
    assert (week.label, week.first, week.last, week.unique_members) == ("2026-W48", MON, WED, 3)
    m = figures.members
    # member-days = 3 (Mon) + 2 (Tue) + 1 (Wed) = 6; per opening day 6 / 3 days
    assert (m.counted, m.member_days, m.unique_members, m.average_per_open_day) == (True, 6, 3, 2.0)
    # entries 4 + 1 + 1 = 6; the denied attempt on Monday
    assert (figures.entries, figures.denied, figures.open_days) == (6, 1, 3)


def test_visit_length_is_measured_time_on_site_per_member_day(figures) -> None:
    v = figures.visits
    # complete member-days: v0 Mon 4 h, v1 Mon 1 h + 1 h, v0 Tue 8 h, v2 Wed 0.5 h; incomplete: v2 Mon, v1 Tue
    assert (v.method, v.measured_days, v.incomplete_days) == ("measured", 4, 2)
    assert v.average_s == pytest.approx((14400 + 7200 + 28800 + 1800) / 4)  # 13050 s
    assert v.median_s == pytest.approx((7200 + 14400) / 2)  # middle two of 1800, 7200, 14400, 28800
    # bins are [lower, upper): exactly 2 h falls in 2-4 h, exactly 8 h in >= 8 h; ones are withheld
    assert v.histogram == [("< 1 h", W), ("1–2 h", 0), ("2–4 h", W), ("4–6 h", W), ("6–8 h", 0), ("≥ 8 h", W)]


def test_commuting_avoided_is_member_days_times_share_times_distance_times_factor_per_mode(figures) -> None:
    car, train = figures.commuting.lines
    # car: 6 member-days x 0.5 x 10 km x 2 x 1 round trip = 60 km; x 0.2 kg/km (the site's figure) = 12 kg
    assert (car.mode, car.member_days, car.km, car.kg_co2e) == ("car", 3.0, 60.0, pytest.approx(12.0))
    assert (car.factor.kg_per_km, car.factor.sourced) == (0.2, False)
    # regional train: 6 x 0.5 x 20 km x 2 = 120 km; x (0.00479 + 0.0229) kg/km (Impact CO2's TER) = 3.3228 kg
    assert (train.mode, train.member_days, train.km) == ("train_ter", 3.0, 120.0)
    assert train.kg_co2e == pytest.approx(120 * 0.02769)
    assert train.factor.sourced
    assert (figures.commuting.km, figures.commuting.kg_co2e) == (180.0, pytest.approx(12 + 3.3228))


def test_two_round_trips_a_day_double_the_distance_and_working_from_home_avoids_nothing() -> None:
    commute = Commute((ModeShare("car", 0.75, 10.0), ModeShare("home", 0.25, 0.0)), round_trips=2, configured=True)
    c = compute(data(), PERIOD, HOURS, Assumptions(commute, min_count=K)).commuting
    car, home = c.lines
    # car: 6 x 0.75 x 10 km x 2 x 2 round trips = 180 km, at Impact CO2's thermal car (0.11056 + 0.03170 kg/km)
    assert (car.km, car.kg_co2e) == (180.0, pytest.approx(180 * 0.14225341222954336))
    assert (home.member_days, home.km, home.kg_co2e) == (1.5, 0.0, 0.0)
    assert c.km == 180.0


def test_completeness_sums_nodes_and_counts_open_instants_with_data(figures) -> None:
    c = figures.completeness
    assert (c.expected, c.received, c.ratio) == (30, 28, pytest.approx(28 / 30))
    # open instants: 3 days x 09, 10, 11 = 9; with samples: Mon and Tue = 6
    assert c.occupancy_coverage_open == pytest.approx(6 / 9)


def test_without_exit_readers_visit_length_is_desk_time_per_member_day() -> None:
    entries_only = [p for p in PASSAGES if not p.exit]
    v = compute(data(entries_only), PERIOD, HOURS, ASSUMPTIONS).visits
    # site occupied over every sample: 1+2+2+2+0+1+2+0 = 10 instant-desks x 1 h = 36000 s;
    # member-days from entries: Mon {0,1,2} + Tue {0} + Wed {2} = 5
    assert (v.method, v.average_s, v.median_s, v.histogram) == ("estimated", pytest.approx(36000 / 5), None, [])


def test_without_pseudonyms_member_days_are_estimated_from_entries() -> None:
    f = compute(data(None), PERIOD, HOURS, ASSUMPTIONS)
    # granted entries Mon 4 + Tue 1 + Wed 1 = 6 "member-days"; no unique counts anywhere
    assert (f.members.counted, f.members.member_days, f.members.unique_members) == (False, 6, None)
    assert [d.unique_members for d in f.days] == [None, None, None]
    assert f.weeks[0].unique_members is None
    assert (f.visits.method, f.visits.average_s) == ("estimated", pytest.approx(36000 / 6))
    assert f.commuting.km == pytest.approx(180.0)  # the same 6 member-days as in the counted case


def test_small_member_days_withhold_the_figures_that_would_reveal_them() -> None:
    lone = [Passage(at(MON, 9), 7), Passage(at(MON, 17), 7, exit=True)]
    f = compute(data(lone), PERIOD, HOURS, Assumptions(min_count=5))
    w5 = Withheld(5)
    assert (f.members.member_days, f.members.unique_members, f.members.average_per_open_day) == (w5, w5, w5)
    assert (f.commuting.km, f.commuting.kg_co2e) == (None, None)
    assert all(line.km is None and line.kg_co2e is None for line in f.commuting.lines)
    assert (f.visits.average_s, f.visits.median_s, f.visits.histogram) == (w5, w5, [])


def test_samples_outside_the_period_are_ignored() -> None:
    before = ZoneSample(at(MON, 0) - HOUR_MS, "a", 2, 0, 0)  # Sunday 23:00, 2 desks occupied
    f = compute(
        ReportData([before, *SAMPLES], HOUR_MS, [], PASSAGES, NODES, "test", "site"), PERIOD, HOURS, ASSUMPTIONS
    )
    assert (f.zones[0].peak_at_ms, f.site.desks) == (at(MON, 9), 3)


@pytest.mark.parametrize(
    ("n", "threshold", "shown"),
    [(0, 5, 0), (1, 5, Withheld(5)), (4, 5, Withheld(5)), (5, 5, 5), (1, 1, 1), (12, 5, 12)],
)
def test_people_counts_below_the_threshold_are_withheld(n, threshold, shown) -> None:
    assert people(n, threshold) == shown


def test_site_samples_sum_zones_at_each_instant() -> None:
    sums = site_samples(SAMPLES[:4])  # Mon 08 and 09, zones a and b
    assert [(s.t_ms, s.occupied, s.vacant, s.unknown) for s in sums] == [(at(MON, 8), 1, 2, 0), (at(MON, 9), 2, 1, 0)]


def day_of(t_ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(t_ms / 1000, TZ).date()


@pytest.mark.parametrize(
    ("passages", "complete", "incomplete"),
    [
        ([], [], 0),
        ([(9, False), (17, True)], [(0, 8 * 3600.0)], 0),
        ([(9, False), (12, True), (13, False), (17, True)], [(0, 7 * 3600.0)], 0),  # lunch outside
        ([(9, False)], [], 1),  # left by the exit button
        ([(17, True)], [], 1),  # came in behind someone
        ([(9, False), (10, False), (17, True)], [], 1),  # two entries in a row: time inside unknown
        ([(9, True), (17, False)], [], 1),  # out in the morning, in at night: nothing pairs
        ([(17, True), (9, False)], [(0, 8 * 3600.0)], 0),  # listed out of order: paired by time
    ],
)
def test_time_on_site_pairs_entries_with_the_next_exit(passages, complete, incomplete) -> None:
    got = time_on_site([Passage(at(MON, h), 0, exit=e) for h, e in passages], day_of)
    assert got == (complete, incomplete)


def test_time_on_site_does_not_pair_across_midnight() -> None:
    got = time_on_site([Passage(at(MON, 20), 0), Passage(at(TUE, 1), 0, exit=True)], day_of)
    assert got == ([], 2)  # Monday: entry without exit; Tuesday: exit without entry


def test_visit_bins_cover_every_length() -> None:
    uppers = [upper for upper, _ in VISIT_BINS]
    assert uppers == sorted(uppers) and uppers[-1] == float("inf")
