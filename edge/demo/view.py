"""The demo's terminal view: door decisions, occupancy per zone, alarms and nodes, redrawn in place."""

from __future__ import annotations

import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

from edge.demo.observer import SiteView

GREEN, RED, YELLOW, DIM, BOLD, RESET = "\033[32m", "\033[31m", "\033[33m", "\033[2m", "\033[1m", "\033[0m"


def bar(occupied: int, unknown: int, total: int, width: int = 30) -> str:
    """A zone's desks as a bar: occupied, unknown, vacant."""
    if total <= 0:
        return " " * width
    full = round(width * occupied / total)
    grey = round(width * unknown / total)
    return f"{GREEN}{'█' * full}{RESET}{DIM}{'▒' * grey}{RESET}{'·' * max(0, width - full - grey)}"


def render(
    view: SiteView,
    now: datetime,
    tz: ZoneInfo,
    *,
    speed: float,
    broker_up: bool,
    names: dict[str, str],
    zones: list[str],
    color: bool = True,
    console: str | None = None,
) -> str:
    """The whole screen as text."""
    width = min(shutil.get_terminal_size((100, 40)).columns, 110)
    local = now.astimezone(tz)
    lines = [
        f"{BOLD}edge demo{RESET} — tiers-lieu-demo — {local:%A %d %B %Y %H:%M:%S} (simulated, ×{speed:g})   "
        f"broker {GREEN + 'up' if broker_up else RED + 'DOWN'}{RESET}",
        *([f"{BOLD}{console}{RESET}"] if console else []),
        "─" * width,
        f"{BOLD}Front door{RESET}",
    ]
    for door, state in sorted(view.doors.items()):
        lock = f"{GREEN}locked{RESET}" if state.locked else f"{YELLOW}UNLOCKED{RESET}"
        opened = "open" if state.open else "closed" if state.open is not None else "?"
        applied = state.members_applied_at.astimezone(tz).strftime("%H:%M") if state.members_applied_at else "never"
        lines.append(f"  {door}: {lock}, {opened}, mode {state.mode}, member snapshot applied at {applied}")
    for decision in view.decisions[-8:]:
        who = names.get(decision.member or "", decision.member or f"token {decision.token[:8]}…")
        verdict = (
            f"{GREEN}granted{' ' * 18}{RESET}" if decision.granted else f"{RED}denied  {decision.reason:<17}{RESET}"
        )
        lines.append(
            f"  {decision.ts.astimezone(tz):%H:%M:%S}  {verdict} {who:<24} {DIM}{decision.latency_ms:5.1f} ms{RESET}"
        )
    lines += ["", f"{BOLD}Occupancy{RESET}   {GREEN}█{RESET} occupied  {DIM}▒{RESET} unknown  · vacant"]
    for zone in zones:
        counts = view.zones.get(zone)
        if counts is None:
            lines.append(f"  {zone:<12} (waiting for the first report)")
            continue
        lines.append(
            f"  {zone:<12} {bar(counts.occupied, counts.unknown, counts.total)} "
            f"{counts.occupied:>2}/{counts.total:<2} occupied, {counts.unknown} unknown"
        )
    lines += ["", f"{BOLD}Alarms{RESET}"]
    if view.alarms_active:
        for (door, alarm), since in view.alarms_active.items():
            lines.append(f"  {RED}{alarm}{RESET} at {door} since {since.astimezone(tz):%H:%M:%S}")
    else:
        lines.append(f"  {DIM}none active{RESET} ({len(view.alarms_seen)} alarm events today)")
    lines += ["", f"{BOLD}Nodes{RESET}"]
    node_parts = []
    for name, status in sorted(view.nodes.items()):
        mark = f"{GREEN}●{RESET}" if status.state == "online" else f"{RED}○{RESET}"
        node_parts.append(f"{mark} {name:<12} outbox {status.outbox_depth:<5}")
    for start in range(0, len(node_parts), 3):
        lines.append("  " + "  ".join(node_parts[start : start + 3]))
    lines += ["", f"{BOLD}Story{RESET}"] + [f"  {line}" for line in view.log]
    text = "\n".join(lines)
    if not color:
        for code in (GREEN, RED, YELLOW, DIM, BOLD, RESET):
            text = text.replace(code, "")
    return text
