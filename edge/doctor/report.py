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


MARKS = {Status.OK: "  ok ", Status.WARN: " WARN", Status.FAIL: " FAIL", Status.SKIP: " skip"}


def render_result(r: Result) -> str:
    """One result as a line, with its fix on the next line when something is wrong."""
    line = f"{MARKS[r.status]}  {r.check}: {r.message}"
    if r.fix and r.status in (Status.FAIL, Status.WARN):
        line += f"\n        fix: {r.fix}"
    return line


def render_summary(results: list[Result]) -> str:
    """The closing line: how many checks failed and warned."""
    failed = sum(r.status is Status.FAIL for r in results)
    warned = sum(r.status is Status.WARN for r in results)
    summary = "all checks passed" if not failed else f"{failed} check(s) failed"
    if warned:
        summary += f", {warned} warning(s)"
    return summary


def render_text(results: list[Result]) -> str:
    """A readable list in the order the checks ran, then the summary."""
    return "\n".join([*(render_result(r) for r in results), "", render_summary(results)])


def render_json(results: list[Result]) -> str:
    """Machine-readable results."""
    return json.dumps({"ok": exit_code(results) == 0, "results": [asdict(r) for r in results]}, indent=2)
