"""The staff console with 10,000 members: the member list (first page, a search, a far page) through the real Django
stack (middleware, session, templates), parsing the member file once, and the process's resident memory.

Run from the repository root: `python -m benchmarks console`. Prints numbers; asserts nothing (target from
issue 14: the member list, paged and searched, answers in under 300 ms).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Measure, median, percentile, report, rss_mb, sized

MEMBERS = int(sized(10_000, 2_000))  # quick mode: fewer members, the same measures
MEASURES: list[Measure] = []


def member_file(count: int) -> str:
    """A site with `count` members (names, e-mails, plans, accounts, one or two badges)."""
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


def main() -> None:
    """Build a console with 10,000 members and time its member list."""
    folder = Path(tempfile.mkdtemp(prefix="bench-console-"))
    try:
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

        user = StaffUser.objects.create_user(username="bench", password="correct horse battery", role="viewer")
        rt = runtime.Runtime.from_config(config)
        runtime.install(rt)
        client = Client()
        client.force_login(user)
        from edge.console.settings import SESSION_STARTED

        session = client.session
        session[SESSION_STARTED] = time.time()
        session.save()
        start = time.perf_counter()
        rt.members.load()
        parse_s = time.perf_counter() - start
        print(f"parse the member file ({MEMBERS} members)      {parse_s:8.3f} s")
        MEASURES.append(Measure("console", f"parse the member file, {MEMBERS} members (once)", parse_s, "s"))
        runs = int(sized(30, 5))
        for label, url in (
            ("member list, first page", "/members/"),
            ("member list, search by name", "/members/?q=member+09999"),
            ("member list, search by plan", "/members/?q=flex"),
            ("member list, page 150", "/members/?page=150"),
        ):
            times = timed(client, url, runs)
            p50, p95 = median(times), percentile(times, 95)
            print(f"{label:<40} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
            MEASURES.append(Measure("console", f"{label} p95", p95, "ms", "< 300 ms", p95 < 300))
        MEASURES.append(Measure("console", f"console RSS ({MEMBERS} members)", rss_mb(), "MB"))
        print(f"console process RSS                      {rss_mb():8.1f} MB")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report(MEASURES)


if __name__ == "__main__":
    main()
