"""The README's first command: `edge demo` runs the whole stack on simulated hardware and the day goes as scripted."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from edge.demo.scenario import Arrive, at, day, expected_decisions
from edge.demo.site import desks, people
from tests.collector_support import samples
from tests.rig.fixtures import run_edge
from tests.rig.servers import VictoriaMetrics


@pytest.mark.slow
def test_a_simulated_day_runs_end_to_end_and_matches_its_script(tmp_path: Path, victoria: VictoriaMetrics) -> None:
    workdir = tmp_path / "demo"
    result = run_edge(
        "demo", "--speed", "600", "--no-live", "--no-install", "--workdir", str(workdir),
        "--influx-url", victoria.url, "--influx-bucket", "demo",
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads((workdir / "summary.json").read_text())
    site_people = people(desks(workdir))
    actions = day(site_people)
    expected = Counter(str(reason) for _person, reason in expected_decisions(actions))
    assert summary["decisions"] == dict(expected)
    assert {"unknown_badge", "expired", "outside_schedule", "suspended", "seat_limit"} <= set(summary["decisions"])
    assert summary["mismatches"] == []
    assert any("held_open raised" in alarm for alarm in summary["alarms"])
    assert summary["drained"], summary["mismatches"]
    assert summary["desks_reported"] == 40
    # The broker was restarted in the middle of the day (a new process) and the door carried on deciding.
    assert len(set(summary["broker_pids"])) == 2
    assert summary["decisions_after_restart"] >= sum(1 for a in actions if isinstance(a, Arrive) and a.at >= at(13, 15))
    # Each zone's occupancy was published with the zone's own desk count and a consistent split.
    site_desks = desks(workdir)
    assert {zone: counts["total"] for zone, counts in summary["zones"].items()} == Counter(d.zone for d in site_desks)
    for counts in summary["zones"].values():
        assert counts["occupied"] + counts["vacant"] + counts["unknown"] == counts["total"]
    seated_zones = {zone for zone, peak in summary["zone_peaks"].items() if peak > 0}
    assert seated_zones, summary["zone_peaks"]
    assert all(summary["zone_peaks"][z] <= summary["zones"][z]["total"] for z in seated_zones)
    assert all(code == 0 for code in summary["exit_codes"].values())
    # The collector also forwarded to InfluxDB (here VictoriaMetrics): one point per door decision.
    decisions = sum(summary["decisions"].values())
    forwarded = len(samples(victoria, "door_access_granted"))
    assert forwarded == decisions, (forwarded, decisions)
    # Every daemon logged the simulated hardware, and no raw card number reached any log.
    logs = "".join(p.read_text(errors="replace") for p in (workdir / "logs").glob("*.log"))
    for person in site_people:
        assert person.card not in logs
    report = Path(summary["report"]).read_text()
    assert report.lstrip().lower().startswith("<!doctype html") and "<svg" in report
    for person in site_people:
        assert person.id not in report and person.name not in report
