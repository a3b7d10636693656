"""The staff console with 10,000 members.

In one process, through the real Django stack (middleware, session, templates): reading the member file, saving one
change (the first after a start, then the next ones), the member list (first page, searches, a far page) and the
Today page's live data. Then the real stack: a local Mosquitto, three `edge door --simulate` processes and
`edge console` as a subprocess over HTTPS; staff publish from the browser's endpoints and poll the doors page until
every door confirms the new snapshot; the console process's resident memory afterwards.

Run from the repository root: `python -m benchmarks console`. Prints numbers; asserts nothing (targets from issue
14: the member list, paged and searched, under 300 ms; publishing and seeing every door confirm under 5 s on a local
broker).
"""

from __future__ import annotations

import http.cookiejar
import json
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import QUICK, Measure, median, percentile, report, rss_mb, sized, terminate

MEMBERS = int(sized(10_000, 2_000))  # quick mode: fewer members, the same measures
DOORS = ("front",) if QUICK else ("front", "back", "garden")  # quick mode (CI): one door, one publish
MEASURES: list[Measure] = []
PASSWORD = "correct horse battery"


def member_file(count: int) -> str:
    """A site with `count` members (names, e-mails, plans, accounts, one badge each)."""
    lines = [
        "site: bench",
        "timezone: Europe/Paris",
        "plans:",
        "  resident: {schedule: always}",
        "  flex:",
        "    schedule: [{days: mon-fri, from: '08:00', to: '19:00'}]",
        "accounts: {ACME: {seats: 3}}",
        "members:",
    ]
    for n in range(count):
        plan = "resident" if n % 3 else "flex"
        extra = ", account: ACME" if n % 7 == 0 else ""
        lines.append(
            f"  - {{id: M-{n:05d}, name: Member {n:05d}, email: m{n}@example.org, plan: {plan},"
            f" badges: ['{n:08X}']{extra}}}"
        )
    return "\n".join(lines) + "\n"


def timed(client, url: str, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        out.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return out


def measure(name: str, value: float, unit: str, target: str = "", ok: bool | None = None) -> None:
    print(f"{name:<56} {value:9.3f} {unit}")
    MEASURES.append(Measure("console", name, value, unit, target, ok))


def in_process(folder: Path) -> None:
    """Member file, member list and Today data through the Django test client."""
    from tests.console_support import console_config

    (folder / "members.yaml").write_text(member_file(MEMBERS))
    config_path = console_config(folder, site="bench")
    from edge.config import load_config
    from edge.console import runtime
    from edge.console.settings import configure

    config = load_config(config_path)
    configure(config)
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0, interactive=False)
    from edge.console.models import StaffUser
    from edge.console.settings import SESSION_STARTED
    from edge.staff import edits
    from edge.staff.live import LiveLink
    from edge.staff.memberstore import MemberStore

    user = StaffUser.objects.create_user(username="bench", password=PASSWORD, role="viewer")
    rt = runtime.Runtime.from_config(config)
    rt.link = LiveLink(config)  # not connected: fed below as the broker would
    runtime.install(rt)
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_STARTED] = time.time()
    session.save()

    start = time.perf_counter()
    loaded = rt.members.load()
    measure(f"read the member file, {MEMBERS} members", time.perf_counter() - start, "s")
    for label in ("save one change (first after a start)", "save one change (the next ones)"):
        start = time.perf_counter()
        _edit, loaded = rt.members.edit(
            lambda m: edits.set_suspended(m, "M-00005", not m.members[5].suspended), based_on=loaded.version
        )
        measure(label, time.perf_counter() - start, "s")
    start = time.perf_counter()
    MemberStore(rt.members.path).load()
    measure("read it again after another tool saved it", time.perf_counter() - start, "s")

    runs = int(sized(30, 5))
    start = time.perf_counter()
    client.get("/members/")
    measure("member list, first request after a change (search index built)", time.perf_counter() - start, "s")
    for label, url in (
        ("member list, first page", "/members/"),
        ("member list, search by name", "/members/?q=member+09999"),
        ("member list, search by plan", "/members/?q=flex"),
        ("member list, page 150", "/members/?page=150"),
    ):
        times = timed(client, url, runs)
        print(f"{label:<40} p50 {median(times):7.1f} ms")
        measure(f"{label} p95", percentile(times, 95), "ms", "< 300 ms", percentile(times, 95) < 300)

    _feed_site(rt.link.view)
    client.get("/today/live.json")  # templates compiled once per process
    times = timed(client, "/today/live.json", runs)
    measure("Today live data (3 doors, 40 desks, 4 nodes) p95", percentile(times, 95), "ms")
    measure(f"in-process console RSS ({MEMBERS} members)", rss_mb(), "MB")
    runtime.install(None)


def _feed_site(view: object) -> None:
    """Retained states of 3 doors, 4 nodes and 40 desks in 3 zones, as the broker delivers them."""
    import datetime as dt

    from edge.contract import DeskOccupancy, DoorState, Event, NodeStatus, ZoneOccupancy, encode
    from edge.contract.payloads import DeskState, DoorMode, Envelope

    now = dt.datetime.now(dt.UTC)
    bodies: list[object] = [
        DoorState(door=d, locked=True, open=False, mode=DoorMode.NORMAL, members_version=1, members_applied_at=now)
        for d in DOORS
    ]
    bodies += [NodeStatus(state="online", version="bench", node_name=f"node-{n}") for n in range(4)]
    zones = ("open", "quiet", "lab")
    states = (DeskState.VACANT, DeskState.OCCUPIED)
    bodies += [DeskOccupancy(desk=f"d{n:02d}", zone=zones[n % 3], state=states[n % 2], since=now) for n in range(40)]
    bodies += [ZoneOccupancy(zone=z, occupied=7, vacant=6, unknown=0, total=13) for z in zones]
    for seq, body in enumerate(bodies):
        payload = encode(Event(Envelope(id=f"b-{seq}", ts=now, node="bench", seq=seq), body))  # type: ignore[arg-type]
        view.apply(body.topic(view.topics), payload, True)  # type: ignore[attr-defined]


class Browser:
    """An HTTPS client of the console that keeps its cookies and sends its CSRF token, as a browser does."""

    def __init__(self, url: str, certificate: Path) -> None:
        self.url = url
        self.cookies = http.cookiejar.CookieJar()
        context = ssl.create_default_context(cafile=str(certificate))
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), urllib.request.HTTPCookieProcessor(self.cookies)
        )

    def get(self, path: str) -> str:
        with self.opener.open(self.url + path, timeout=60) as response:
            return str(response.read().decode())

    def post(self, path: str, form: dict[str, str]) -> str:
        token = next(c.value for c in self.cookies if c.name == "csrftoken")
        data = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(self.url + path, data=data, headers={"Referer": self.url + path})
        with self.opener.open(request, timeout=60) as response:
            return str(response.read().decode())


def _door_config(folder: Path, port: int, door: str) -> Path:
    path = folder / f"door-{door}.yaml"
    path.write_text(
        f"""site: bench
node: door-{door}
timezone: Europe/Paris
state_dir: {folder / "state" / door}
badge_key_file: keys/badge.key
status_interval_s: 5
mqtt: {{host: 127.0.0.1, port: {port}, reconnect_min_s: 0.2, reconnect_max_s: 1}}
access:
  snapshot_keys: [keys/snapshot-signing.pub]
  command_keys: [keys/command-signing.pub]
  clock_trust: rtc
doors:
  - name: {door}
    relay: {{pin: 5, lock_type: fail_safe}}
"""
    )
    return path


def real_stack(folder: Path) -> None:
    """Publish from `edge console` (HTTPS) to three `edge door` processes and wait until every door confirms."""
    from edge.console.certificate import write_self_signed
    from tests.console_support import console_config
    from tests.rig.fixtures import REPO, edge_command, edge_env, run_edge
    from tests.rig.servers import Mosquitto, free_port

    (folder / "members.yaml").write_text(member_file(MEMBERS))
    write_self_signed(folder / "cert.pem", folder / "key.pem", ["127.0.0.1"])
    broker = Mosquitto(folder / "mosquitto")
    broker.start()
    port = free_port()
    config = console_config(folder, port=broker.port, site="bench",
                            console_extra=f"  listen: 127.0.0.1\n  port: {port}\n")  # fmt: skip
    created = run_edge("console", "-c", str(config), "create-user", "bench", "--role", "manager", "--password-stdin",
                       input_text=PASSWORD + "\n", timeout=120)  # fmt: skip
    assert created.returncode == 0, created.stderr
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for door in DOORS:
            procs.append(subprocess.Popen(
                edge_command("door", "-c", str(_door_config(folder, broker.port, door)), "--simulate",
                             str(folder / "sim" / door)),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=edge_env(), cwd=folder,
            ))  # fmt: skip
        log = folder / "console.log"
        with log.open("wb") as out:
            console = subprocess.Popen(edge_command("console", "-c", str(config)), stdout=out,
                                       stderr=subprocess.STDOUT, env=edge_env(), cwd=REPO)  # fmt: skip
        procs.append(console)
        deadline = time.monotonic() + 120
        while "ready in" not in log.read_text(errors="replace"):
            if time.monotonic() > deadline or console.poll() is not None:
                raise RuntimeError(f"the console did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)
        browser = Browser(f"https://127.0.0.1:{port}", folder / "cert.pem")
        browser.get("/login/")
        browser.post("/login/", {"username": "bench", "password": PASSWORD})
        while len(json.loads(browser.get("/doors/live.json"))["doors"]) < len(DOORS):
            if time.monotonic() > deadline:
                raise RuntimeError("the doors did not report to the console")
            time.sleep(0.1)
        for label in ("first publish",) if QUICK else ("first publish", "second publish"):
            browser.get("/doors/publish/")
            start = time.perf_counter()
            browser.post("/doors/publish/", {})
            posted = time.perf_counter() - start
            while not json.loads(browser.get("/doors/live.json"))["all_current"]:
                if time.perf_counter() - start > 60:
                    raise RuntimeError("the doors did not all confirm within 60 s")
                time.sleep(0.05)
            confirmed = time.perf_counter() - start
            measure(f"publish {MEMBERS} members: signed and acknowledged ({label})", posted, "s")
            measure(f"publish and see {len(DOORS)} door(s) confirm ({label})", confirmed, "s", "< 5 s", confirmed < 5)
        for _ in range(20):
            browser.get("/members/?q=member")
            browser.get("/today/live.json")
        measure(f"edge console process RSS ({MEMBERS} members, after publishing)", rss_mb(console.pid), "MB")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                terminate(proc)
            except RuntimeError as exc:
                print(f"  {exc}")
        broker.kill()


def main() -> None:
    """Both parts, each in its own folder."""
    for part in (in_process, real_stack):
        folder = Path(tempfile.mkdtemp(prefix="bench-console-"))
        try:
            part(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    report(MEASURES)


if __name__ == "__main__":
    main()
