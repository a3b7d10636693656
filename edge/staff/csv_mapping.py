"""How to read one coworking platform's CSV export: the column of each member field, date formats, plan names,
flag values. Built-in mappings for Nexudus, OfficeRnD, Cobot and a generic sheet (`MAPPINGS`); a site whose export
differs copies one into a YAML file and edits the column names (`load_mapping`). See docs/members.md.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator

from edge.config.base import Name, StrictModel
from edge.config.loader import format_issues, issue_from_error
from edge.config.yaml_io import Scalars, YamlSyntaxError, parse_yaml
from edge.errors import ConfigError
from edge.i18n import Formatter
from edge.staff.csv_text import AUTO

_SAME_FLAG = ({"true", "vrai"}, {"false", "faux"}, {"yes", "oui"}, {"no", "non"})
"""Flag words French Excel writes in place of the English ones (it rewrites TRUE/FALSE cells as VRAI/FAUX)."""


class FlagColumn(StrictModel):
    """A column read as a yes/no flag: cell values (case-insensitive) that set it, and those that clear it.

    A listed English word also accepts its French counterpart (true/vrai, false/faux, yes/oui, no/non).
    """

    column: str
    true: tuple[str, ...]
    false: tuple[str, ...]

    def values(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The lower-case cell values that set the flag and those that clear it, French counterparts included."""
        return _with_counterparts(self.true), _with_counterparts(self.false)


def _with_counterparts(words: tuple[str, ...]) -> tuple[str, ...]:
    out = [word.lower() for word in words]
    for word in list(out):
        for same in _SAME_FLAG:
            if word in same:
                out.extend(sorted(same - {word}))
    return tuple(dict.fromkeys(out))


class CsvMapping(StrictModel):
    """How to read one platform's CSV export: column names, date formats, plan names, flag values."""

    source: Name
    encoding: str = AUTO
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

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        if value != AUTO:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(
                    f"unknown encoding {value!r}; leave it out to have it detected, or name one (cp1252)"
                ) from None
        return value

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
# Excel in French writes dates back as dd/mm/yyyy whatever they were: every mapping reads them.
_EXCEL_FR = ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S")

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
        date_formats=("%Y-%m-%d", *_EXCEL_FR),
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
        date_formats=(*_EXCEL_FR, "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"),
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
        date_formats=("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ", *_EXCEL_FR),
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
        date_formats=("%Y-%m-%d", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S %z", *_EXCEL_FR),
    ),
}
"""The built-in mappings, by format name; see docs/members.md for their columns."""


def load_mapping(path: str | Path, base: CsvMapping | None = None, *, fmt: Formatter | None = None) -> CsvMapping:
    """Read a mapping from a YAML file (same keys as `CsvMapping`); raise ConfigError naming the key path and line.

    Every scalar is text (`edge.config.yaml_io.Scalars.TEXT`): YAML 1.1 would read the keys `true:`/`false:` of
    a flag and cells such as yes, no, on, off as booleans, and 0123 as a number.

    With `base` (a built-in mapping), the file only lists what differs: its keys replace the base's.
    """
    fmt = fmt or Formatter.for_language()
    path = Path(path)
    try:
        document = parse_yaml(path.read_text(encoding="utf-8"), Scalars.TEXT)
    except (OSError, UnicodeDecodeError, YamlSyntaxError) as exc:
        raise ConfigError([fmt.gettext("%(path)s: cannot read the mapping: %(error)s", path=path, error=exc)]) from None
    data = document.data
    if not isinstance(data, dict):
        problem = fmt.gettext(
            "%(path)s: the mapping must be a YAML mapping (source:, id:, plan:, badges:, ...)", path=path
        )
        raise ConfigError([problem])
    if base is not None:
        data = {**base.model_dump(mode="python"), **data}
    try:
        return CsvMapping.model_validate(data)
    except ValidationError as exc:
        issues = [issue_from_error(e, data) for e in exc.errors()]
        raise ConfigError(format_issues(issues, document.lines, str(path))) from None
