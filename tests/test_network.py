"""A network of five sites and one central store, all real processes: each site a Mosquitto and an `edge collector`
(one site's desks a real `edge presence --simulate`, the others' nodes a publisher of contract-valid events with
badge tokens and member ids), the central store a VictoriaMetrics behind vmauth over HTTPS.

The central store is stopped while the sites keep working (and one site's collector is killed with SIGKILL), then
restarted: afterwards it holds exactly what each site sent, once (VictoriaMetrics runs without deduplication here, so
a sample sent twice would be seen twice), with no hole in any grid series; and everything it ever received, read back
through its export API, is anonymous: only the allow-listed series, only site/zone/node labels, no token, member id,
event id, desk, door or reader name anywhere.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from edge.collector.egress import LEAVES_SITE
from edge.collector.schema import MEASUREMENTS
from tests.collector_support import kill_leftovers
from tests.fault_nodes import DeskNode
from tests.network_support import central_samples, holds, sent_by_site, store_meta
from tests.rig.fixtures import run_edge
from tests.rig.network import SimulatedNetwork
from tests.rig.waiting import wait_until

pytestmark = pytest.mark.slow

SITES = 5
STEP_S = 10


@pytest.fixture
def network(tmp_path: Path) -> Iterator[SimulatedNetwork]:
    net = SimulatedNetwork(tmp_path, SITES, settle_s=1.0, derive_step_s=STEP_S)
    try:
        yield net
    finally:
        net.stop()
        kill_leftovers()


@pytest.fixture
def desks(network: SimulatedNetwork) -> Iterator[DeskNode]:
    """The first site's desks: a real presence daemon with seat switches, on that site's broker."""
    site = network.sites[0]
    node = DeskNode(site.folder, site.broker.port, desks=6, node="desks-real", site=site.name)
    yield node
    node.close()


ALLOWED_NAMES = {f"{m}_{f}" for m in LEAVES_SITE for f in MEASUREMENTS[m].fields}
ALLOWED_LABELS = {"__name__", "site", "zone", "node"}


def test_five_sites_reach_the_central_store_once_through_its_outage_and_it_holds_nothing_personal(
    network: SimulatedNetwork, desks: DeskNode
) -> None:
    network.start()
    desks.start()
    desks.toggle_all()
    history_at = datetime.now(UTC) - timedelta(hours=1, minutes=2)
    network.history(history_at)
    network.activity()
    everyone = lambda: {dict(k[0])["site"] for k in central_samples(network.central)[0]} == set(network.names)  # noqa: E731
    wait_until(
        everyone,
        90,
        "every site's data at the centre",
        lambda: [s.collector.output()[-1500:] for s in network.sites if s.collector],
    )

    network.central.stop()
    before_outage = network.latest_rids()
    for round_ in range(4):
        network.activity()
        desks.toggle_all()
        if round_ == 1:  # a collector killed mid-outage restarts from its cursor
            victim = network.sites[2].collector
            assert victim is not None
            victim.kill9()
            victim.start()
    wait_until(
        lambda: all(n > before_outage[k] + 10 for k, n in network.latest_rids().items()),
        90,
        "every site to keep recording during the outage",
        network.latest_rids,
    )
    made_during_outage = network.latest_rids()
    network.central.start()
    wait_until(lambda: network.sent_up_to(made_during_outage), 120, "the outage's records sent", network.latest_rids)
    for site in network.sites:
        assert site.collector is not None and site.collector.stop() == 0
    desks.stop()

    counts, values = central_samples(network.central)
    for site in network.sites:
        sent = sent_by_site(site.store)
        held = {key: n for key, n in counts.items() if dict(key[0])["site"] == site.name}
        assert set(held) == set(sent), f"{site.name}: the central store holds exactly what it sent"
        assert all(holds(values[key], value) for key, value in sent.items()), site.name
        corrected = store_meta(site.store, "network_corrections")
        twice = sum(n - 1 for n in held.values())
        assert twice <= 7 * corrected, f"{site.name}: {twice} samples twice, {corrected} rows corrected after leaving"
        grid = sorted(t for (labels, t) in held if dict(labels)["__name__"] == "site_occupancy_total")
        assert grid == list(range(grid[0], grid[-1] + 1, STEP_S * 1000)), f"{site.name}: a hole in its grid"
        assert grid[-1] - grid[0] >= 3600_000, f"{site.name}: over an hour of its grid reached the central store"

    names = {dict(labels)["__name__"] for labels, _t in counts}
    assert names <= ALLOWED_NAMES, names - ALLOWED_NAMES
    assert {"site_hourly_open_occupied_s", "zone_occupancy_occupied", "data_completeness_missing"} <= names
    assert {key for labels, _t in counts for key, _v in labels} <= ALLOWED_LABELS
    label_values = {value for labels, _t in counts for _k, value in labels}
    personal = set().union(*(s.personal for s in network.sites))
    below_zone = set().union(*(s.names for s in network.sites)) | {f"d{i:02}" for i in range(6)}
    assert personal and not label_values & personal, "a token, member or event id reached the central store"
    assert not label_values & below_zone, "a desk, door or reader name reached the central store"
    assert not any(p in value for value in label_values for p in personal)
    assert sum(s.published for s in network.sites) > 0

    portfolio = network.folder / "portfolio"
    portfolio.mkdir()
    (portfolio / "reader.password").write_text(network.central.reader[1])
    sites = "".join(f"    - {{id: {name}, name: Tiers-lieu {i}}}\n" for i, name in enumerate(network.names, 1))
    (portfolio / "network.yaml").write_text(
        f"network:\n  url: {network.central.url}\n  password_file: reader.password\n  ca_file: {network.central.ca}\n"
        f"  delay_h: 0\n  sites:\n{sites}"
    )
    # from the history's day (its hour is complete) to today (the nodes' counters were read today): they differ
    # when the test runs in the first hour after midnight
    paris = ZoneInfo("Europe/Paris")
    first, last = history_at.astimezone(paris).date().isoformat(), datetime.now(paris).date().isoformat()
    done = run_edge("report", "--network", "-c", str(portfolio / "network.yaml"), "--from", first, "--to", last,
                    "-o", str(portfolio / "p.html"), EDGE_LANG="fr")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    rows = list(csv.DictReader(io.StringIO((portfolio / "p.csv").read_text())))
    by_site = {r["site_id"]: r for r in rows}
    assert set(by_site) == {*network.names, ""}
    # site-hourly figures cover complete hours: the real presence node's 6 desks count once their first hour ends
    assert by_site[network.names[0]]["desks"] in {"12", "18"}
    assert [by_site[name]["desks"] for name in network.names[1:]] == ["12"] * (SITES - 1)
    for name in network.names:  # every event the sites' nodes numbered reached the central store's figures
        assert by_site[name]["events_received"] == by_site[name]["events_expected"] != "0", by_site[name]
        assert by_site[name]["utilisation"], by_site[name]
