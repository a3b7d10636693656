"""Importing a coworking platform's export from the console: the plan of who is added, changed and removed, and
the guard against emptying the list.

Pure (no Django). `plan_import` is the one call the import view makes; its guard follows the command line's
(refuse an import that removes every member of its platform, or more than a fifth of them, unless the number
removed is confirmed exactly). When `edge.staff.imports` (the command line's plan and guard) is on main, this
module becomes a thin call to `edge.staff.imports.plan_import` and `judge_removals`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge.access.members import MemberFile
from edge.access.members_csv import MAPPINGS, CsvMapping, ImportReport, import_csv, load_mapping
from edge.console.changes import Diff, diff_members

MAX_REMOVED_SHARE = 0.2


@dataclass(frozen=True)
class ImportPlan:
    """What importing an export would do: the new file, the report, the changes by member, the guard's verdict."""

    result: MemberFile
    report: ImportReport
    diff: Diff
    before: int
    needs_confirmation: bool
    refused: bool


def mapping_for(fmt: str, override: Path | None) -> CsvMapping:
    """The built-in mapping of a platform, with the site's own mapping file (plan names ...) on top."""
    base = MAPPINGS[fmt]
    return load_mapping(override, base=base) if override is not None else base


def plan_import(raw: bytes, mapping: CsvMapping, base: MemberFile, *, name: str, confirmed: int | None) -> ImportPlan:
    """Import `raw` over `base` (ConfigError listing every bad row, nothing changed) and judge the removals."""
    result, report = import_csv(raw, mapping, base, source=name)
    mine_before = base.model_copy(update={"members": tuple(m for m in base.members if m.source == mapping.source)})
    mine_after = result.model_copy(update={"members": tuple(m for m in result.members if m.source == mapping.source)})
    diff = diff_members(mine_before, mine_after)
    before = len(mine_before.members)
    removed = len(diff.removed)
    needs = removed > 0 and (removed == before or removed - MAX_REMOVED_SHARE * before > 1e-9)
    refused = (needs and confirmed is None) or (confirmed is not None and confirmed != removed)
    return ImportPlan(result, report, Diff(diff.added, diff.changed, diff.removed), before, needs, refused)
