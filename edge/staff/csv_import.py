"""CSV import of members exported from coworking platforms (Nexudus, OfficeRnD, Cobot) or a generic sheet.

A `CsvMapping` (`edge.staff.csv_mapping`) says which column holds what. An import is all-or-nothing: every bad
row is reported (line, column, reason) and nothing changes unless the whole file is good. Imported members carry
the mapping's `source`; a new import from the same source replaces them and leaves the members written by hand
(or imported from another source) alone.

Files as spreadsheets leave them are read without hand-editing: the encoding is detected (`edge.staff.csv_text`),
the delimiter sniffed from the header, French Excel's VRAI/FAUX and OUI/NON read as TRUE/FALSE and YES/NO,
and every built-in mapping accepts the dd/mm/yyyy dates Excel in French writes back. Messages come from the
catalogue (`edge.i18n`), in the language of the `Formatter` given.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from edge.config.loader import issue_from_error
from edge.contract.token import normalise_uid
from edge.errors import ConfigError
from edge.i18n import Formatter
from edge.staff.badges import is_token
from edge.staff.csv_mapping import CsvMapping
from edge.staff.csv_text import TextError, TextProblem, decode_export, locate, sniff_delimiter
from edge.staff.members import Member, MemberFile, mask_uid, validate_member_data

MAX_ERRORS = 200

# What Excel writes for a long number it took a badge UID for: 1,23457E+13 (French) or 1.23457E+13.
_SCIENTIFIC = re.compile(r"^[0-9]+(?:[.,][0-9]+)?E[+-][0-9]+$", re.IGNORECASE)


@dataclass(frozen=True)
class ImportReport:
    """What an import did: members imported, members of the same source replaced, rows skipped and why."""

    source: str
    imported: int
    replaced: int
    kept: int
    skipped: tuple[str, ...]


def import_csv(
    raw: bytes, mapping: CsvMapping, base: MemberFile, *, source: str = "<csv>", fmt: Formatter | None = None
) -> tuple[MemberFile, ImportReport]:
    """Return `base` with the members of `mapping.source` replaced by the CSV's rows; raise ConfigError otherwise.

    Nothing is written here: the caller saves the returned file (atomically) only when this returns. Messages
    are in the language of `fmt` (default: `$EDGE_LANG`, else French).
    """
    fmt = fmt or Formatter.for_language()
    try:
        text = decode_export(raw, mapping.encoding).text
    except TextError as exc:
        raise ConfigError([_text_issue(fmt, exc, mapping, source)]) from None
    rows = _Rows(text, mapping, base, source, fmt)
    imported = rows.read()
    kept = [m for m in base.members if m.source != mapping.source]
    _keep_enrolled_cards(imported, base)
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


def _keep_enrolled_cards(imported: list[dict[str, Any]], base: MemberFile) -> None:
    """Imported members keep the cards enrolled for them at a reader (held by token): no export knows those."""
    enrolled = {m.id: [b for b in m.badges if is_token(b)] for m in base.members}
    for member in imported:
        tokens = enrolled.get(str(member.get("id")))
        if tokens:
            member["badges"] = [*member.get("badges", []), *tokens]


def _text_issue(fmt: Formatter, exc: TextError, mapping: CsvMapping, source: str) -> str:
    """The decoding problem with the line and column it is in, when there is one."""
    reason = _text_reason(fmt, exc)
    if exc.index is None:
        return _issue(fmt, source, None, None, reason)
    delimiter = mapping.delimiter or sniff_delimiter(exc.text, mapping.columns().values())
    line, column = locate(exc.text, exc.index, delimiter)
    return _issue(fmt, source, line, column, reason)


def _text_reason(fmt: Formatter, exc: TextError) -> str:
    fix = fmt.gettext("in Excel, open it and use File > Save As > 'CSV UTF-8 (Comma delimited)', then import that file")
    params = {**exc.params, "fix": fix}
    if exc.kind is TextProblem.WORKBOOK:
        return fmt.gettext("this is a spreadsheet workbook (%(kind)s), not a CSV file: %(fix)s", **params)
    if exc.kind is TextProblem.NUL:
        return fmt.gettext(
            "NUL bytes: the file looks like UTF-16 text without its byte-order mark, or is not text at all; %(fix)s",
            **params,
        )
    if exc.kind is TextProblem.UNDECODABLE:
        return fmt.gettext("byte %(byte)s is not UTF-8 nor Windows-1252 (cp1252) text; %(fix)s", **params)
    if exc.kind is TextProblem.BAD_BOM:
        return fmt.gettext(
            "the file starts with a %(encoding)s byte-order mark but byte %(byte)s is not %(encoding)s; %(fix)s",
            **params,
        )
    if exc.kind is TextProblem.MIXED:
        return fmt.gettext(
            "this line is not UTF-8 while line %(utf8_line)s is: the file mixes two encodings and no single "
            "reading of it is right; %(fix)s",
            **params,
        )
    if exc.kind is TextProblem.CONTROL:
        return fmt.gettext(
            "control character %(char)s, which no member export contains: the file is probably not text in "
            "%(encoding)s; %(fix)s",
            **params,
        )
    return fmt.gettext(
        "byte %(byte)s is not %(encoding)s text, the encoding the mapping sets (encoding:); remove encoding: from "
        "the mapping to have it detected, or %(fix)s",
        **params,
    )


def _issue(fmt: Formatter, source: str, line: int | None, column: str | None, reason: str) -> str:
    if line is None:
        where = source
    elif column is None:
        where = fmt.gettext("%(source)s, line %(line)s", source=source, line=line)
    else:
        where = fmt.gettext(
            "%(source)s, line %(line)s, column %(column)s", source=source, line=line, column=repr(column)
        )
    return fmt.gettext("%(where)s: %(reason)s", where=where, reason=reason)


class _Rows:
    """One pass over the CSV rows, collecting members, skipped rows and every error."""

    def __init__(self, text: str, mapping: CsvMapping, base: MemberFile, source: str, fmt: Formatter) -> None:
        self.fmt = fmt
        self.text = text
        self.mapping = mapping
        self.base = base
        self.source = source
        self.errors: list[str] = []
        self.skipped: list[str] = []
        kept = [m for m in base.members if m.source != mapping.source]
        self.ids: dict[str, str] = {m.id: fmt.gettext("the member file") for m in kept}
        self.badges: dict[str, str] = {
            uid: fmt.gettext("member %(member)s of the member file", member=m.id) for m in kept for uid in m.badges
        }
        # Flag values with their French counterparts, worked out once rather than per row.
        self.flags = {
            field: (flag.column, *flag.values())
            for field in ("suspended", "staff")
            if (flag := getattr(mapping, field)) is not None
        }

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
                more = self.fmt.ngettext(
                    "... and %(n)s more error", "... and %(n)s more errors", len(self.errors) - MAX_ERRORS
                )
                shown.append(_issue(self.fmt, self.source, None, None, more))
            raise ConfigError(shown)
        return members

    def _records(self) -> Iterator[tuple[int, dict[str, str]]]:
        delimiter = self.mapping.delimiter or sniff_delimiter(self.text, self.mapping.columns().values())
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=delimiter, strict=True)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            self._error(1, None, self.fmt.gettext("not a readable CSV header: %(error)s", error=exc))
            return
        if header is None:
            self._error(1, None, self.fmt.gettext("the file is empty (a header line is needed)"))
            return
        header = [name.strip() for name in header]
        duplicates = sorted({name for name in header if header.count(name) > 1})
        if duplicates:
            self._error(
                1, None, self.fmt.gettext("column names appear twice: %(columns)s", columns=", ".join(duplicates))
            )
        missing = [col for col in self.mapping.columns().values() if col not in header]
        if missing:
            found = ", ".join(repr(name) for name in header)
            for column in missing:
                self._error(1, column, self.fmt.gettext("column is missing (columns found: %(found)s)", found=found))
        if duplicates or missing:
            return
        start = reader.line_num + 1
        try:
            for record in reader:
                line, start = start, reader.line_num + 1
                if not any(cell.strip() for cell in record):
                    continue
                if len(record) != len(header):
                    problem = self.fmt.ngettext(
                        "%(n)s field where the header has %(expected)s",
                        "%(n)s fields where the header has %(expected)s",
                        len(record),
                        expected=len(header),
                    )
                    self._error(line, None, problem)
                    continue
                yield line, dict(zip(header, record, strict=True))
        except csv.Error as exc:
            self._error(start, None, self.fmt.gettext("not a readable CSV record: %(error)s", error=exc))

    def _member(self, line: int, cells: dict[str, str]) -> dict[str, Any] | None:
        mapping = self.mapping
        columns = mapping.columns()
        before = len(self.errors)
        member: dict[str, Any] = {"source": mapping.source}
        member_id = cells[mapping.id].strip()
        plan_cell = cells[mapping.plan].strip()
        if not plan_cell and mapping.skip_without_plan:
            skipped = self.fmt.gettext(
                "line %(line)s: member %(member)s has no plan", line=line, member=member_id or "?"
            )
            self.skipped.append(skipped)
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
        for field, (column, true, false) in self.flags.items():
            member[field] = self._flag(line, column, true, false, cells[column])
        if member_id in self.ids:
            where = self.ids[member_id]
            self._error(
                line,
                mapping.id,
                self.fmt.gettext("member %(member)s already appears in %(where)s", member=member_id, where=where),
            )
        elif member_id:
            self.ids[member_id] = self.fmt.gettext("line %(line)s", line=line)
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
            problem = self.fmt.gettext(
                "unknown plan %(plan)s: map it in the mapping's plan_names, or add it to plans: (%(known)s)",
                plan=repr(cell),
                known=known,
            )
            self._error(line, self.mapping.plan, problem)
        return plan

    def _badges(self, line: int, cell: str, member_id: str) -> list[str]:
        if _SCIENTIFIC.match(cell.strip()):
            problem = self.fmt.gettext(
                "%(cell)s is a number Excel rewrote (scientific notation), not the card's UID: in the spreadsheet, "
                "format the column as Text before saving, or export again from the platform without opening it in "
                "Excel",
                cell=repr(cell.strip()),
            )
            self._error(line, self.mapping.badges, problem)
            return []
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
                problem = self.fmt.gettext(
                    "badge %(badge)s is already given to %(owner)s", badge=mask_uid(uid), owner=owner
                )
                self._error(line, self.mapping.badges, problem)
                continue
            self.badges[uid] = self.fmt.gettext(
                "member %(member)s at line %(line)s", member=member_id or "?", line=line
            )
            uids.append(uid)
        return uids

    def _date(self, line: int, column: str, cell: str) -> dt.date | None:
        for fmt in self.mapping.date_formats:
            try:
                return dt.datetime.strptime(cell, fmt).date()
            except ValueError:
                continue
        formats = ", ".join(self.mapping.date_formats)
        problem = self.fmt.gettext(
            "%(cell)s is not a date in the mapping's formats (%(formats)s)", cell=repr(cell), formats=formats
        )
        self._error(line, column, problem)
        return None

    def _flag(self, line: int, column: str, true: tuple[str, ...], false: tuple[str, ...], cell: str) -> bool:
        value = cell.strip().lower()
        if value in true:
            return True
        if value in false:
            return False
        allowed = ", ".join(repr(v) for v in (*true, *false))
        problem = self.fmt.gettext("%(cell)s is not one of %(allowed)s", cell=repr(cell.strip()), allowed=allowed)
        self._error(line, column, problem)
        return False

    def _error(self, line: int | None, column: str | None, reason: str) -> None:
        self.errors.append(_issue(self.fmt, self.source, line, column, reason))
