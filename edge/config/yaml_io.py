"""The one place edge reads and writes YAML: node configs, the member file, CSV mapping files.

`parse_yaml` reads a document with the scalar rules of its kind of file (`Scalars`) and keeps the text, so that
the line of every key path (`YamlDocument.lines`) is worked out only when there is a problem to report: on a
10,000-member file the index is 70,000 entries that a good file never needs. Key paths are spelled by
`key_path`, as `edge.config.loader` names the keys of validation errors (`members[3].badges[0]`).
"""

from __future__ import annotations

import contextlib
import enum
import gc
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_INT = "tag:yaml.org,2002:int"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class Scalars(enum.Enum):
    """How unquoted scalars are read, per kind of file."""

    YAML_1_1 = "yaml-1.1"
    """PyYAML's safe rules (YAML 1.1): node configs, whose models turn a base-60 `18:00` back into a time."""

    PLAIN_INTS = "plain-ints"
    """The member file's: integers are plain decimals only, so `19:00`, `0123` and `1_000` stay text (str() of any
    int gives back what was written), and dates stay text for pydantic to read (it names the key of 2026-02-30)."""

    TEXT = "text"
    """Mapping files': every scalar is text but null, since keys and values are column names and cells (`true:`,
    `yes`, `0123`); pydantic turns the text of the few real booleans into booleans itself."""


def _loader(name: str, keep: Any, extra: Sequence[tuple[str, re.Pattern[str], str]] = ()) -> type[yaml.SafeLoader]:
    resolvers = {
        first: [(tag, regexp) for tag, regexp in found if keep(tag)]
        for first, found in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    loader: type[yaml.SafeLoader] = type(name, (_BASE_LOADER,), {"yaml_implicit_resolvers": resolvers})
    for tag, regexp, first in extra:
        loader.add_implicit_resolver(tag, regexp, list(first))
    return loader


_LOADERS: dict[Scalars, type[yaml.SafeLoader]] = {
    Scalars.YAML_1_1: _BASE_LOADER,
    Scalars.PLAIN_INTS: _loader(
        "PlainIntsLoader",
        lambda tag: tag not in (_INT, _TIMESTAMP),
        [(_INT, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), "-+0123456789")],
    ),
    Scalars.TEXT: _loader("TextLoader", lambda tag: tag == _NULL),
}


class YamlSyntaxError(ValueError):
    """Text that is not YAML; `line` (1-based) is where the parser stopped, when it knows."""

    def __init__(self, problem: str, line: int | None) -> None:
        super().__init__(f"line {line}: {problem}" if line else problem)
        self.problem = problem
        self.line = line

    def located(self, source: str) -> str:
        """The message as config errors spell it: `source (line N): not valid YAML: problem`."""
        where = f" (line {self.line})" if self.line else ""
        return f"{source}{where}: not valid YAML: {self.problem}"


@dataclass
class YamlDocument:
    """A parsed document: its data, and the line of each key path on demand (`lines`)."""

    data: Any
    text: str
    scalars: Scalars
    _lines: dict[str, int] | None = field(default=None, repr=False)

    def lines(self) -> dict[str, int]:
        """Map every key path of the document to its 1-based line; built once, the first time it is asked for."""
        if self._lines is None:
            loader = _LOADERS[self.scalars](self.text)
            try:
                with collector_paused():
                    self._lines = line_index(loader.get_single_node())
            finally:
                loader.dispose()
        return self._lines


def parse_yaml(text: str, scalars: Scalars) -> YamlDocument:
    """Parse one YAML document (safe tags only) with the given scalar rules; raise YamlSyntaxError otherwise."""
    loader = _LOADERS[scalars](text)
    try:
        with collector_paused():
            data = loader.get_single_data()
    except (yaml.YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        raise YamlSyntaxError(str(getattr(exc, "problem", None) or exc), mark.line + 1 if mark else None) from None
    finally:
        loader.dispose()
    return YamlDocument(data, text, scalars)


def dump_yaml(data: Any, *, width: int = 120) -> str:
    """Render plain data (dicts, lists, text, numbers, booleans, None) as block YAML, keys in their given order."""
    with collector_paused():
        text: str = yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=width)
    return text


def key_path(parts: Sequence[str | int]) -> str:
    """A key path as messages spell it: `members[3].badges[0]`; `(top level)` for the document itself."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def line_index(node: yaml.Node | None) -> dict[str, int]:
    """Map every key path under a composed node to its 1-based line number."""
    index: dict[str, int] = {}

    def walk(current: yaml.Node, path: list[str | int]) -> None:
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                sub = [*path, key.value]
                index[key_path(sub)] = key.start_mark.line + 1
                walk(value, sub)
        elif isinstance(current, yaml.SequenceNode):
            for position, item in enumerate(current.value):
                sub = [*path, position]
                index[key_path(sub)] = item.start_mark.line + 1
                walk(item, sub)

    if node is not None:
        walk(node, [])
    return index


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large document is read or written (it runs again after).

    A large document allocates tens of thousands of objects that all survive, so the collector runs again and
    again over them to find nothing: half of the parse time of a 10,000-member file. What a parse or a dump
    makes is freed by reference counting.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
