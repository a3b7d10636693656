"""Importing a coworking platform's export from the console: the command line's plan and guard, one call.

Pure (no Django). The plan of who is added, changed and removed and the guard against emptying the list are
`edge.staff.imports`, the same functions `edge members import` uses; this module only runs the import and
bundles what the preview page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge.errors import ConfigError
from edge.i18n import Formatter
from edge.staff import imports
from edge.staff.badges import same_cards
from edge.staff.csv_import import ImportReport, import_csv
from edge.staff.csv_mapping import MAPPINGS, CsvMapping, load_mapping
from edge.staff.imports import ImportPlan as Diff
from edge.staff.imports import RemovalVerdict
from edge.staff.members import MemberFile


@dataclass(frozen=True)
class ImportPlan:
    """What importing an export would do: the new file, the report, the changes by member, the guard's verdict."""

    result: MemberFile
    report: ImportReport
    diff: Diff
    verdict: RemovalVerdict

    @property
    def before(self) -> int:
        """The platform's members before the import."""
        return self.diff.before

    @property
    def needs_confirmation(self) -> bool:
        """The import removes all, or too many, of the platform's members."""
        return self.verdict.needs_confirmation

    @property
    def refused(self) -> bool:
        """The guard refuses the import as confirmed (or not)."""
        return not self.verdict.allowed


def mapping_for(fmt: str, override: Path | None) -> CsvMapping:
    """The built-in mapping of a platform, with the site's own mapping file (plan names ...) on top."""
    base = MAPPINGS[fmt]
    return load_mapping(override, base=base) if override is not None else base


def plan_import(
    raw: bytes,
    mapping: CsvMapping,
    base: MemberFile,
    *,
    name: str,
    confirmed: int | None,
    fmt: Formatter,
    badge_key: bytes | None = None,
) -> ImportPlan:
    """Import `raw` over `base` (ConfigError listing every bad row in `fmt`'s language) and judge the removals.

    With the badge key, a card of the export that someone holds by its token (enrolled by tapping) is refused too.
    """
    result, report = import_csv(raw, mapping, base, source=name, fmt=fmt)
    if badge_key is not None and (twice := same_cards(result, badge_key)):
        raise ConfigError([f"{same}: give each card to one member" for same in twice])
    diff = imports.plan_import(base, result, mapping.source)
    return ImportPlan(result, report, diff, imports.judge_removals(diff, confirmed=confirmed))
