"""The README's first command: `edge demo` runs the whole stack on simulated hardware and the day goes as scripted."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import ssl
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from edge.demo.scenario import Arrive, at, day, expected_decisions
from edge.demo.site import desks, people
from tests.collector_support import samples
from tests.rig.process import EdgeProcess
from tests.rig.servers import VictoriaMetrics
from tests.rig.waiting import wait_until

BANNER = re.compile(r"staff console: (https://127\.0\.0\.1:\d+/)  \(log in as (\w+) / (\S+);")


class Console:
    """A browser-like HTTPS client of the demo's console: trusts its certificate, keeps its cookies."""

    def __init__(self, url: str, certificate: Path) -> None:
        self.url = url.rstrip("/")
        context = ssl.create_default_context(cafile=str(certificate))
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), urllib.request.HTTPCookieProcessor(self.cookies)
        )

    def get(self, path: str) -> tuple[int, str]:
        with self.opener.open(self.url + path, timeout=30) as response:
            return response.status, response.read().decode()

    def log_in(self, user: str, password: str) -> str:
        self.get("/login/")
        token = next(c.value for c in self.cookies if c.name == "csrftoken")
        form = urllib.parse.urlencode({"username": user, "password": password, "csrfmiddlewaretoken": token})
        request = urllib.request.Request(
            self.url + "/login/", data=form.encode(), headers={"Referer": self.url + "/login/"}
        )
        with self.opener.open(request, timeout=30) as response:
            return response.read().decode()


@pytest.mark.slow
def test_a_simulated_day_runs_end_to_end_and_matches_its_script(tmp_path: Path, victoria: VictoriaMetrics) -> None:
    workdir = tmp_path / "demo"
    with EdgeProcess(
        "demo", "--speed", "600", "--no-live", "--no-install", "--workdir", str(workdir),
        "--influx-url", victoria.url, "--influx-bucket", "demo", log=tmp_path / "demo.log",
    ) as demo:  # fmt: skip
        # While the day plays, the console answers over HTTPS: its login page, then the Today page's live data.
        wait_until(lambda: BANNER.search(demo.output()) is not None or not demo.alive(), timeout=300,
                   what="the demo to print the console's address")  # fmt: skip
        found = BANNER.search(demo.output())
        assert found is not None, demo.tail()
        url, user, password = found.groups()
        console = Console(url, workdir / "console" / "cert.pem")
        wait_until(lambda: _answers(console), timeout=120, what="the console to answer")
        status, login_page = console.get("/login/")
        assert status == 200 and "Connexion à la console" in login_page
        assert "Aujourd’hui" in console.log_in(user, password)
        wait_until(lambda: "front" in _doors(console), timeout=120, what="the Today data to show the door")
        assert demo.wait(600) == 0, demo.tail()
    summary = json.loads((workdir / "summary.json").read_text())
    site_people = people(desks(workdir))
    actions = day(site_people)
    expected = Counter(str(reason) for _person, reason in expected_decisions(actions))
    assert summary["console"] == url
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


def _answers(console: Console) -> bool:
    try:
        return console.get("/login/")[0] == 200
    except OSError:
        return False


def _doors(console: Console) -> list[str]:
    status, body = console.get("/today/live.json")
    return [door["door"] for door in json.loads(body)["doors"]] if status == 200 else []


def test_a_demo_ended_with_sigterm_stops_its_broker_daemons_and_console(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    demo = EdgeProcess("demo", "--speed", "60", "--no-live", "--no-install", "--workdir", str(workdir),
                       log=tmp_path / "demo.log", own_group=True)  # fmt: skip
    with demo:
        group = demo.pid  # the demo leads its own process group; every process it starts is in it
        try:
            door_log = workdir / "logs" / "door-front.log"
            wait_until(lambda: door_log.exists() and "ready in" in door_log.read_text(errors="replace"), timeout=300,
                       what="the demo's door to be running")  # fmt: skip
            assert demo.stop(120) == 130
            wait_until(lambda: not _group_alive(group), timeout=60, what="every process of the demo to exit")
        finally:
            if _group_alive(group):
                os.killpg(group, signal.SIGKILL)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
