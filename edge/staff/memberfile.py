"""The member file on disk: read (every problem named by key path and line, like the node config) and written
back atomically. `load_member_file` is the only way in; the model it returns is `edge.staff.members.MemberFile`.

A 10,000-member file is read in about half a second and written in a fraction of that: the line index error
messages need is built only when there is an error and the garbage collector is paused while the many small
objects of a parse or a dump are made (`edge.config.yaml_io`), and `dump_member_file` reuses the text of members
that did not change since the last dump it was given a cache for.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from pathlib import Path

from edge.config.yaml_io import Scalars, YamlSyntaxError, collector_paused, dump_yaml, parse_yaml
from edge.errors import ConfigError
from edge.files import write_atomic
from edge.staff.members import Member, MemberFile, validate_member_data


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


def dump_member_file(members: MemberFile, cache: MutableMapping[Member, str] | None = None) -> str:
    """Render a member file as YAML that `parse_member_file` reads back to the same model.

    With `cache` (kept by the caller between saves), each member's text is taken from it when that member did
    not change; the cache is refilled with exactly this file's members.
    """
    with collector_paused():
        head = members.model_dump(mode="json", by_alias=True, exclude_defaults=True, exclude={"members"})
        text = dump_yaml({"site": head.pop("site"), "timezone": members.timezone, **head})
        if not members.members:
            return text
        # The members are a block sequence at the top level of the "members:" key: each item dumps on its own to
        # the very text the whole document would have.
        known = dict(cache) if cache is not None else {}
        missing = [m for m in members.members if m not in known]
        known.update(zip(missing, _member_texts(missing), strict=True))
        if cache is not None:
            cache.clear()
            cache.update((m, known[m]) for m in members.members)
        return "".join([text, "members:\n", *(known[m] for m in members.members)])


_ITEM = re.compile(r"^(?=- )", re.MULTILINE)


def _member_texts(members: list[Member]) -> list[str]:
    """Each member's YAML text as an item of the file's `members:` sequence, from one dump of them all."""
    if not members:
        return []
    dumped = [m.model_dump(mode="json", by_alias=True, exclude_defaults=True) for m in members]
    text = dump_yaml(dumped)
    # Block style: each item starts with "- " at the start of a line, and nothing else does (nested lines are
    # indented); a count that does not match would be a surprise of the emitter, so dump those one by one.
    items = [item for item in _ITEM.split(text) if item]
    if len(items) == len(members):
        return items
    return [dump_yaml([data]) for data in dumped]


def save_member_file(path: str | Path, members: MemberFile) -> None:
    """Write a member file atomically (the old file stays whole until the new one is on disk), keeping its mode."""
    path = Path(path)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    write_atomic(path, dump_member_file(members).encode("utf-8"), mode)
