"""Staff-facing message templates by stable key: one place to move into gettext catalogues later.

Everything staff read from the member import (CSV errors, the import preview, the removal guard) is written
with `say(key, **params)` or `say_n(key, n, **params)` from the templates below, never spelled inline.
Templates use `str.format` named fields (gettext's `python-brace-format`); a plural message is a
`(singular, plural)` pair chosen by a count, as `ngettext` will. The keys are stable identifiers (they become
each entry's `msgctxt`), so a template's English wording can change without breaking a translation's lookup.
"""

from __future__ import annotations

from collections.abc import Mapping

_SAVE_AS_UTF8 = (
    "in Excel, open it and use File > Save As > 'CSV UTF-8 (Comma delimited)' "
    "(French Excel: « CSV UTF-8 (délimité par des virgules) »), then import that file"
)

MESSAGES: Mapping[str, str | tuple[str, str]] = {
    # The mapping file.
    "mapping.unreadable": "{path}: cannot read the mapping: {error}",
    "mapping.not_a_mapping": "{path}: the mapping must be a YAML mapping (source:, id:, plan:, badges:, ...)",
    "mapping.unknown_encoding": "unknown encoding {encoding!r}; leave encoding: out to have it detected, or name one "
    "(cp1252)",
    # Where a CSV problem is: prefixes of every CSV error.
    "csv.where.file": "{source}",
    "csv.where.line": "{source}, line {line}",
    "csv.where.column": "{source}, line {line}, column {column!r}",
    "csv.issue": "{where}: {reason}",
    # Reading the file as text.
    "csv.text.workbook": "this is a spreadsheet workbook ({kind}), not a CSV file: " + _SAVE_AS_UTF8,
    "csv.text.utf16_without_bom": (
        "NUL bytes: the file looks like UTF-16 text without its byte-order mark, or is not text at all; "
        + _SAVE_AS_UTF8
    ),
    "csv.text.undecodable": "byte {byte} is not UTF-8 nor Windows-1252 (cp1252) text; " + _SAVE_AS_UTF8,
    "csv.text.bad_bom": "the file starts with a {encoding} byte-order mark but byte {byte} is not {encoding}; "
    + _SAVE_AS_UTF8,
    "csv.text.mixed": (
        "this line is not UTF-8 while line {utf8_line} is: the file mixes two encodings and no single reading "
        "of it is right; " + _SAVE_AS_UTF8
    ),
    "csv.text.control": (
        "control character {char}, which no member export contains: the file is probably not text in "
        "{encoding}; " + _SAVE_AS_UTF8
    ),
    "csv.text.explicit": (
        "byte {byte} is not {encoding} text, the encoding the mapping sets (encoding:); remove encoding: from "
        "the mapping to have it detected, or " + _SAVE_AS_UTF8
    ),
    # The header and the records.
    "csv.empty": "the file is empty (a header line is needed)",
    "csv.header_unreadable": "not a readable CSV header: {error}",
    "csv.duplicate_columns": "column names appear twice: {columns}",
    "csv.missing_column": "column is missing (columns found: {found})",
    "csv.field_count": "{count} fields where the header has {expected}",
    "csv.record_unreadable": "not a readable CSV record: {error}",
    "csv.too_many_errors": ("... and {count} more error", "... and {count} more errors"),
    # Cells.
    "csv.skipped_no_plan": "line {line}: member {member} has no plan",
    "csv.duplicate_id": "member {member} already appears in {where}",
    "csv.owner.member_file": "the member file",
    "csv.owner.line": "line {line}",
    "csv.owner.file_member": "member {member} of the member file",
    "csv.owner.row_member": "member {member} at line {line}",
    "csv.unknown_plan": "unknown plan {plan!r}: map it in the mapping's plan_names, or add it to plans: ({known})",
    "csv.bad_uid": "{item!r}: {reason}",
    "csv.badge_as_number": (
        "{cell!r} is a number Excel rewrote (scientific notation), not the card's UID: in the spreadsheet, "
        "format the column as Text before saving, or export again from the platform without opening it in Excel"
    ),
    "csv.badge_taken": "badge {badge} is already given to {owner}",
    "csv.bad_date": "{cell!r} is not a date in the mapping's formats ({formats})",
    "csv.bad_flag": "{cell!r} is not one of {allowed}",
    # The import preview and its result.
    "import.summary": (
        "{count} member from {source} ({added} new, {changed} changed, {unchanged} unchanged, {removed} removed), "
        "{kept} other members kept",
        "{count} members from {source} ({added} new, {changed} changed, {unchanged} unchanged, {removed} removed), "
        "{kept} other members kept",
    ),
    "import.skipped": "skipped {what}",
    "import.dry_run": "dry run: would import {summary}; {file} unchanged",
    "import.done": "imported {summary} into {file}",
    "import.refused": "not imported: {summary}; {file} unchanged",
    "import.push_hint": "send it to the doors: edge members push",
    "import.list.added": ("added ({count} member):", "added ({count} members):"),
    "import.list.changed": ("changed ({count} member):", "changed ({count} members):"),
    "import.list.removed": ("removed ({count} member):", "removed ({count} members):"),
    "import.list.more": "... and {count} more",
    "import.no_name": "(no name)",
    # The removal guard.
    "import.refused.all": (
        "this import removes the only member imported from {source}, leaving none",
        "this import removes all {count} members imported from {source}, leaving none",
    ),
    "import.refused.share": (
        "this import removes {count} of the {before} members imported from {source} ({share}), more than the "
        "{limit} an import may remove without confirmation"
    ),
    "import.refused.mismatch": (
        "the removal of {confirmed} member was confirmed, but this import removes {count}: check the list",
        "the removal of {confirmed} members was confirmed, but this import removes {count}: check the list",
    ),
    "import.refused.empty_export": (
        "the export has no member to import: was it filtered, or exported from the wrong view?"
    ),
    "import.confirm_hint": (
        "if the member listed did leave {source}, run the import again with {option} {count}",
        "if the members listed did leave {source}, run the import again with {option} {count}",
    ),
}
"""English templates by key; a pair is (singular, plural)."""


def say(key: str, /, **params: object) -> str:
    """The message `key` filled with `params`."""
    template = MESSAGES[key]
    if isinstance(template, tuple):
        raise TypeError(f"message {key!r} has plural forms: use say_n")
    return template.format(**params)


def say_n(key: str, count: int, /, **params: object) -> str:
    """The plural message `key` in the form for `count`, filled with `count` and `params`."""
    template = MESSAGES[key]
    if not isinstance(template, tuple):
        raise TypeError(f"message {key!r} has no plural forms: use say")
    singular, plural = template
    return (singular if count == 1 else plural).format(count=count, **params)
