"""A simulated network of sites for tests and benchmarks: per site a real Mosquitto, a real `edge collector` sending
its derived series to the central store, and nodes simulated by a publisher of contract-valid events (desk changes
and door decisions with badge tokens and member ids); one central store (tests.rig.central)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edge.contract import DeskOccupancy, DeskState, DoorAccess, Envelope, Event, Reason, Topics, encode
from tests.collector_support import CollectorProcess, Publisher
from tests.network_support import derived_rows, network_collector_yaml
from tests.rig.central import Central
from tests.rig.servers import Mosquitto

ZONES = ("open", "calm", "meeting")
REASONS = (Reason.GRANTED, Reason.GRANTED, Reason.GRANTED, Reason.EXPIRED, Reason.UNKNOWN_BADGE)


def token_of(member: str) -> str:
    """A badge token as a door publishes it (hex, 32 characters)."""
    return hashlib.sha256(member.encode()).hexdigest()[:32]


@dataclass
class Site:
    """One site: its broker, its collector, and the state of its simulated desks and doors."""

    name: str
    folder: Path
    broker: Mosquitto
    collector: CollectorProcess | None = None
    publisher: Publisher | None = None
    desks: dict[str, str] = field(default_factory=dict)  # desk -> zone
    states: dict[str, DeskState] = field(default_factory=dict)
    seqs: dict[str, int] = field(default_factory=dict)  # node -> last seq
    personal: set[str] = field(default_factory=set)  # every token, member id and event id this site published
    names: set[str] = field(default_factory=set)  # desks, doors and readers: below zone level
    published: int = 0

    @property
    def store(self) -> Path:
        """The collector's store."""
        return self.folder / "state" / "collector.sqlite3"

    @property
    def topics(self) -> Topics:
        """The site's topics."""
        return Topics(self.name)

    def _event(self, node: str, when: datetime, body: DeskOccupancy | DoorAccess) -> tuple[str, bytes]:
        seq = self.seqs.get(node, 0) + 1
        self.seqs[node] = seq
        event_id = f"{self.name}-{node}-{seq}"
        self.personal.add(event_id)
        return body.topic(self.topics), encode(Event(Envelope(id=event_id, ts=when, node=node, seq=seq), body))

    def desk_message(self, desk: str, state: DeskState, when: datetime) -> tuple[str, bytes]:
        """A desk's change of state, as its presence node publishes it."""
        self.states[desk] = state
        body = DeskOccupancy(desk=desk, zone=self.desks[desk], state=state, since=when)
        return self._event("desks-1", when, body)

    def access_message(self, member: str, reason: Reason, when: datetime) -> tuple[str, bytes]:
        """A door decision for a member's badge, as the door publishes it (pseudonymous token and member id)."""
        token = token_of(member)
        known = reason is not Reason.UNKNOWN_BADGE
        self.personal.update({token, member} if known else {token})
        body = DoorAccess(door="front", reader="front-in", token=token, member=member if known else None,
                          granted=reason is Reason.GRANTED, reason=reason, latency_ms=2.0)  # fmt: skip
        return self._event("door-1", when, body)

    def send(self, messages: list[tuple[str, bytes]]) -> None:
        """Publish at QoS 1 and wait for the broker's acknowledgements."""
        assert self.publisher is not None
        self.published += self.publisher.send(messages)


class SimulatedNetwork:
    """`count` sites and one central store; `settle_s` and `derive_step_s` short so a test sees rows leave."""

    def __init__(
        self,
        folder: Path,
        count: int,
        *,
        desks: int = 12,
        settle_s: float = 1.0,
        derive_step_s: int = 10,
        dedup: bool = False,
        seed: int = 17,
    ) -> None:
        self.folder = folder
        self.random = random.Random(seed)
        self.names = [f"site-{i + 1:02}" for i in range(count)]
        self.central = Central(folder / "central", self.names, dedup=dedup)
        self.settle_s = settle_s
        self.derive_step_s = derive_step_s
        self.sites = [Site(name, folder / name, Mosquitto(folder / name / "mosquitto")) for name in self.names]
        for site in self.sites:
            site.desks = {f"{site.name}-d{i:02}": ZONES[i % len(ZONES)] for i in range(desks)}
            site.names.update(site.desks)
            site.names.update({"front", "front-in"})

    def start(self, *, central: bool = True) -> None:
        """Start the central store (unless it is to be away from the start), then each site's broker and collector."""
        if central:
            self.central.start()
        for site in self.sites:
            site.broker.start()
            self.start_collector(site)
            site.publisher = Publisher(site.broker.port)

    def start_collector(self, site: Site) -> None:
        """(Re)start a site's collector and wait until it is online."""
        config = site.folder / "collector.yaml"
        if not config.exists():
            password = self.central.password_file(site.name, site.folder)
            config.write_text(
                network_collector_yaml(site.name, site.broker.port, site.folder / "state", self.central, password,
                                       settle_s=self.settle_s, derive_step_s=self.derive_step_s)
            )  # fmt: skip
        if site.collector is None:
            site.collector = CollectorProcess(config, site.broker.port, site=site.name)
        site.collector.start()

    def history(self, when: datetime, accesses: int = 6) -> None:
        """Every desk's state at `when` (a third occupied) and a few door decisions then, at every site."""
        for site in self.sites:
            messages = [
                site.desk_message(desk, DeskState.OCCUPIED if i % 3 == 0 else DeskState.VACANT, when)
                for i, desk in enumerate(site.desks)
            ]
            messages += [site.access_message(f"m-{site.name}-{i}", REASONS[i % len(REASONS)], when)
                         for i in range(accesses)]  # fmt: skip
            site.send(messages)

    def past(self, start: datetime, end: datetime, every_s: float, changes: int = 2) -> int:
        """A stretch of history: every `every_s` from `start` to `end`, `changes` desks change state and a member
        badges, at every site (sent in chunks); returns how many events were published."""
        sent = 0
        for site in self.sites:
            messages = []
            when = start
            while when < end:
                for desk in self.random.sample(sorted(site.desks), changes):
                    busy = site.states.get(desk) is DeskState.OCCUPIED
                    messages.append(site.desk_message(desk, DeskState.VACANT if busy else DeskState.OCCUPIED, when))
                member = f"m-{site.name}-{self.random.randrange(40)}"
                messages.append(site.access_message(member, self.random.choice(REASONS), when))
                when += timedelta(seconds=every_s)
            for first in range(0, len(messages), 2000):
                site.send(messages[first : first + 2000])
            sent += len(messages)
        return sent

    def activity(self, changes: int = 3, accesses: int = 2) -> None:
        """Now: a few desks change state and a few members badge, at every site."""
        now = datetime.now(UTC)
        for site in self.sites:
            desks = self.random.sample(sorted(site.desks), changes)
            flips = [
                DeskState.VACANT if site.states.get(d) is DeskState.OCCUPIED else DeskState.OCCUPIED for d in desks
            ]
            messages = [site.desk_message(d, s, now) for d, s in zip(desks, flips, strict=True)]
            members = [f"m-{site.name}-{self.random.randrange(40)}" for _ in range(accesses)]
            messages += [site.access_message(m, self.random.choice(REASONS), now) for m in members]
            site.send(messages)

    def latest_rids(self) -> dict[str, int]:
        """Each site's highest derived rid now."""
        return {site.name: derived_rows(site.store)[0] for site in self.sites}

    def sent_up_to(self, rids: dict[str, int]) -> bool:
        """Whether every site's network cursor has passed the given rids."""
        return all(derived_rows(site.store)[1] >= rids[site.name] for site in self.sites)

    def stop(self) -> None:
        """Stop the collectors cleanly (SIGTERM), then the brokers and the central store."""
        for site in self.sites:
            if site.publisher is not None:
                site.publisher.close()
                site.publisher = None
            if site.collector is not None and site.collector.alive():
                site.collector.stop()
            site.broker.kill()
        self.central.kill()
