"""Make docs/report-example.html (and .csv, .png): a simulated week of a 40-desk coworking space, stored through
the collector's own code (contract payloads -> `classify` -> `Store.commit`), then reported with `write_report`.

Run from the repository root:  python docs/tools/make_report_sample.py [--no-png]
The PNG needs Chromium (`apt-get install -y chromium`); without it only the HTML and CSV are written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from edge.collector.ingest import Accepted, classify
from edge.collector.store import Store
from edge.contract import (
    DeskOccupancy,
    DeskState,
    DoorAccess,
    Envelope,
    Event,
    NodeStatus,
    Reason,
    Topics,
    badge_token,
    encode,
)
from edge.report.build import write_report

SITE = "tiers-lieu-demo"
TZ = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2026, 11, 23)
DOCS = Path(__file__).resolve().parents[1]
ZONES = {"open-space": 24, "quiet-room": 8, "lab": 8}
NODES = {"open-space": "desks-open", "quiet-room": "desks-quiet", "lab": "desks-lab"}
BADGE_KEY = b"sample-badge-key-0123456789abcdef"


@dataclass
class Member:
    """A simulated member: how often they come, when, and where they like to sit."""

    id: str
    token: str
    weekday_p: float
    saturday_p: float
    zone: str


class Recorder:
    """Collects the nodes' events, then numbers each node's events in time order as its outbox would."""

    def __init__(self) -> None:
        self.topics = Topics(SITE)
        self.pending: list[tuple[dt.datetime, int, str, DeskOccupancy | DoorAccess | NodeStatus]] = []
        self.losses: list[tuple[str, dt.datetime, int]] = []

    def emit(self, node: str, when: dt.datetime, body: DeskOccupancy | DoorAccess | NodeStatus) -> None:
        """One event of a node."""
        self.pending.append((when, len(self.pending), node, body))

    def lose(self, node: str, when: dt.datetime, count: int) -> None:
        """The node loses `count` events at `when` (its outbox overflowed): seq numbers with no event."""
        self.losses.append((node, when, count))

    def wire(self) -> list[tuple[dt.datetime, str, bytes]]:
        """(time, topic, payload) of every event, in time order, with envelopes stamped."""
        seqs: dict[str, int] = {}
        losses = sorted(self.losses, key=lambda x: x[1])
        out = []
        for when, order, node, body in sorted(self.pending, key=lambda e: (e[0], e[1])):
            for lost in [x for x in losses if x[0] == node and x[1] <= when]:
                seqs[node] = seqs.get(node, 0) + lost[2]
                losses.remove(lost)
            if not isinstance(body, NodeStatus):  # a status announces the latest seq and consumes none
                seqs[node] = seqs.get(node, 0) + 1
            envelope = Envelope(id=f"{node}-{order}", ts=when, node=node, seq=seqs.get(node, 0))
            out.append((when, body.topic(self.topics), encode(Event(envelope, body))))
        return out


def members(rng: random.Random) -> list[Member]:
    """44 members: residents who come most days, flex members who come some days."""
    out = []
    for n in range(44):
        resident = n < 20
        zone = rng.choices(list(ZONES), weights=(6, 2, 2))[0]
        uid = f"04{n:02X}{rng.randrange(1 << 24):06X}"
        out.append(
            Member(
                id=f"m-{1000 + n}",
                token=badge_token(BADGE_KEY, uid),
                weekday_p=0.85 if resident else 0.35,
                saturday_p=0.08 if resident else 0.04,
                zone=zone,
            )
        )
    return out


def local(day: dt.date, hour: float) -> dt.datetime:
    """A local time of a day, as UTC."""
    start = dt.datetime.combine(day, dt.time(0), TZ)
    return (start + dt.timedelta(hours=hour)).astimezone(dt.UTC)


def simulate(rng: random.Random) -> Recorder:
    """The week: arrivals, lunch breaks, departures, desks, a stuck radar, lost events, node statuses."""
    rec = Recorder()
    people = members(rng)
    desks = {zone: [f"{zone.split('-')[0]}-{i + 1:02d}" for i in range(count)] for zone, count in ZONES.items()}
    first_morning = local(MONDAY, 0)
    for zone, names in desks.items():
        for desk in names:
            vacant = DeskOccupancy(desk=desk, zone=zone, state=DeskState.VACANT, since=first_morning)
            rec.emit(NODES[zone], first_morning, vacant)
    for offset in range(7):
        day = MONDAY + dt.timedelta(days=offset)
        busy_until: dict[str, float] = {}
        for m in people if day.weekday() < 6 else []:
            if rng.random() >= (m.weekday_p if day.weekday() < 5 else m.saturday_p):
                continue
            arrive = rng.uniform(7.8, 10.5) if day.weekday() < 5 else rng.uniform(9.5, 11)
            leave = min(arrive + rng.uniform(3, 9.5), 19.7)
            _visit(rec, rng, m, day, arrive, leave, desks, busy_until)
        if day.weekday() == 2:  # Wednesday: a radar in the quiet room is stuck from 11:00 to 15:00
            for hour, state in ((11, DeskState.UNKNOWN), (15, DeskState.VACANT)):
                when = local(day, hour)
                rec.emit(
                    "desks-quiet", when, DeskOccupancy(desk="quiet-03", zone="quiet-room", state=state, since=when)
                )
        if day.weekday() == 3:  # Thursday: the open space's node lost 6 events (outbox full during an outage)
            rec.lose("desks-open", local(day, 14), 6)
        for node in ("door-front", *NODES.values()):
            for hour in range(0, 24, 3):
                status = NodeStatus(state="online", version="0.1.0", uptime_s=3600.0 * hour, node_name=node)
                rec.emit(node, local(day, hour + 0.5), status)
    return rec


def _visit(
    rec: Recorder,
    rng: random.Random,
    m: Member,
    day: dt.date,
    arrive: float,
    leave: float,
    desks: dict[str, list[str]],
    busy_until: dict[str, float],
) -> None:
    """A member's day: in through the door, at a free desk (lunch outside for some), out through the door."""
    free = [d for z in (m.zone, *ZONES) for d in desks[z] if busy_until.get(d, 0) < arrive]
    if not free:
        return
    desk = free[0] if rng.random() < 0.7 else rng.choice(free)
    zone = next(z for z, names in desks.items() if desk in names)
    busy_until[desk] = leave
    _door(rec, m, local(day, arrive), "front-in")
    spans = [(arrive + 0.05, leave - 0.05)]
    out_at = rng.uniform(12, 13)
    back = out_at + rng.uniform(0.5, 1.2)
    if arrive + 1 < out_at and back + 1 < leave and rng.random() < 0.5:  # lunch outside
        _door(rec, m, local(day, out_at), "front-out")
        _door(rec, m, local(day, back), "front-in")
        spans = [(arrive + 0.05, out_at - 0.05), (back + 0.05, leave - 0.05)]
    for start, end in spans:
        sit, stand = local(day, start), local(day, end)
        rec.emit(NODES[zone], sit, DeskOccupancy(desk=desk, zone=zone, state=DeskState.OCCUPIED, since=sit))
        rec.emit(NODES[zone], stand, DeskOccupancy(desk=desk, zone=zone, state=DeskState.VACANT, since=stand))
    _door(rec, m, local(day, leave), "front-out")


def _door(rec: Recorder, m: Member, when: dt.datetime, reader: str) -> None:
    body = DoorAccess(
        door="front", reader=reader, token=m.token, member=m.id, granted=True, reason=Reason.GRANTED, latency_ms=3.0
    )
    rec.emit("door-front", when, body)


def store_week(path: Path, rng: random.Random) -> int:
    """Simulate the week and commit it to a collector store in time order, in batches like the collector."""
    events = simulate(rng).wire()
    topics = Topics(SITE)
    store = Store(path, synchronous="OFF")
    try:
        batch = []
        for when, topic, payload in events:
            outcome = classify(topics, topic, payload)
            assert isinstance(outcome, Accepted), outcome
            batch.append(outcome)
            if len(batch) == 250:
                store.commit(batch, int(when.timestamp() * 1000))
                batch = []
        if batch:
            store.commit(batch, int(events[-1][0].timestamp() * 1000))
    finally:
        store.close()
    return len(events)


def screenshot(html: Path, png: Path) -> bool:
    """Render the page with headless Chromium; False when Chromium is not installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        return False
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={png}",
            "--window-size=1200,2400",
            html.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return True


def main() -> int:
    """Write the sample report into docs/."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DOCS / "report-example.html")
    parser.add_argument("--no-png", action="store_true", help="do not render the PNG")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "collector.sqlite3"
        count = store_week(store, random.Random(20261123))
        write_report(
            store,
            args.out,
            start=MONDAY,
            end=MONDAY + dt.timedelta(days=6),
            directions={"front-out": "out"},
            generated="for the documentation (simulated week)",
            lang="fr",
        )
    print(f"{count} events stored; report: {args.out}")
    if not args.no_png:
        png = args.out.with_suffix(".png")
        print(f"screenshot: {png}" if screenshot(args.out, png) else "no Chromium: PNG not rendered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
