"""CSV import of members exported from coworking platforms (Nexudus, OfficeRnD, Cobot) or a generic sheet.

A `CsvMapping` says which column holds what. The built-in mappings below match the platforms' usual export
headers; a site whose export differs copies one into a YAML file and edits the column names (`load_mapping`).
An import is all-or-nothing: every bad row is reported (line, column, reason) and nothing changes unless the
whole file is good. Imported members carry the mapping's `source`; a new import from the same source replaces
them and leaves the members written by hand (or imported from another source) alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError

from edge.access.members import Member, MemberFile, mask_uid, validate_member_data
from edge.config.base import Name, StrictModel
from edge.config.loader import format_issues, issue_from_error
from edge.contract.token import normalise_uid
from edge.errors import ConfigError

MAX_ERRORS = 200


class FlagColumn(StrictModel):
    """A column read as a yes/no flag: cell values (case-insensitive) that set it, and those that clear it."""

    column: str
    true: tuple[str, ...]
    false: tuple[str, ...]


class CsvMapping(StrictModel):
    """How to read one platform's CSV export: column names, date formats, plan names, flag values."""

    source: Name
    encoding: str = "utf-8-sig"
    delimiter: Literal[",", ";", "\t"] | None = None
    id: str
    plan: str
    badges: str
    name: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    account: str | None = None
    suspended: FlagColumn | None = None
    staff: FlagColumn | None = None
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    badge_separators: str = ",; |"
    plan_names: dict[str, Name] = Field(default_factory=dict)
    skip_without_plan: bool = True

    def columns(self) -> dict[str, str]:
        """Member field -> CSV column, for the columns this mapping reads."""
        pairs = {
            "id": self.id,
            "plan": self.plan,
            "badges": self.badges,
            "name": self.name,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "account": self.account,
            "suspended": self.suspended.column if self.suspended else None,
            "staff": self.staff.column if self.staff else None,
        }
        return {field: column for field, column in pairs.items() if column}


_YES = ("yes", "y", "true", "1", "x", "oui")
_NO = ("no", "n", "false", "0", "", "non")

MAPPINGS: dict[str, CsvMapping] = {
    "generic": CsvMapping(
        source="generic",
        id="member_id",
        name="name",
        plan="plan",
        badges="badges",
        valid_from="valid_from",
        valid_until="valid_until",
        account="account",
        suspended=FlagColumn(column="suspended", true=_YES, false=_NO),
        staff=FlagColumn(column="staff", true=_YES, false=_NO),
    ),
    "nexudus": CsvMapping(
        source="nexudus",
        id="Coworker Id",
        name="Full Name",
        plan="Tariff",
        badges="Access Card Id",
        valid_from="Start Date",
        valid_until="End Date",
        account="Company Name",
        suspended=FlagColumn(column="Active", true=("false", "no", "0"), false=("true", "yes", "1")),
        date_formats=("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"),
    ),
    "officernd": CsvMapping(
        source="officernd",
        id="Member ID",
        name="Name",
        plan="Plan",
        badges="Access Card Number",
        valid_from="Start Date",
        valid_until="End Date",
        account="Company",
        suspended=FlagColumn(column="Status", true=("inactive", "former", "suspended"), false=("active", "pending")),
        date_formats=("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ", "%d/%m/%Y"),
    ),
    "cobot": CsvMapping(
        source="cobot",
        id="Membership ID",
        name="Name",
        plan="Plan",
        badges="Access Tokens",
        valid_from="Starts At",
        valid_until="Canceled To",
        account="Company",
        suspended=FlagColumn(column="Paused", true=("true", "yes"), false=("false", "no", "")),
        date_formats=("%Y-%m-%d", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S %z"),
    ),
}
"""The built-in mappings, by format name; see docs/members.md for their columns."""


@dataclass(frozen=True)
class ImportReport:
    """What an import did: members imported, members of the same source replaced, rows skipped and why."""

    source: str
    imported: int
    replaced: int
    kept: int
    skipped: tuple[str, ...]


def load_mapping(path: str | Path, base: CsvMapping | None = None) -> CsvMapping:
    """Read a mapping from a YAML file (same keys as `CsvMapping`); raise ConfigError naming the key path.

    With `base` (a built-in mapping), the file only lists what differs: its keys replace the base's.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError([f"{path}: cannot read the mapping: {exc}"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: the mapping must be a YAML mapping (source:, id:, plan:, badges:, ...)"])
    if base is not None:
        data = {**base.model_dump(mode="python"), **data}
    try:
        return CsvMapping.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_issues([issue_from_error(e, data) for e in exc.errors()], {}, str(path))) from None


def import_csv(
    raw: bytes, mapping: CsvMapping, base: MemberFile, *, source: str = "<csv>"
) -> tuple[MemberFile, ImportReport]:
    """Return `base` with the members of `mapping.source` replaced by the CSV's rows; raise ConfigError otherwise.

    Nothing is written here: the caller saves the returned file (atomically) only when this returns.
    """
    try:
        text = raw.decode(mapping.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        where = f" (byte {exc.start})" if isinstance(exc, UnicodeDecodeError) else ""
        raise ConfigError([f"{source}{where}: not {mapping.encoding} text; set `encoding:` in the mapping"]) from None
    rows = _Rows(text, mapping, base, source)
    imported = rows.read()
    kept = [m for m in base.members if m.source != mapping.source]
    data = base.model_dump(mode="python", by_alias=True)
    data["members"] = [*(m.model_dump(mode="python") for m in kept), *imported]
    result = validate_member_data(data, source=source)
    report = ImportReport(
        source=mapping.source,
        imported=len(imported),
        replaced=len(base.members) - len(kept),
        kept=len(kept),
        skipped=tuple(rows.skipped),
    )
    return result, report


class _Rows:
    """One pass over the CSV rows, collecting members, skipped rows and every error."""

    def __init__(self, text: str, mapping: CsvMapping, base: MemberFile, source: str) -> None:
        self.text = text
        self.mapping = mapping
        self.base = base
        self.source = source
        self.errors: list[str] = []
        self.skipped: list[str] = []
        kept = [m for m in base.members if m.source != mapping.source]
        self.ids: dict[str, str] = {m.id: "the member file" for m in kept}
        self.badges: dict[str, str] = {uid: f"member {m.id} of the member file" for m in kept for uid in m.badges}

    def read(self) -> list[dict[str, Any]]:
        """Parse every row; raise ConfigError with all errors if there is any."""
        members: list[dict[str, Any]] = []
        for line, cells in self._records():
            member = self._member(line, cells)
            if member is not None:
                members.append(member)
        if self.errors:
            shown = self.errors[:MAX_ERRORS]
            if len(self.errors) > MAX_ERRORS:
                shown.append(f"{self.source}: ... and {len(self.errors) - MAX_ERRORS} more errors")
            raise ConfigError(shown)
        return members

    def _records(self) -> Iterator[tuple[int, dict[str, str]]]:
        first_line = self.text.split("\n", 1)[0]
        delimiter: str = self.mapping.delimiter or max((",", ";", "\t"), key=first_line.count)
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=delimiter, strict=True)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            self._error(1, None, f"not a readable CSV header: {exc}")
            return
        if header is None:
            self._error(1, None, "the file is empty (a header line is needed)")
            return
        header = [name.strip() for name in header]
        duplicates = sorted({name for name in header if header.count(name) > 1})
        if duplicates:
            self._error(1, None, f"column names appear twice: {', '.join(duplicates)}")
        missing = [col for col in self.mapping.columns().values() if col not in header]
        if missing:
            found = ", ".join(repr(name) for name in header)
            for column in missing:
                self._error(1, column, f"column is missing (columns found: {found})")
        if duplicates or missing:
            return
        start = reader.line_num + 1
        try:
            for record in reader:
                line, start = start, reader.line_num + 1
                if not any(cell.strip() for cell in record):
                    continue
                if len(record) != len(header):
                    self._error(line, None, f"{len(record)} fields where the header has {len(header)}")
                    continue
                yield line, dict(zip(header, record, strict=True))
        except csv.Error as exc:
            self._error(start, None, f"not a readable CSV record: {exc}")

    def _member(self, line: int, cells: dict[str, str]) -> dict[str, Any] | None:
        mapping = self.mapping
        columns = mapping.columns()
        before = len(self.errors)
        member: dict[str, Any] = {"source": mapping.source}
        member_id = cells[mapping.id].strip()
        plan_cell = cells[mapping.plan].strip()
        if not plan_cell and mapping.skip_without_plan:
            self.skipped.append(f"line {line}: member {member_id or '?'} has no plan")
            return None
        member["id"] = member_id
        member["plan"] = self._plan(line, plan_cell)
        member["badges"] = self._badges(line, cells[mapping.badges], member_id)
        for field in ("name", "account"):
            if field in columns and cells[columns[field]].strip():
                member[field] = cells[columns[field]].strip()
        for field in ("valid_from", "valid_until"):
            if field in columns and cells[columns[field]].strip():
                member[field] = self._date(line, columns[field], cells[columns[field]].strip())
        for field in ("suspended", "staff"):
            flag: FlagColumn | None = getattr(mapping, field)
            if flag is not None:
                member[field] = self._flag(line, flag, cells[flag.column])
        if member_id in self.ids:
            self._error(line, mapping.id, f"member {member_id} already appears in {self.ids[member_id]}")
        elif member_id:
            self.ids[member_id] = f"line {line}"
        if len(self.errors) > before:
            return None
        try:
            Member.model_validate(member)
        except ValidationError as exc:
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else ""
                self._error(line, columns.get(field), issue_from_error(err, member).message)
            return None
        return member

    def _plan(self, line: int, cell: str) -> str:
        plan = self.mapping.plan_names.get(cell, cell)
        if plan not in self.base.plans:
            known = ", ".join(sorted(self.base.plans))
            self._error(
                line,
                self.mapping.plan,
                f"unknown plan {cell!r}: map it in the mapping's plan_names, or add it to plans: ({known})",
            )
        return plan

    def _badges(self, line: int, cell: str, member_id: str) -> list[str]:
        text = cell
        for separator in self.mapping.badge_separators[1:]:
            text = text.replace(separator, self.mapping.badge_separators[0])
        uids: list[str] = []
        for item in filter(None, (part.strip() for part in text.split(self.mapping.badge_separators[0]))):
            try:
                uid = normalise_uid(item)
            except ValueError as exc:
                self._error(line, self.mapping.badges, f"{item!r}: {exc}")
                continue
            owner = self.badges.get(uid)
            if owner is not None:
                self._error(line, self.mapping.badges, f"badge {mask_uid(uid)} is already given to {owner}")
                continue
            self.badges[uid] = f"member {member_id or '?'} at line {line}"
            uids.append(uid)
        return uids

    def _date(self, line: int, column: str, cell: str) -> dt.date | None:
        for fmt in self.mapping.date_formats:
            try:
                return dt.datetime.strptime(cell, fmt).date()
            except ValueError:
                continue
        formats = ", ".join(self.mapping.date_formats)
        self._error(line, column, f"{cell!r} is not a date in the mapping's formats ({formats})")
        return None

    def _flag(self, line: int, flag: FlagColumn, cell: str) -> bool:
        value = cell.strip().lower()
        if value in (v.lower() for v in flag.true):
            return True
        if value in (v.lower() for v in flag.false):
            return False
        allowed = ", ".join(repr(v) for v in (*flag.true, *flag.false))
        self._error(line, flag.column, f"{cell.strip()!r} is not one of {allowed}")
        return False

    def _error(self, line: int | None, column: str | None, reason: str) -> None:
        where = f"{self.source}, line {line}" if line is not None else self.source
        if column is not None:
            where += f", column {column!r}"
        self.errors.append(f"{where}: {reason}")
