"""The only YAML reader: turns a node's file into a validated `NodeConfig` (and a network report's file into a
`NetworkReportConfig`), or a list of located issues."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from edge.config.base import Issue, iter_secrets
from edge.config.network import NetworkFile, NetworkReportConfig
from edge.config.node import NodeConfig, cross_check
from edge.errors import ConfigError

_SECRET_WORDS = ("password", "secret", "key", "token")
M = TypeVar("M", bound=BaseModel)


def load_config(path: str | Path, *, check_secrets: bool = True) -> NodeConfig:
    """Read and validate a node config; raise ConfigError listing every issue as `path (line N): message`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    return parse_config(text, base_dir=path.parent, source=str(path), check_secrets=check_secrets)


def _read_yaml(text: str, source: str, expected: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The YAML mapping in `text` and the line of each key path; ConfigError when it is not a mapping."""
    try:
        root_node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError([f"{source}{where}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: the file must be a YAML mapping ({expected})"])
    return data, line_index(root_node)


def _validate(model: type[M], data: dict[str, Any], lines: dict[str, int], source: str, base_dir: Path | None) -> M:
    try:
        return model.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        issues = [issue_from_error(err, data) for err in exc.errors()]
        raise ConfigError(format_issues(issues, lines, source)) from None


def load_network_config(path: str | Path, *, check_secrets: bool = True) -> NetworkReportConfig:
    """Read and validate a network report's file (`network:`); ConfigError listing every issue with its line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    data, lines = _read_yaml(text, str(path), "network:")
    config = _validate(NetworkFile, data, lines, str(path), path.parent)
    issues = _secret_issues(config) if check_secrets else []
    if issues:
        raise ConfigError(format_issues(issues, lines, str(path)))
    return config.network


def parse_config(
    text: str, *, base_dir: Path | None = None, source: str = "<config>", check_secrets: bool = True
) -> NodeConfig:
    """Validate YAML text into a NodeConfig; relative paths are taken from `base_dir`."""
    data, lines = _read_yaml(text, source, "site:, node:, ...")
    config = _validate(NodeConfig, data, lines, source, base_dir)
    issues = cross_check(config)
    if check_secrets:
        issues.extend(_secret_issues(config))
    if issues:
        raise ConfigError(format_issues(issues, lines, source))
    return config


def _secret_issues(config: BaseModel) -> list[Issue]:
    issues = []
    for key_path, file in iter_secrets(config):
        if not file.is_file():
            issues.append(Issue(key_path, f"secret file {file} does not exist"))
        elif not os.access(file, os.R_OK):
            issues.append(Issue(key_path, f"secret file {file} is not readable by this user"))
    return issues


def issue_from_error(err: Any, data: Any) -> Issue:
    """Turn one pydantic error into an Issue whose path is the key as written in the file."""
    kind = err["type"]
    loc = _data_path(err["loc"], data, keep_last=kind == "missing")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        # A discriminated union (e.g. `type:` of a reader): name the key itself, as for any other field.
        ctx = err.get("ctx") or {}
        key = str(ctx.get("discriminator", "type")).strip("'")
        path = _render([*loc, key])
        if kind == "union_tag_not_found":
            return Issue(path, "required key is missing")
        return Issue(path, f"unknown {key} {ctx.get('tag')!r} (expected one of {ctx.get('expected_tags')})")
    path = _render(loc)
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else ""
        if any(word in name.lower() for word in _SECRET_WORDS) and not name.endswith("_file"):
            return Issue(path, f"secrets are never written inline: put it in a file and use {name}_file")
        return Issue(path, "unknown key")
    if kind == "missing":
        return Issue(path, "required key is missing")
    message = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return Issue(path, message)


def _data_path(loc: Sequence[Any], data: Any, *, keep_last: bool = True) -> list[str | int]:
    """Drop the union/discriminator tags pydantic adds to a location, keeping the keys that are in the file."""
    out: list[str | int] = []
    current = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(current, dict):
            if part in current:
                out.append(part)
                current = current[part]
            elif (last and keep_last) or not isinstance(part, str):
                out.append(part)
                current = None
            # else: a tag pydantic added (a union member's name): not a key of the file
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            out.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, str):
            continue
        else:
            out.append(part)
            current = None
    return out


def _render(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def line_index(node: yaml.Node | None) -> dict[str, int]:
    """Map every key path in the document to its 1-based line number."""
    index: dict[str, int] = {}

    def walk(current: yaml.Node, path: list[str | int]) -> None:
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                sub = [*path, key.value]
                index[_render(sub)] = key.start_mark.line + 1
                walk(value, sub)
        elif isinstance(current, yaml.SequenceNode):
            for position, item in enumerate(current.value):
                sub = [*path, position]
                index[_render(sub)] = item.start_mark.line + 1
                walk(item, sub)

    if node is not None:
        walk(node, [])
    return index


def format_issues(issues: list[Issue], lines: dict[str, int], source: str) -> list[str]:
    out = []
    for issue in issues:
        line = _nearest_line(issue.path, lines)
        where = f" ({source}, line {line})" if line else ""
        out.append(f"{issue.path}: {issue.message}{where}")
    return out


def _nearest_line(path: str, lines: dict[str, int]) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            break
        path = path[:cut]
    return lines.get(path)
