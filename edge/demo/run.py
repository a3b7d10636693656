"""Runs the demo end to end: broker, daemons, simulators, the scripted day, the live view, the summary."""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from edge.clock import ScaledClock
from edge.config import load_config
from edge.contract import Topics
from edge.demo.console import DemoConsole, prepare_console, start_console
from edge.demo.driver import Driver
from edge.demo.observer import Observer
from edge.demo.scenario import BrokerRestart, at, day, expected_decisions
from edge.demo.site import SITE, TZ, DemoSite, build_site
from edge.demo.stack import Broker, Daemons, DemoError, ensure_mosquitto, free_port, wait_for
from edge.demo.view import render
from edge.hardware.sim.ld2410 import RadarSimulator
from edge.hardware.sim.pinbridge import PinBridgeClient
from edge.hardware.sim.serial_devices import Rdm6300Sim
from edge.staff.edits import revoke_badge
from edge.staff.keys import load_badge_key, load_signing_key
from edge.staff.memberfile import load_member_file, save_member_file
from edge.staff.push import push_snapshot

# An hour before the first card: at --speed 600 that is six real seconds for the stack to start and the doors to
# apply the pushed snapshot, on a busy machine too, before the scripted day needs them.
DAY_START = (6, 0)
DAY_END = (20, 0)


@dataclass
class Options:
    """How to run the demo."""

    workdir: Path
    speed: float = 300.0
    live: bool = True
    install: bool = True
    report: bool = True
    influx: dict[str, Any] | None = None  # the collector's `influx:` section, to forward to InfluxDB as well
    console: bool = True  # also run the staff console (HTTPS on 127.0.0.1)
    console_port: int | None = None


@dataclass
class Outcome:
    """What the day produced, checked against what the script expected."""

    decisions: dict[str, int] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    zones: dict[str, dict[str, int]] = field(default_factory=dict)
    zone_peaks: dict[str, int] = field(default_factory=dict)
    desks_reported: int = 0
    report: str | None = None
    exit_codes: dict[str, int | None] = field(default_factory=dict)
    broker_pids: list[int] = field(default_factory=list)
    decisions_after_restart: int = 0
    drained: bool = False
    console: str | None = None  # the console's address, when it ran

    @property
    def ok(self) -> bool:
        """Every expectation met and every daemon stopped cleanly."""
        return not self.mismatches and all(code == 0 for code in self.exit_codes.values())


class Demo:
    """One run of the demo."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.root = options.workdir
        self.clock: ScaledClock | None = None
        self.observer: Observer | None = None
        self.console: DemoConsole | None = None
        self._stop_view = threading.Event()

    def run(self) -> Outcome:
        """Set up, play the day, tear down; return the outcome."""
        binary = ensure_mosquitto(self.options.install)
        port = free_port()
        site = build_site(self.root, port, self.options.influx)
        broker = Broker(self.root / "broker", port, binary)
        broker.start()
        daemons = Daemons(self.root)
        observer = Observer(port, Topics(SITE))
        reader = Rdm6300Sim(site.door_reader_port)
        radars = {d.name: RadarSimulator(str(d.port), rate_hz=20).start() for d in site.desks if d.port}
        bridges: dict[str, PinBridgeClient] = {}
        view_thread: threading.Thread | None = None
        outcome = Outcome()
        try:
            if self.options.console:
                # Before the clock starts: creating the account takes seconds the scripted day must not lose.
                self.console = prepare_console(site, self.options.console_port)
            self.clock = clock = ScaledClock(at(*DAY_START), self.options.speed)
            self._start_daemons(site, daemons, clock)
            if self.console is not None:
                start_console(self.console, daemons, clock.spec())
                outcome.console = self.console.url
                print(self.console.banner, flush=True)
            for name in ("door-front", "desks-open", "desks-quiet", "desks-lab"):
                path = self.root / "sim" / f"{name}.pins"
                wait_for(path, 30)
                bridges[name] = PinBridgeClient(path)
            driver = Driver(site, clock, observer, broker, reader, radars, bridges, lambda m: self._revoke(site, m))
            driver.prepare()
            self.observer = observer
            observer.note(f"{at(*DAY_START):%H:%M}  staff push the member snapshot (v{self._push(site)}) to the doors")
            view_thread = threading.Thread(target=self._view, args=(observer, broker, site), daemon=True)
            view_thread.start()
            actions = day(site.people)
            driver.run(actions, tick=daemons.check)
            driver.wait_until(at(*DAY_END), tick=daemons.check)
            drain_problem = self._drain(observer) or self._forwarded(observer)
            outcome = self._outcome(observer, actions, site)
            outcome.console = self.console.url if self.console is not None else None
            outcome.drained = drain_problem is None
            if drain_problem is not None:
                outcome.mismatches.append(drain_problem)
            outcome.broker_pids = list(broker.pids)
            if any(isinstance(a, BrokerRestart) for a in actions) and len(set(broker.pids)) < 2:
                outcome.mismatches.append("the scripted broker restart did not happen")
        finally:
            self._stop_view.set()
            if view_thread is not None:
                view_thread.join(2)
            for client in bridges.values():
                client.close()
            outcome.exit_codes = daemons.stop()
            observer.close()
            broker.stop()
            reader.close()
            for radar in radars.values():
                radar.stop()
        if self.options.report:
            outcome.report = self._report(site)
        (self.root / "summary.json").write_text(json.dumps(outcome.__dict__, indent=2, default=str))
        return outcome

    def _start_daemons(self, site: DemoSite, daemons: Daemons, clock: ScaledClock) -> None:
        sim = ["--simulate", str(self.root / "sim"), "--sim-clock", clock.spec()]
        daemons.start("collector", "collector", "-c", str(site.nodes["collector"]), *sim)
        daemons.start("door-front", "door", "-c", str(site.nodes["door-front"]), *sim)
        for name in ("desks-open", "desks-quiet", "desks-lab"):
            daemons.start(name, "presence", "-c", str(site.nodes[name]), *sim)

    def _push(self, site: DemoSite) -> int:
        assert self.clock is not None
        record = push_snapshot(
            load_member_file(site.members_file),
            site.members_file,
            load_config(site.nodes["staff"]),
            signing_key=load_signing_key(site.keys / "snapshot-signing.key"),
            badge_key=load_badge_key(site.keys / "badge.key"),
            clock=self.clock,
            timeout=10,
        )
        # The day's cards are scripted against the pushed members: a busy machine must not let a card reach the
        # door before the snapshot does (at --speed 600 a second of lag is ten simulated minutes).
        if self.observer is not None and (behind := self.observer.wait_applied(record.version, 30)):
            raise DemoError(f"snapshot v{record.version} not applied within 30 s by: {', '.join(behind)}")
        return record.version

    def _revoke(self, site: DemoSite, member_id: str) -> int:
        edit = revoke_badge(load_member_file(site.members_file), site.person(member_id).card)
        save_member_file(site.members_file, edit.members)
        return self._push(site)

    def _view(self, observer: Observer, broker: Broker, site: DemoSite) -> None:
        assert self.clock is not None
        names = {p.id: p.name for p in site.people}
        tz = ZoneInfo(TZ)
        printed = 0
        while not self._stop_view.wait(0.25):
            with observer.lock:
                if self.options.live:
                    screen = render(
                        observer.view,
                        self.clock.now(),
                        tz,
                        speed=self.clock.speed,
                        broker_up=broker.up,
                        names=names,
                        zones=site.zones,
                        console=self.console.banner if self.console is not None else None,
                    )
                    sys.stdout.write("\033[H\033[J" + screen + "\n")
                    sys.stdout.flush()
                else:
                    for decision in observer.view.decisions[printed:]:
                        who = names.get(decision.member or "", decision.member or "unknown card")
                        verdict = "granted" if decision.granted else "denied "
                        print(
                            f"{decision.ts.astimezone(tz):%H:%M:%S} door {decision.door}: {verdict} "
                            f"{decision.reason:<17} {who}",
                            flush=True,
                        )
                    printed = len(observer.view.decisions)

    def _drain(self, observer: Observer, timeout: float = 30.0) -> str | None:
        """Wait until every node's events (after the broker outage) have reached the observer; None, or what
        was left. Nodes keep making events (desk heartbeats), so "an empty outbox" is not the test: every event a
        node had made when it last reported its status must have arrived."""
        deadline = time.monotonic() + timeout
        while True:
            delivered = observer.delivered()
            if len(delivered) >= 5 and all(delivered.values()):
                return None
            if time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        waiting = sorted(node for node, done in delivered.items() if not done)
        return (
            f"the nodes' events did not all arrive within {timeout:.0f} s: {len(delivered)} of 5 nodes reported, "
            f"waiting for {waiting}"
        )

    def _forwarded(self, observer: Observer, timeout: float = 60.0) -> str | None:
        """With InfluxDB configured: wait for a collector status, newer than now, with no raw event left to forward."""
        if self.options.influx is None:
            return None
        with observer.lock:
            seen = observer.view.statuses["collector"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with observer.lock:
                status = observer.view.nodes.get("collector")
                newer = observer.view.statuses["collector"] > seen
            # Raw events only: derived series keep being computed while the simulated clock runs.
            if newer and status is not None and status.counters.get("backlog_raw", 0) == 0:
                return None
            time.sleep(0.2)
        return f"the collector had not forwarded everything to InfluxDB within {timeout:.0f} s"

    def _outcome(self, observer: Observer, actions: list[Any], site: DemoSite) -> Outcome:
        outcome = Outcome()
        with observer.lock:
            view = observer.view
            decisions = sorted(view.decisions, key=lambda d: d.ts)
            outcome.decisions = dict(Counter(d.reason for d in decisions))
            outcome.alarms = [
                f"{ts:%H:%M} {door} {alarm} {'raised' if active else 'cleared'}"
                for ts, door, alarm, active in view.alarms_seen
            ]
            outcome.zones = {
                z: {"occupied": c.occupied, "vacant": c.vacant, "unknown": c.unknown, "total": c.total}
                for z, c in view.zones.items()
            }
            outcome.zone_peaks = dict(view.zone_peaks)
            outcome.desks_reported = len(view.desks)
        expected = expected_decisions(actions)
        if len(decisions) != len(expected):
            outcome.mismatches.append(f"{len(expected)} cards presented, {len(decisions)} decisions published")
        tz = ZoneInfo(TZ)
        for index, ((person, reason), actual) in enumerate(zip(expected, decisions, strict=False)):
            if str(reason) != actual.reason:
                outcome.mismatches.append(
                    f"card #{index + 1} ({person}): expected {reason}, door said {actual.reason} at "
                    f"{actual.ts.astimezone(tz):%H:%M:%S}"
                )
        for restart in (a for a in actions if isinstance(a, BrokerRestart)):
            back = restart.at + dt.timedelta(seconds=restart.down_s)
            outcome.decisions_after_restart = sum(1 for d in decisions if d.ts >= back)
            if not outcome.decisions_after_restart:
                outcome.mismatches.append(f"no access decision was published after the broker came back ({back:%H:%M})")
        if not any("held_open raised" in a for a in outcome.alarms):
            outcome.mismatches.append("the propped-open door raised no held_open alarm")
        if outcome.desks_reported < len(site.desks):
            outcome.mismatches.append(f"only {outcome.desks_reported} of {len(site.desks)} desks reported")
        return outcome

    def _report(self, site: DemoSite) -> str:
        """The funders' report of the day, from the collector's local store (as `edge report` makes it)."""
        from edge.report.build import write_report
        from edge.schedule import parse_schedule

        path = self.root / "report.html"
        write_report(site.store, path, day=at(0).date(), timezone=TZ, hours=parse_schedule("mon-fri 08:00-19:00"))
        return str(path)


def run_demo(options: Options) -> int:
    """Run the demo and print its summary; exit code 0 when the day went as scripted."""
    try:
        outcome = Demo(options).run()
    except DemoError as exc:
        print(f"edge demo: {exc}", file=sys.stderr)
        return 2
    print("\n== The day in numbers")
    for reason, count in sorted(outcome.decisions.items()):
        print(f"  {reason:<18} {count}")
    print(f"  alarms: {len(outcome.alarms)}; desks reporting: {outcome.desks_reported}")
    if outcome.report:
        print(f"  report: {outcome.report}")
    print(f"  work folder (configs, logs, stores): {options.workdir}")
    if outcome.mismatches:
        print("\nThe day did not go as scripted:")
        for line in outcome.mismatches:
            print(f"  - {line}")
    bad = {k: v for k, v in outcome.exit_codes.items() if v != 0}
    if bad:
        print(f"\ndaemons that did not stop cleanly: {bad}")
    return 0 if outcome.ok else 1
