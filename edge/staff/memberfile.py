"""The member file on disk: read (every problem named by key path and line, like the node config) and written
back atomically. `load_member_file` is the only way in; the model it returns is `edge.staff.members.MemberFile`.
"""

from __future__ import annotations

from pathlib import Path

from edge.config.yaml_io import Scalars, YamlSyntaxError, dump_yaml, parse_yaml
from edge.errors import ConfigError
from edge.files import write_atomic
from edge.staff.members import MemberFile, validate_member_data


def load_member_file(path: str | Path) -> MemberFile:
    """Read and validate a member file; raise ConfigError listing every issue as `path: message (file, line N)`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}"]) from None
    return parse_member_file(text, source=str(path))


def parse_member_file(text: str, *, source: str = "<members>") -> MemberFile:
    """Validate YAML text into a MemberFile.

    Integers are plain decimals only and dates stay text (`edge.config.yaml_io.Scalars.PLAIN_INTS`): an unquoted
    `19:00` is a time, `0123` an id with its leading zero.
    """
    try:
        document = parse_yaml(text, Scalars.PLAIN_INTS)
    except YamlSyntaxError as exc:
        raise ConfigError([exc.located(source)]) from None
    if not isinstance(document.data, dict):
        raise ConfigError([f"{source}: the file must be a YAML mapping (site:, plans:, members:, ...)"])
    return validate_member_data(document.data, source=source, lines=document.lines)


def dump_member_file(members: MemberFile) -> str:
    """Render a member file as YAML that `parse_member_file` reads back to the same model."""
    dumped = members.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return dump_yaml({"site": dumped.pop("site"), "timezone": members.timezone, **dumped})


def save_member_file(path: str | Path, members: MemberFile) -> None:
    """Write a member file atomically (the old file stays whole until the new one is on disk), keeping its mode."""
    path = Path(path)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    write_atomic(path, dump_member_file(members).encode("utf-8"), mode)
