"""The edge_collector role on a real InfluxDB 1.6.7: it creates the database with two retention policies (raw
points 90 days, the default; derived series 5 years), keeps them, changes them when the inventory does, and
adds the long-term policy to a database made by an earlier version."""

from __future__ import annotations

import json
import socket
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.deploy_support import PlaybookRun, run_playbook
from tests.rig.servers import InfluxDB16

pytestmark = pytest.mark.slow

PLAYBOOK = """\
- name: Prepare InfluxDB for the collector
  hosts: edge_collectors
  roles:
    - edge_collector
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def influxdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real InfluxDB 1.6.7 for the module: the engine the deployed collector writes to; its URL."""
    server = InfluxDB16(tmp_path_factory.mktemp("influxdb"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop(20)


def policies(url: str, database: str) -> list[list[object]]:
    query = urllib.parse.urlencode({"q": f'SHOW RETENTION POLICIES ON "{database}"'})
    with urllib.request.urlopen(f"{url}/query?{query}", timeout=10) as response:
        result = json.load(response)["results"][0]
    return list(result["series"][0]["values"])


class Site:
    def __init__(self, tmp: Path, url: str) -> None:
        self.tmp, self.url = tmp, url
        (tmp / "collector.yml").write_text(PLAYBOOK)

    def play(self, retention_days: int, longterm_days: int = 1826, bucket: str = "edge") -> PlaybookRun:
        hub = {
            "ansible_connection": "local",
            "ansible_become": False,
            "ansible_python_interpreter": sys.executable,
            "edge_collector_influxdb_api": "v1",
            "edge_collector_influxdb_url": self.url,
            "edge_collector_bucket": bucket,
            "edge_collector_retention_days": retention_days,
            "edge_collector_longterm_days": longterm_days,
        }
        inventory = self.tmp / "inventory.yml"
        inventory.write_text(yaml.safe_dump({"all": {"children": {"edge_collectors": {"hosts": {"hub": hub}}}}}))
        return run_playbook(self.tmp, inventory, str(self.tmp / "collector.yml"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, influxdb: str) -> Site:
    return Site(tmp_path_factory.mktemp("collector"), influxdb)


@pytest.fixture(scope="module")
def created(site: Site) -> PlaybookRun:
    return site.play(90)


def test_role_creates_the_database_with_raw_points_for_90_days_and_derived_series_for_5_years(
    site: Site, created: PlaybookRun
) -> None:
    assert created.returncode == 0, created.output[-4000:]
    assert created.recap("hub")["changed"] == 2
    assert [(row[0], row[1], row[-1]) for row in policies(site.url, "edge")] == [
        ("raw", "2160h0m0s", True),  # the default policy: raw points, access records among them
        ("longterm", "43824h0m0s", False),  # 1826 days: the derived anonymous series
    ]


def test_second_run_changes_nothing(site: Site, created: PlaybookRun) -> None:
    again = site.play(90)
    assert again.returncode == 0, again.output[-4000:]
    assert again.recap("hub")["changed"] == 0, again.changed_tasks()


def test_a_new_retention_is_applied_to_the_existing_database(site: Site, created: PlaybookRun) -> None:
    changed = site.play(30, longterm_days=0)
    assert changed.returncode == 0, changed.output[-4000:]
    assert changed.recap("hub")["changed"] == 2
    assert [(row[0], row[1], row[-1]) for row in policies(site.url, "edge")] == [
        ("raw", "720h0m0s", True),
        ("longterm", "0s", False),  # 0: kept for ever
    ]


def test_a_database_made_by_an_earlier_version_gains_the_long_term_policy(site: Site) -> None:
    query = urllib.parse.urlencode({"q": 'CREATE DATABASE "older" WITH DURATION 90d NAME "older"'})
    urllib.request.urlopen(f"{site.url}/query", data=query.encode(), timeout=10).close()
    upgraded = site.play(90, bucket="older")
    assert upgraded.returncode == 0, upgraded.output[-4000:]
    assert upgraded.recap("hub")["changed"] == 1
    assert [(row[0], row[1], row[-1]) for row in policies(site.url, "older")] == [
        ("older", "2160h0m0s", True),  # its default policy keeps its name and its raw points
        ("longterm", "43824h0m0s", False),
    ]


def test_the_collector_writes_derived_series_to_the_long_term_policy(site: Site, created: PlaybookRun) -> None:
    from edge.collector.writers import InfluxV1Writer
    from edge.config.collector import InfluxConfig

    writer = InfluxV1Writer(InfluxConfig(url=site.url, api="v1", bucket="edge", aggregate_bucket="edge/longterm"))
    now = time.time_ns()
    writer.write("edge", f"door_access,site=s,door=d,reader=r,reason=granted,node=n granted=1i,denied=0i {now}")
    writer.write("edge/longterm", f"entries_hourly,site=s,door=d entries=1i,exits=0i,denied=0i {now}")
    query = urllib.parse.urlencode({"q": 'SELECT count(*) FROM "longterm"."entries_hourly"', "db": "edge"})
    with urllib.request.urlopen(f"{site.url}/query?{query}", timeout=10) as response:
        assert "series" in json.load(response)["results"][0]
    query = urllib.parse.urlencode({"q": 'SELECT count(*) FROM "entries_hourly"', "db": "edge"})
    with urllib.request.urlopen(f"{site.url}/query?{query}", timeout=10) as response:
        assert "series" not in json.load(response)["results"][0]  # not in the 90-day default policy
