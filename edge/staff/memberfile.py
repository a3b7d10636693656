"""The member file on disk: read (every problem named by key path and line, like the node config) and written
back atomically. `load_member_file` is the only way in; the model it returns is `edge.staff.members.MemberFile`.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from edge.config.loader import line_index
from edge.errors import ConfigError
from edge.files import write_atomic
from edge.staff.members import MemberFile, validate_member_data

_INT = "tag:yaml.org,2002:int"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML whose integers are plain decimals (YAML 1.1 reads an unquoted 19:00 as 1140) and dates text."""


# Dates stay text too: pydantic reads them and names the key of an impossible date such as 2026-02-30.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT, "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# Only plain decimal integers: `0123` and `1_000` stay strings, so str() of any int gives back what was written.
_Loader.add_implicit_resolver(_INT, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789"))


def load_member_file(path: str | Path) -> MemberFile:
    """Read and validate a member file; raise ConfigError listing every issue as `path: message (file, line N)`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}"]) from None
    return parse_member_file(text, source=str(path))


def parse_member_file(text: str, *, source: str = "<members>") -> MemberFile:
    """Validate YAML text into a MemberFile."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except (yaml.YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError([f"{source}{where}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: the file must be a YAML mapping (site:, plans:, members:, ...)"])
    return validate_member_data(data, source=source, lines=line_index(node))


def dump_member_file(members: MemberFile) -> str:
    """Render a member file as YAML that `parse_member_file` reads back to the same model."""
    dumped = members.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data = {"site": dumped.pop("site"), "timezone": members.timezone, **dumped}
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text: str = yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=120)
    return text


def save_member_file(path: str | Path, members: MemberFile) -> None:
    """Write a member file atomically (the old file stays whole until the new one is on disk), keeping its mode."""
    path = Path(path)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    write_atomic(path, dump_member_file(members).encode("utf-8"), mode)
