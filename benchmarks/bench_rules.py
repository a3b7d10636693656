"""Membership rules at scale: decision latency over 100,000 members, reading the member file, snapshot build/sign
and verify/apply times.

Run from the repository root: `python benchmarks/bench_rules.py [--members N] [--decisions N]`. Prints numbers;
asserts nothing (targets from issue 5: decision p99 < 50 µs, applying a 100,000-member snapshot < 2 s).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from benchmarks.common import Measure, report, sized
from edge.access.rules import AccessRequest, DoorContext, decide, record
from edge.access.signed import TrustedKeys
from edge.access.snapshot import apply_snapshot
from edge.access.tracking import PassbackState
from edge.contract.payloads import DoorMode
from edge.contract.token import badge_token
from edge.staff.csv_import import import_csv
from edge.staff.csv_mapping import MAPPINGS
from edge.staff.imports import judge_removals, plan_import
from edge.staff.memberfile import dump_member_file, parse_member_file
from edge.staff.members import MemberFile
from edge.staff.signing import public_key_of
from edge.staff.snapshot import build_snapshot, sign_snapshot

MEASURES: list[Measure] = []

BADGE_KEY = b"benchmark-badge-key-0123456789ab"
PLANS = {
    "resident": {"schedule": "always"},
    "flex": {"schedule": [{"days": ["mon-fri"], "from": "08:00", "to": "19:00"}]},
    "evening": {
        "schedule": [
            {"days": ["mon-thu"], "from": "18:00", "to": "22:00"},
            {"days": ["fri"], "from": "18:00", "to": "02:00"},
        ]
    },
    "team": {"schedule": [{"days": ["mon-fri"], "from": "07:00", "to": "21:00"}]},
}


def member_data(count: int, rng: random.Random) -> dict[str, object]:
    """A site with `count` members, a mix of plans, dates, accounts with seats, two badges for some."""
    members = []
    for n in range(count):
        member: dict[str, object] = {"id": f"M-{n:06d}", "plan": rng.choice(list(PLANS)), "badges": [f"{n:08X}"]}
        if n % 10 == 0:
            member["badges"] = [f"{n:08X}", f"{n:08X}01"]
        if n % 3 == 0:
            member["valid_from"] = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(330))
            member["valid_until"] = dt.date(2026, 12, 1) + dt.timedelta(days=rng.randrange(400))
        if n % 50 == 0:
            member["suspended"] = True
        if n % 4 == 0:
            member["account"] = f"company-{n % 2000}"
        members.append(member)
    return {
        "site": "bench",
        "plans": PLANS,
        "closures": [{"date": dt.date(2026, 12, 25), "open_to": ["resident"]}],
        "accounts": {f"company-{i}": {"seats": 1 + i % 10} for i in range(2000)},
        "policy": {"untrusted_clock": {"staff": True, "plans": ["resident"]}},
        "members": members,
    }


def timed(label: str, action):  # type: ignore[no-untyped-def]
    """Run `action`, print its duration, return its result."""
    start = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - start
    print(f"{label:<46} {elapsed:8.3f} s")
    target = "< 2 s" if label.startswith("verify + index") else ""
    MEASURES.append(Measure("rules", label, elapsed, "s", target, elapsed < 2 if target else None))
    return result


def percentile(sorted_values: list[int], fraction: float) -> float:
    """The value at `fraction` of a sorted list."""
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def main() -> None:
    """Run the benchmark and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=int(sized(100_000, 10_000)))
    parser.add_argument("--decisions", type=int, default=int(sized(200_000, 20_000)))
    args = parser.parse_args()
    rng = random.Random(5)
    print(f"Python {sys.version.split()[0]}, {args.members} members, {args.decisions} decisions")

    data = member_data(args.members, rng)
    members = timed("validate member file (staff machine)", lambda: MemberFile.model_validate(data))
    text = dump_member_file(members)
    timed("read member file, YAML + validation (staff)", lambda: parse_member_file(text))
    key = Ed25519PrivateKey.generate()
    created = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
    payload = timed(
        "build snapshot (tokens, staff machine)",
        lambda: build_snapshot(members, version=1, badge_key=BADGE_KEY, created_at=created),
    )
    raw = timed("sign snapshot (canonical JSON + Ed25519)", lambda: sign_snapshot(payload, key))
    print(f"{'snapshot size':<46} {len(raw) / 1e6:8.2f} MB")
    trusted = TrustedKeys([public_key_of(key)])
    applied = [
        timed(
            f"verify + index (apply on a door) run {i + 1}",
            lambda: apply_snapshot(raw, trusted, site="bench", applied_version=0),
        )
        for i in range(3)
    ]
    index = applied[-1]

    tokens = list(index.by_token)
    unknown = [badge_token(BADGE_KEY, f"FFFF{n:08X}") for n in range(1000)]
    week = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    requests = [
        AccessRequest(
            rng.choice(unknown) if rng.random() < 0.05 else rng.choice(tokens),
            week + dt.timedelta(seconds=rng.randrange(7 * 86400)),
        )
        for _ in range(args.decisions)
    ]
    for label, context in [
        ("normal door", DoorContext()),
        ("door with passback, seats recorded", DoorContext(passback=PassbackState())),
        ("door in lockdown", DoorContext(mode=DoorMode.LOCKDOWN)),
    ]:
        samples = []
        clock = time.perf_counter_ns
        for request in requests:
            start = clock()
            decision = decide(request, index, context)
            samples.append(clock() - start)
            record(request, decision, index, context)
        samples.sort()
        print(
            f"decide, {label:<38} p50 {percentile(samples, 0.50) / 1000:6.2f} µs  "
            f"p99 {percentile(samples, 0.99) / 1000:6.2f} µs  max {samples[-1] / 1000:8.1f} µs  "
            f"mean {statistics.fmean(samples) / 1000:6.2f} µs"
        )
        p99 = percentile(samples, 0.99) / 1000
        MEASURES.append(Measure("rules", f"decide p50, {label}", percentile(samples, 0.50) / 1000, "µs"))
        MEASURES.append(Measure("rules", f"decide p99, {label}", p99, "µs", "< 50 µs", p99 < 50))

    header = "member_id,name,plan,badges,valid_from,valid_until,suspended,account,staff\n"
    rows = "".join(
        f"C-{n:06d},Member {n},flex,{n + 10**9:010X},2026-01-01,2026-12-31,no,,no\n" for n in range(args.members)
    )
    base = MemberFile.model_validate({"site": "bench", "plans": PLANS})
    imported, _ = timed(
        f"CSV import of {args.members} rows (staff machine)",
        lambda: import_csv((header + rows).encode(), MAPPINGS["generic"], base),
    )
    # The same export saved again by Excel in French: Windows-1252, semicolons, FAUX, dd/mm/yyyy dates.
    french = (header + rows).replace(",", ";").replace(";no;", ";FAUX;").replace("2026-01-01", "01/01/2026")
    timed(
        "CSV import, the same saved by French Excel",
        lambda: import_csv(french.encode("cp1252"), MAPPINGS["generic"], base),
    )
    again, _ = import_csv((header + rows).encode(), MAPPINGS["generic"], imported)
    timed(
        f"import plan + removal guard, {args.members} members",
        lambda: judge_removals(plan_import(imported, again, "generic")),
    )
    report(MEASURES)


if __name__ == "__main__":
    main()
