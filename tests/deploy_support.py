"""Checks shared by the deployment tests: a udev rules parser strict enough to catch malformed rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MATCH_OPS = ("==", "!=")
_ASSIGN_OPS = ("=", "+=", "-=", ":=")
# Keys udev accepts; `{attr}` keys take an attribute name. Only what rules like ours can use.
_MATCH_KEYS = {
    "ACTION",
    "DEVPATH",
    "KERNEL",
    "KERNELS",
    "NAME",
    "SYMLINK",
    "SUBSYSTEM",
    "SUBSYSTEMS",
    "DRIVER",
    "DRIVERS",
    "TAG",
    "TAGS",
    "TEST",
    "PROGRAM",
    "RESULT",
}
_ATTR_MATCH_KEYS = {"ATTR", "ATTRS", "ENV", "SYSCTL", "CONST"}
_ASSIGN_KEYS = {"NAME", "SYMLINK", "OWNER", "GROUP", "MODE", "TAG", "RUN", "LABEL", "GOTO", "IMPORT", "OPTIONS"}
_ATTR_ASSIGN_KEYS = {"ENV", "ATTR", "SYSCTL", "IMPORT", "RUN"}
_PAIR = re.compile(r'\s*(?P<key>[A-Z_]+)(?:\{(?P<attr>[^}]+)\})?\s*(?P<op>==|!=|\+=|-=|:=|=)\s*"(?P<value>[^"]*)"\s*')


@dataclass(frozen=True)
class UdevRule:
    """One parsed rule: its match and assignment pairs as (key, attribute, operator, value)."""

    line: int
    matches: tuple[tuple[str, str | None, str, str], ...]
    assignments: tuple[tuple[str, str | None, str, str], ...]

    def value(self, key: str, attr: str | None = None) -> str | None:
        """The value a rule matches or assigns for a key, if any."""
        for k, a, _op, v in self.matches + self.assignments:
            if (k, a) == (key, attr):
                return v
        return None


def parse_udev_rules(text: str) -> list[UdevRule]:
    """Parse udev rules the way udev splits them; raise ValueError naming the line for anything malformed."""
    rules = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        matches, assignments = [], []
        for part in _split_pairs(line, number):
            found = _PAIR.fullmatch(part)
            if not found:
                raise ValueError(f"line {number}: cannot parse {part.strip()!r}")
            key, attr, op, value = found["key"], found["attr"], found["op"], found["value"]
            if op in _MATCH_OPS:
                if key not in (_ATTR_MATCH_KEYS if attr else _MATCH_KEYS):
                    raise ValueError(f"line {number}: {key} cannot be matched{' with {...}' if attr else ''}")
                matches.append((key, attr, op, value))
            else:
                if key not in (_ATTR_ASSIGN_KEYS if attr else _ASSIGN_KEYS):
                    raise ValueError(f"line {number}: {key} cannot be assigned")
                if key == "MODE" and not re.fullmatch(r"0[0-7]{3}", value):
                    raise ValueError(f"line {number}: MODE must be four octal digits")
                assignments.append((key, attr, op, value))
        if not matches or not assignments:
            raise ValueError(f"line {number}: a rule needs at least one match and one assignment")
        rules.append(UdevRule(number, tuple(matches), tuple(assignments)))
    return rules


def _split_pairs(line: str, number: int) -> list[str]:
    """Split on commas outside quotes."""
    parts, current, quoted = [], "", False
    for char in line:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    if quoted:
        raise ValueError(f"line {number}: unterminated quote")
    parts.append(current)
    return parts
