"""Plain-text and JSON renderings of the staff tools' results (no raw UID ever reaches them)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from edge.clock import rfc3339_ms
from edge.i18n import Formatter
from edge.staff.check import CheckResult
from edge.staff.imports import ImportPlan, MemberChange, MemberRef
from edge.staff.listing import MemberRow
from edge.staff.status import Currency, StatusReport


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the last column is not padded."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = []
    for row in (headers, *rows):
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def as_json(value: Any) -> str:
    """Indented JSON, UTF-8 kept readable."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def check_text(result: CheckResult) -> str:
    """The dry run as a header line, one row per member and a count."""
    situation = result.situation
    clock = "" if situation.clock_trusted else ", clock not synchronised"
    head = (
        f"door {situation.door} at {result.local:%a %Y-%m-%d %H:%M} {result.timezone} ({result.local:%Z %z}), "
        f"mode {situation.mode} ({situation.mode_source}){clock}"
    )
    with_badge = any(row.badge for row in result.rows)
    headers = (
        ["badge", "member", "plan", "result", "reason", "why"]
        if with_badge
        else [
            "member",
            "plan",
            "result",
            "reason",
            "why",
        ]
    )
    rows = []
    for row in result.rows:
        cells = [row.member or "-", row.plan or "-", "admitted" if row.admitted else "refused", row.reason, row.why]
        rows.append([row.badge or "", *cells] if with_badge else cells)
    admitted = sum(row.admitted for row in result.rows)
    lines = [head, "", table(headers, rows), "", f"{admitted} of {len(result.rows)} admitted"]
    lines.extend(f"note: {note}" for note in result.notes)
    return "\n".join(lines)


def check_json(result: CheckResult) -> dict[str, Any]:
    """The dry run as JSON values."""
    return {
        "door": result.situation.door,
        "at": rfc3339_ms(result.at),
        "local": result.local.isoformat(),
        "timezone": result.timezone,
        "mode": str(result.situation.mode),
        "mode_source": result.situation.mode_source,
        "clock_trusted": result.situation.clock_trusted,
        "members": [
            {
                "member": row.member,
                "plan": row.plan,
                "admitted": row.admitted,
                "reason": row.reason,
                "why": row.why,
                **({"badge": row.badge} if row.badge else {}),
            }
            for row in result.rows
        ],
        "notes": list(result.notes),
    }


def list_text(rows: Sequence[MemberRow]) -> str:
    """The member list as a table and a count per status."""
    headers = ["id", "name", "plan", "account", "valid", "status", "badges", "staff", "source"]
    cells = [
        [r.id, r.name, r.plan, r.account or "", r.validity, r.status, str(r.badges), "yes" if r.staff else "", r.source]
        for r in rows
    ]
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in counts.items())
    return table(headers, cells) + f"\n\n{len(rows)} members" + (f": {summary}" if summary else "")


def list_json(rows: Sequence[MemberRow]) -> list[dict[str, Any]]:
    """The member list as JSON values."""
    return [
        {
            "id": r.id,
            "name": r.name,
            "plan": r.plan,
            "account": r.account,
            "valid_from": r.valid_from.isoformat() if r.valid_from else None,
            "valid_until": r.valid_until.isoformat() if r.valid_until else None,
            "status": r.status,
            "badges": r.badges,
            "staff": r.staff,
            "source": r.source,
        }
        for r in rows
    ]


def import_summary(plan: ImportPlan, fmt: Formatter) -> str:
    """One line: members the import brings and what happens to the source's members and the others."""
    return fmt.ngettext(
        "%(n)s member from %(source)s (%(added)s new, %(changed)s changed, %(unchanged)s unchanged, "
        "%(removed)s removed), %(kept)s other members kept",
        "%(n)s members from %(source)s (%(added)s new, %(changed)s changed, %(unchanged)s unchanged, "
        "%(removed)s removed), %(kept)s other members kept",
        plan.after,
        source=plan.source,
        added=fmt.number(len(plan.added)),
        changed=fmt.number(len(plan.changed)),
        unchanged=fmt.number(plan.unchanged),
        removed=fmt.number(len(plan.removed)),
        kept=fmt.number(plan.kept),
    )


def import_lists(plan: ImportPlan, fmt: Formatter, *, added_and_changed: bool, limit: int = 100) -> str:
    """The members an import removes (always, every one), and with `added_and_changed` up to `limit` of those."""
    parts = []
    if added_and_changed:
        head = fmt.ngettext("added (%(n)s member):", "added (%(n)s members):", len(plan.added))
        parts.append(_members_list(fmt, head, plan.added, limit))
        head = fmt.ngettext("changed (%(n)s member):", "changed (%(n)s members):", len(plan.changed))
        parts.append(_members_list(fmt, head, plan.changed, limit))
    head = fmt.ngettext("removed (%(n)s member):", "removed (%(n)s members):", len(plan.removed))
    parts.append(_members_list(fmt, head, plan.removed, None))
    return "\n".join(part for part in parts if part)


def _members_list(fmt: Formatter, head: str, members: Sequence[MemberRef | MemberChange], limit: int | None) -> str:
    if not members:
        return ""
    shown = members if limit is None else members[:limit]
    width = max(len(m.id) for m in shown)
    lines = [head]
    for member in shown:
        name = member.name or fmt.gettext("(no name)")
        line = f"  {member.id.ljust(width)}  {name}"
        if isinstance(member, MemberChange):
            line += f"  ({', '.join(member.fields)})"
        lines.append(line)
    if len(shown) < len(members):
        lines.append("  " + fmt.gettext("... and %(count)s more", count=fmt.number(len(members) - len(shown))))
    return "\n".join(lines)


def status_text(report: StatusReport) -> str:
    """Per door: applied version, since when, lag; doors behind are marked."""
    lines = []
    pushed = report.pushed
    if pushed is not None:
        when = f", built {rfc3339_ms(pushed.created_at)}" if pushed.created_at else ""
        lines.append(f"last pushed snapshot: version {pushed.version}{when} (from the {pushed.source})")
    else:
        lines.append("last pushed snapshot: unknown")
    if report.doors:
        rows = []
        for d in report.doors:
            mark = {Currency.BEHIND: "BEHIND", Currency.AHEAD: "ahead?", Currency.CURRENT: "ok"}.get(d.currency, "?")
            rows.append(
                [
                    d.door,
                    d.node + (f" ({d.node_state})" if d.node_state else ""),
                    d.mode,
                    str(d.members_version) if d.members_version is not None else "none",
                    rfc3339_ms(d.applied_at) if d.applied_at else "-",
                    _duration(d.lag_s),
                    mark,
                ]
            )
        lines += ["", table(["door", "node", "mode", "applied", "since", "lag", "status"], rows)]
        behind = [d.door for d in report.doors if d.currency is Currency.BEHIND]
        lines.append("")
        if behind:
            lines.append(f"{len(behind)} of {len(report.doors)} doors behind: {', '.join(behind)}")
        elif report.all_current:
            lines.append(f"all {len(report.doors)} doors applied the last pushed snapshot")
        for d in report.doors:
            if d.currency is Currency.BEHIND and d.refusals:
                counts = ", ".join(f"{reason} ({count})" for reason, count in d.refusals)
                lines.append(f"door {d.door}: node {d.node} has refused snapshots since it started: {counts}")
    lines.extend(f"note: {note}" for note in report.notes)
    return "\n".join(lines)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
