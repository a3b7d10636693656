"""The demo site: its members, keys, desks and one config file per node, written into a work folder.

Everything here is what an installer and a community manager would write by hand for a real site; only the
device paths point at simulators (pseudo-terminals) and the daemons run with simulated GPIO.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.config.yaml_io import dump_yaml
from edge.staff.keygen import generate_site_keys

SITE = "tiers-lieu-demo"
TZ = "Europe/Paris"
DAY = dt.date(2026, 11, 24)  # a Tuesday
SEED = 20261124


@dataclass(frozen=True)
class Person:
    """A member of the demo, with the card they carry (a 5-byte 125 kHz tag)."""

    id: str
    name: str
    plan: str
    card: str
    desk: str | None = None
    account: str | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    suspended: bool = False
    staff: bool = False


@dataclass(frozen=True)
class Desk:
    """A desk of the demo and how it senses people."""

    name: str
    zone: str
    node: str
    sensor: str  # seat, pir or radar
    pin: int | None = None
    port: str | None = None


@dataclass
class DemoSite:
    """Paths and facts of a generated demo site."""

    root: Path
    broker_port: int
    people: list[Person]
    desks: list[Desk]
    door_reader_port: str
    nodes: dict[str, Path] = field(default_factory=dict)
    members_file: Path = Path()
    keys: Path = Path()
    store: Path = Path()

    @property
    def zones(self) -> list[str]:
        """Zone names in display order."""
        return list(dict.fromkeys(d.zone for d in self.desks))

    def person(self, member_id: str) -> Person:
        """Look a person up by member id."""
        return next(p for p in self.people if p.id == member_id)


DOOR_PINS = {"relay": 17, "contact": 27, "rex": 22, "led": 23}
FIRST_NAMES = [
    "Alice",
    "Bruno",
    "Chloé",
    "David",
    "Emma",
    "Farid",
    "Gaëlle",
    "Hugo",
    "Inès",
    "Jules",
    "Karim",
    "Léa",
    "Malik",
    "Nina",
    "Oscar",
    "Paula",
    "Quentin",
    "Rose",
    "Samir",
    "Théo",
    "Ugo",
    "Valérie",
    "Wassim",
    "Yasmine",
    "Zoé",
    "Adrien",
    "Bérénice",
    "Cyril",
    "Diane",
    "Éloi",
]


def desks(root: Path) -> list[Desk]:
    """40 desks in 3 zones: seat switches and PIRs in the open space, radars in the quiet room, seats in the lab."""
    out = []
    for n in range(24):  # GPIO 4-27: 24 inputs on one Pi
        sensor = "seat" if n < 12 else "pir"
        out.append(Desk(f"open-{n + 1:02d}", "open-space", "desks-open", sensor, pin=4 + n))
    for n in range(8):
        out.append(
            Desk(f"quiet-{n + 1:02d}", "quiet-room", "desks-quiet", "radar", port=str(root / "dev" / f"radar-q{n + 1}"))
        )
    for n in range(8):
        out.append(Desk(f"lab-{n + 1:02d}", "fab-lab", "desks-lab", "seat", pin=4 + n))
    return out


def people(desk_list: list[Desk]) -> list[Person]:
    """The demo's members: residents, flex members, a team with limited seats, a day pass, staff."""
    rng = random.Random(SEED)
    free = [d.name for d in desk_list]
    rng.shuffle(free)
    out = [Person("S-001", "Front desk", "staff", "5A00000001", staff=True)]
    for n, first in enumerate(FIRST_NAMES):
        plan = "resident" if n < 6 else "team" if 6 <= n < 9 else "flex"
        account = "ACME" if plan == "team" else None
        out.append(
            Person(
                f"M-{n + 1:03d}",
                f"{first} {chr(65 + n % 26)}.",
                plan,
                f"5B{n + 1:08X}",
                desk=free.pop(),
                account=account,
                valid_until=DAY + dt.timedelta(days=200),
            )
        )
    out.append(
        Person(
            "D-001",
            "Day pass (yesterday)",
            "daypass",
            "5C00000001",
            valid_from=DAY - dt.timedelta(days=1),
            valid_until=DAY - dt.timedelta(days=1),
        )
    )
    out.append(Person("M-099", "Unpaid invoice", "flex", "5D00000001", suspended=True))
    return out


def members_document(people_list: list[Person]) -> dict[str, object]:
    """The staff's member file."""
    members = []
    for p in people_list:
        entry: dict[str, object] = {"id": p.id, "name": p.name, "plan": p.plan, "badges": [p.card]}
        if p.account:
            entry["account"] = p.account
        if p.valid_from:
            entry["valid_from"] = p.valid_from.isoformat()
        if p.valid_until:
            entry["valid_until"] = p.valid_until.isoformat()
        if p.suspended:
            entry["suspended"] = True
        if p.staff:
            entry["staff"] = True
        members.append(entry)
    return {
        "site": SITE,
        "timezone": TZ,
        "plans": {
            "resident": {"description": "Fixed desk, 24/7", "schedule": "always"},
            "flex": {
                "description": "Weekdays 08:00-19:00",
                "schedule": [{"days": "mon-fri", "from": "08:00", "to": "19:00"}],
            },
            "team": {
                "description": "Company plan, 2 seats",
                "schedule": [{"days": "mon-fri", "from": "07:00", "to": "21:00"}],
            },
            "daypass": {"description": "One day", "schedule": [{"days": "mon-sun", "from": "08:00", "to": "20:00"}]},
            "staff": {"schedule": "always"},
        },
        "accounts": {"ACME": {"seats": 2}},
        "policy": {"lockdown": {"staff": True, "plans": []}, "untrusted_clock": {"staff": True, "plans": ["resident"]}},
        "members": members,
    }


def _mqtt(port: int) -> dict[str, object]:
    return {"host": "127.0.0.1", "port": port, "reconnect_min_s": 0.2, "reconnect_max_s": 1}


def _node(name: str, root: Path, port: int) -> dict[str, object]:
    return {
        "site": SITE,
        "node": name,
        "timezone": TZ,
        "state_dir": str(root / "state" / name),
        "status_interval_s": 5,
        "mqtt": _mqtt(port),
    }


def build_site(root: Path, broker_port: int, influx: dict[str, Any] | None = None) -> DemoSite:
    """Write keys, the member file and every node's config into `root`; `influx` is the collector's section."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dev").mkdir(exist_ok=True)
    keys = root / "keys"
    generate_site_keys(keys)
    desk_list = desks(root)
    people_list = people(desk_list)
    site = DemoSite(root, broker_port, people_list, desk_list, str(root / "dev" / "reader-front-in"), keys=keys)
    site.members_file = root / "members.yaml"
    site.members_file.write_text(dump_yaml(members_document(people_list)))

    door = _node("door-front", root, broker_port)
    door["badge_key_file"] = str(keys / "badge.key")
    door["access"] = {
        "snapshot_keys": [str(keys / "snapshot-signing.pub")],
        "command_keys": [str(keys / "command-signing.pub")],
        "clock_trust": "rtc",
    }
    door["doors"] = [
        {
            "name": "front",
            "relay": {"pin": DOOR_PINS["relay"], "lock_type": "fail_secure"},
            "unlock_s": 30,
            "held_open_s": 45,
            "contact": {"pin": DOOR_PINS["contact"], "debounce_s": 0},
            "rex": {"pin": DOOR_PINS["rex"], "debounce_s": 0},
            "readers": [
                {"direction": "in", "reader": {"name": "front-in", "type": "rdm6300", "port": site.door_reader_port}}
            ],
        }
    ]
    nodes: dict[str, dict[str, object]] = {"door-front": door}
    for node_name in ("desks-open", "desks-quiet", "desks-lab"):
        mine = [d for d in desk_list if d.node == node_name]
        config = _node(node_name, root, broker_port)
        config["presence"] = {
            "heartbeat_s": 900,
            "zones": [{"name": zone} for zone in dict.fromkeys(d.zone for d in mine)],
            "desks": [{"name": d.name, "zone": d.zone, "sensors": [_sensor(d)]} for d in mine],
        }
        nodes[node_name] = config
    collector = _node("collector", root, broker_port)
    site.store = root / "state" / "collector" / "collector.sqlite3"
    section: dict[str, Any] = {"store_path": str(site.store), "directions": {}}
    if influx is not None:
        section["influx"] = dict(influx)
    collector["collector"] = section
    nodes["collector"] = collector
    staff = _node("staff", root, broker_port)
    nodes["staff"] = staff
    for name, config in nodes.items():
        path = root / "nodes" / f"{name}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(dump_yaml(config))
        site.nodes[name] = path
    return site


def _sensor(desk: Desk) -> dict[str, object]:
    if desk.sensor == "seat":
        return {"type": "seat", "pin": desk.pin, "bounce_s": 0}
    if desk.sensor == "pir":
        return {"type": "pir", "pin": desk.pin, "warmup_s": 60}
    return {"type": "ld2410", "port": desk.port, "max_distance_cm": 150, "silence_s": 600, "stuck_s": 7200}
