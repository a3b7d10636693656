"""Check results and how they are shown to an installer (text) or a script (JSON)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum


class Status(StrEnum):
    """Outcome of one check."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class Result:
    """One check: what was checked, what was found, and how to fix it when it is not right."""

    check: str
    status: Status
    message: str
    fix: str = ""


def exit_code(results: list[Result]) -> int:
    """0 when nothing failed, 1 otherwise (warnings do not fail)."""
    return 1 if any(r.status is Status.FAIL for r in results) else 0


def render_text(results: list[Result]) -> str:
    """A readable list, worst first within the original order."""
    marks = {Status.OK: "  ok ", Status.WARN: " WARN", Status.FAIL: " FAIL", Status.SKIP: " skip"}
    lines = []
    for r in results:
        lines.append(f"{marks[r.status]}  {r.check}: {r.message}")
        if r.fix and r.status in (Status.FAIL, Status.WARN):
            lines.append(f"        fix: {r.fix}")
    failed = sum(r.status is Status.FAIL for r in results)
    warned = sum(r.status is Status.WARN for r in results)
    lines.append("")
    lines.append("all checks passed" if not failed else f"{failed} check(s) failed")
    if warned:
        lines[-1] += f", {warned} warning(s)"
    return "\n".join(lines)


def render_json(results: list[Result]) -> str:
    """Machine-readable results."""
    return json.dumps({"ok": exit_code(results) == 0, "results": [asdict(r) for r in results]}, indent=2)
