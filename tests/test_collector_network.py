"""The site's second output: settled, allowed derived rows reach the central store (a real VictoriaMetrics behind a
real vmauth over HTTPS) once each, through central outages and a collector killed with SIGKILL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from edge.collector.egress import EgressFilter
from edge.collector.lineprotocol import Point
from edge.collector.network import NetworkWriter, Settling, network_forwarder
from edge.collector.outqueue import NETWORK, ForwardQueue
from edge.collector.schema import (
    Completeness,
    DeskUsage,
    SiteUsage,
    StateCounts,
    completeness_point,
    desk_hourly_point,
    site_hourly_point,
    site_occupancy_point,
    zone_occupancy_point,
)
from edge.collector.store import DirtyMarks, Store
from edge.collector.writers import WriteFailed
from edge.config.collector import NetworkConfig
from edge.contract import DeskOccupancy, DeskState, Envelope, Event, Topics, encode
from edge.metrics import Counters
from tests.collector_support import CollectorProcess, Publisher
from tests.network_support import (
    central_samples,
    derived_rows,
    holds,
    line_samples,
    network_collector_yaml,
    sent_by_site,
    store_meta,
)
from tests.rig.central import Central
from tests.rig.servers import Mosquitto
from tests.rig.waiting import wait_until

pytestmark = pytest.mark.usefixtures("no_leftover_collectors")  # a collector a failed test left running

SITE = "la-ruche"
PARIS = ZoneInfo("Europe/Paris")
OTHER = "le-hangar"


class ManualClock:
    """Wall and monotonic time that move only when told."""

    def __init__(self) -> None:
        self.t = 1000.0

    def now(self) -> datetime:
        return datetime(2026, 12, 5, 10, tzinfo=UTC) + timedelta(seconds=self.t)

    def monotonic(self) -> float:
        return self.t


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    server = Central(tmp_path / "central", [SITE, OTHER])
    server.start()
    yield server
    server.kill()


# -- settling ----------------------------------------------------------------------------------------------------


def test_a_row_settles_once_it_has_existed_for_settle_s() -> None:
    clock, latest = ManualClock(), [5]
    settling = Settling(10.0, lambda: latest[0], clock.monotonic)
    assert settling.ceiling() == 0  # rows 1-5 were just seen: their age is unknown
    clock.t += 4
    latest[0] = 8
    assert settling.ceiling() == 0
    clock.t += 6  # rows up to 5 have now been there 10 s
    assert settling.ceiling() == 5
    clock.t += 4  # rows 6-8 appeared 10 s ago
    assert settling.ceiling() == 8


def test_with_no_settling_every_row_leaves_at_once() -> None:
    clock, latest = ManualClock(), [7]
    assert Settling(0.0, lambda: latest[0], clock.monotonic).ceiling() == 7


# -- the central store's access rules (vmauth) --------------------------------------------------------------------


def test_a_site_writes_only_under_its_own_site_label_whatever_its_lines_say(central: Central) -> None:
    assert central.write_as(SITE, "site_occupancy,site=le-hangar occupied=3i 1000000000000000000") == 204
    assert central.write_as(SITE, "zone_occupancy,zone=a occupied=1i 1000000000000000000") == 204
    sites = {series["metric"]["__name__"]: series["metric"]["site"] for series in central.export()}
    assert sites == {"site_occupancy_occupied": SITE, "zone_occupancy_occupied": SITE}


def test_a_wrong_password_writes_nothing(central: Central) -> None:
    assert central.write_as(SITE, "site_occupancy occupied=3i 1000000000000000000", password="guess") >= 400
    assert central.write_as(SITE, "site_occupancy occupied=3i 1000000000000000000", password="") >= 400
    assert central.export() == []


def test_a_site_cannot_read_and_the_reader_cannot_write(central: Central) -> None:
    with pytest.raises(OSError):
        central.get("/api/v1/export", {"match[]": '{__name__=~".+"}'}, user=(SITE, central.passwords[SITE]))
    status = central.write_as(SITE, "x v=1i 1", password=None)
    assert status == 204
    reader = central.reader
    central.passwords["portfolio"] = reader[1]
    assert central.write_as("portfolio", "y v=1i 1") >= 400


def test_the_writer_retries_a_refused_password_instead_of_dropping_rows(central: Central) -> None:
    writer = NetworkWriter(central.url, SITE, "guess", ca_file=str(central.ca), timeout_s=5)
    with pytest.raises(WriteFailed, match="HTTP 4"):  # vmauth answers 400 here: never a reason to quarantine
        writer.write("", "site_occupancy occupied=3i 1000000000000000000")
    writer.close()


def test_the_writer_reconnects_at_once_when_the_server_closed_its_idle_connection(central: Central) -> None:
    writer = NetworkWriter(central.url, SITE, central.passwords[SITE], ca_file=str(central.ca), timeout_s=5)
    writer.write("", "site_occupancy occupied=3i 1000000000000000000")
    central.vmauth.restart()  # the kept-alive connection is gone, as after vmauth's idle timeout
    writer.write("", "site_occupancy occupied=4i 1000000000001000000")  # no failure to retry, no backoff
    writer.close()
    assert len(central_samples(central)[0]) == 2


def test_the_writer_refuses_a_server_whose_certificate_it_cannot_verify(central: Central) -> None:
    writer = NetworkWriter(central.url, SITE, central.passwords[SITE], ca_file=None, timeout_s=5)
    with pytest.raises(WriteFailed, match=r"SSL|certificate"):
        writer.write("", "site_occupancy occupied=3i 1000000000000000000")
    writer.close()
    assert central.export() == []


# -- the network stream over a real store --------------------------------------------------------------------------


def settings(central: Central, folder: Path, settle_s: float = 0.0) -> NetworkConfig:
    return NetworkConfig(
        url=central.url,
        password_file=central.password_file(SITE, folder),
        ca_file=central.ca,
        settle_s=settle_s,
        batch_size=3,
    )


HOUR_MS = 3_600_000
OCCUPANCY_FIELDS = ("in_hours", "occupied", "total", "unknown", "utilisation", "vacant")
T0 = 1_796_000_000_000 - 1_796_000_000_000 % HOUR_MS


def derived_points(occupied: int = 3) -> list[Point]:
    return [
        zone_occupancy_point(SITE, "open", T0, StateCounts(occupied, 1, 0)),
        zone_occupancy_point(SITE, "booth", T0, StateCounts(1, 0, 0)),  # a one-desk zone: stays
        site_occupancy_point(SITE, T0, StateCounts(occupied + 1, 1, 0)),
        desk_hourly_point(SITE, "open", "d01", T0, DeskUsage(1800, 3600, 1800, 3600, 3600)),  # desk level: stays
        site_hourly_point(SITE, T0, SiteUsage(5, 3600, 9000, 18000, 9000, 18000, 18000)),
        completeness_point(SITE, "desks-1", T0, Completeness(expected=10, received=10, gaps=0)),
    ]


def forward_all(forwarder: object) -> None:
    while forwarder.forward_once():  # type: ignore[attr-defined]
        pass


def expected(points: list[Point]) -> dict[tuple[tuple[tuple[str, str], ...], int], float]:
    out = {}
    egress = EgressFilter()
    for p in points:
        if egress.leaves(p.line()):
            out.update(line_samples(p.line()))
    return out


def test_only_allowed_rows_leave_each_once_and_the_rest_is_counted_as_withheld(
    central: Central, tmp_path: Path
) -> None:
    store = Store(tmp_path / "collector.sqlite3")
    queue = ForwardQueue(store.path, store.writer)
    counters = Counters()
    points = derived_points()
    store.save_derived(points, DirtyMarks())
    forwarder = network_forwarder(
        settings(central, tmp_path), SITE, queue, clock=ManualClock(), counters=counters, tz=PARIS
    )
    forward_all(forwarder)
    counts, values = central_samples(central)
    assert set(counts) == set(expected(points))
    assert set(counts.values()) == {1}
    assert all(len(values[k]) == 1 and holds(values[k], v) for k, v in expected(points).items())
    assert counters.get("network_forwarded") == 4
    assert counters.get("network_withheld") == 2
    assert queue.backlog(NETWORK) == 0
    forwarder.writer.close()
    queue.close()
    store.close()


def test_a_row_waits_until_it_settled_and_a_row_corrected_before_that_leaves_once(
    central: Central, tmp_path: Path
) -> None:
    store = Store(tmp_path / "collector.sqlite3")
    queue = ForwardQueue(store.path, store.writer)
    clock = ManualClock()
    forwarder = network_forwarder(
        settings(central, tmp_path, settle_s=60), SITE, queue, clock=clock, counters=Counters(), tz=PARIS
    )
    store.save_derived(derived_points(occupied=3), DirtyMarks())
    assert forwarder.forward_once() == 0
    clock.t += 30
    store.save_derived(derived_points(occupied=4), DirtyMarks())  # late events corrected the instant
    assert forwarder.forward_once() == 0
    clock.t += 30
    forward_all(forwarder)  # rows 60 s old leave; those that were replaced have no version that old
    unchanged = [p for p in derived_points(occupied=3) if p in derived_points(occupied=4)]
    assert set(central_samples(central)[0]) == set(expected(unchanged))
    clock.t += 30
    forward_all(forwarder)
    counts, values = central_samples(central)
    assert set(counts.values()) == {1}
    assert set(counts) == set(expected(derived_points(occupied=4)))
    assert all(len(values[k]) == 1 and holds(values[k], v) for k, v in expected(derived_points(occupied=4)).items())
    assert store.network_corrections() == 0
    forwarder.writer.close()
    queue.close()
    store.close()


def test_a_row_corrected_after_it_left_is_sent_again_and_counted(central: Central, tmp_path: Path) -> None:
    store = Store(tmp_path / "collector.sqlite3")
    queue = ForwardQueue(store.path, store.writer)
    forwarder = network_forwarder(
        settings(central, tmp_path), SITE, queue, clock=ManualClock(), counters=Counters(), tz=PARIS
    )
    store.save_derived(derived_points(occupied=3), DirtyMarks())
    forward_all(forwarder)
    store.save_derived(derived_points(occupied=4), DirtyMarks())
    forward_all(forwarder)
    assert store.network_corrections() == 2  # the zone and the site occupancy of that instant changed
    counts, _values = central_samples(central)
    twice = {dict(labels)["__name__"] for (labels, _t), n in counts.items() if n == 2}
    assert set(counts.values()) == {1, 2}
    assert twice == {f"{m}_{f}" for m in ("zone_occupancy", "site_occupancy") for f in OCCUPANCY_FIELDS}
    forwarder.writer.close()
    queue.close()
    store.close()


def members_daily(day: datetime, members: int) -> Point:
    midnight = int(datetime(day.year, day.month, day.day, tzinfo=PARIS).timestamp() * 1000)
    fields: dict[str, int | float | bool | str] = {"members": members, "entries": members, "measured": 0, "visit_s": 0}
    return Point("members_daily", {"site": SITE}, fields, midnight * 1_000_000)


def test_a_days_member_count_leaves_once_the_day_is_over_and_settled_in_its_last_version(
    central: Central, tmp_path: Path
) -> None:
    store = Store(tmp_path / "collector.sqlite3")
    queue = ForwardQueue(store.path, store.writer)
    clock = ManualClock()  # 5 December 2026, 10:16:40 UTC
    counters = Counters()
    forwarder = network_forwarder(
        settings(central, tmp_path, settle_s=60), SITE, queue, clock=clock, counters=counters, tz=PARIS
    )
    today = clock.now()
    store.save_derived([members_daily(today, 3)], DirtyMarks())
    assert forwarder.forward_once() == 0  # not settled yet
    clock.t += 120  # settled, but the day goes on
    forward_all(forwarder)
    assert (queue.held(), central_samples(central)[0]) == (1, {})
    store.save_derived([members_daily(today, 7)], DirtyMarks())  # more members came: the held row is replaced
    for _ in range(3):  # the new version settles in its turn
        clock.t += 61
        forward_all(forwarder)
    assert queue.held() == 1 and store.network_corrections() == 0  # a held row was never sent: no correction
    clock.t = (datetime(2026, 12, 6, tzinfo=PARIS) - datetime(2026, 12, 5, 10, tzinfo=UTC)).total_seconds() + 30
    forward_all(forwarder)
    assert central_samples(central)[0] == {}  # midnight passed, but late records may still come for settle_s
    clock.t += 60
    forward_all(forwarder)
    counts, values = central_samples(central)
    members = {k: v for k, v in values.items() if dict(k[0])["__name__"] == "members_daily_members"}
    assert list(members.values()) == [{7.0}] and set(counts.values()) == {1}
    assert queue.held() == 0 and counters.get("network_forwarded") == 1
    forwarder.writer.close()
    queue.close()
    store.close()


# -- the real collector ----------------------------------------------------------------------------------------------


def desk_messages(topics: Topics, seq0: int, when: datetime, states: list[DeskState]) -> list[tuple[str, bytes]]:
    out = []
    for i, state in enumerate(states):
        body = DeskOccupancy(desk=f"d{i:02}", zone="open" if i < 4 else "quiet", state=state, since=when)
        event = Event(Envelope(id=f"desks-1-{seq0 + i}", ts=when, node="desks-1", seq=seq0 + i), body)
        out.append((body.topic(topics), encode(event)))
    return out


@pytest.mark.slow  # a central outage and a kill -9 under load
def test_a_collector_sends_everything_once_through_a_central_outage_and_a_kill_9(
    central: Central, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    topics = Topics(SITE)
    config = tmp_path / "collector.yaml"
    store = tmp_path / "state" / "collector.sqlite3"
    password = central.password_file(SITE, tmp_path)
    config.write_text(network_collector_yaml(SITE, mosquitto.port, tmp_path / "state", central, password))
    collector = CollectorProcess(config, mosquitto.port, site=SITE).start()
    publisher = Publisher(mosquitto.port)
    # An hour and more of history, so that a complete hour (site_hourly) is derived and sent.
    start = datetime.now(UTC) - timedelta(hours=1, minutes=5)
    publisher.send(desk_messages(topics, 1, start, [DeskState.OCCUPIED] * 3 + [DeskState.VACANT] * 4))
    hourly = ("__name__", "site_hourly_desks")
    wait_until(
        lambda: any(hourly in k[0] for k in central_samples(central)[0]),
        60,
        "hourly series at the centre",
        lambda: collector.output()[-3000:],
    )

    central.stop()
    before = derived_rows(store)[1]
    publisher.send(desk_messages(topics, 8, datetime.now(UTC), [DeskState.VACANT] * 3 + [DeskState.OCCUPIED] * 4))
    wait_until(
        lambda: derived_rows(store)[0] > before + 3, 60, "derived rows made while the centre is away"
    )  # rows made while it is away
    collector.kill9()
    collector.start()
    publisher.send(desk_messages(topics, 15, datetime.now(UTC), [DeskState.OCCUPIED] * 7))
    made_while_away = derived_rows(store)[0]
    central.start()
    wait_until(
        lambda: derived_rows(store)[1] >= made_while_away,
        90,
        "the rows made while away to be sent",
        lambda: (derived_rows(store), collector.output()[-3000:]),
    )
    assert collector.stop() == 0
    publisher.close()

    sent = sent_by_site(store)
    counts, values = central_samples(central)
    assert set(counts) == set(sent), "the central store holds exactly what the site sent, nothing less or more"
    corrected = store_meta(store, "network_corrections")
    twice = sum(n - 1 for n in counts.values())
    assert twice <= 7 * corrected, f"{twice} samples sent more than once, {corrected} rows corrected after they left"
    assert all(holds(values[key], value) for key, value in sent.items())
    assert {dict(labels)["site"] for labels, _t in counts} == {SITE}
