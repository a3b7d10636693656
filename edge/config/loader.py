"""Node configs: a node's file into a validated `NodeConfig` (and a network report's file into a
`NetworkReportConfig`) or a list of issues located by key path and line.

The file is read by `edge.config.yaml_io`; `issue_from_error` and `format_issues` name the keys of validation
errors for every YAML file edge reads (node config, member file, mapping files).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from edge.config.base import Issue, iter_secrets, secret_keys
from edge.config.network import NetworkFile, NetworkReportConfig
from edge.config.node import NodeConfig, cross_check
from edge.config.yaml_io import Scalars, YamlSyntaxError, key_path, parse_yaml
from edge.errors import ConfigError

_SECRET_WORDS = ("password", "secret", "key", "token")


# An unknown key gets the "secrets are never written inline" answer only where its `_file` form is a real key.
_SECRET_FILE_KEYS = frozenset(secret_keys(NodeConfig) | secret_keys(NetworkReportConfig))


def load_config(path: str | Path, *, check_secrets: bool = True) -> NodeConfig:
    """Read and validate a node config; raise ConfigError listing every issue as `path (line N): message`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    return parse_config(text, base_dir=path.parent, source=str(path), check_secrets=check_secrets)


def parse_config(
    text: str, *, base_dir: Path | None = None, source: str = "<config>", check_secrets: bool = True
) -> NodeConfig:
    """Validate YAML text into a NodeConfig; relative paths are taken from `base_dir`."""
    try:
        document = parse_yaml(text, Scalars.YAML_1_1)
    except YamlSyntaxError as exc:
        raise ConfigError([exc.located(source)]) from None
    data = document.data
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: the file must be a YAML mapping (site:, node:, ...)"])
    context = {"base_dir": base_dir}
    try:
        config = NodeConfig.model_validate(data, context=context)
    except ValidationError as exc:
        issues = [issue_from_error(err, data) for err in exc.errors()]
        raise ConfigError(format_issues(issues, document.lines, source)) from None
    issues = cross_check(config)
    if check_secrets:
        issues.extend(_secret_issues(config))
    if issues:
        raise ConfigError(format_issues(issues, document.lines, source))
    return config


def load_network_config(path: str | Path, *, check_secrets: bool = True) -> NetworkReportConfig:
    """Read and validate a network report's file (`network:`); ConfigError listing every issue with its line."""
    path = Path(path)
    source = str(path)
    try:
        document = parse_yaml(path.read_text(encoding="utf-8"), Scalars.YAML_1_1)
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    except YamlSyntaxError as exc:
        raise ConfigError([exc.located(source)]) from None
    data = document.data
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: the file must be a YAML mapping (network:)"])
    try:
        config = NetworkFile.model_validate(data, context={"base_dir": path.parent})
    except ValidationError as exc:
        issues = [issue_from_error(err, data) for err in exc.errors()]
        raise ConfigError(format_issues(issues, document.lines, source)) from None
    issues = _secret_issues(config) if check_secrets else []
    if issues:
        raise ConfigError(format_issues(issues, document.lines, source))
    return config.network


def _secret_issues(config: BaseModel) -> list[Issue]:
    issues = []
    for where, file in iter_secrets(config):
        if not file.is_file():
            issues.append(Issue(where, f"secret file {file} does not exist"))
        elif not os.access(file, os.R_OK):
            issues.append(Issue(where, f"secret file {file} is not readable by this user"))
    return issues


def issue_from_error(err: Any, data: Any) -> Issue:
    """Turn one pydantic error into an Issue whose path is the key as written in the file."""
    kind = err["type"]
    loc = _data_path(err["loc"], data, keep_last=kind == "missing")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        # A discriminated union (e.g. `type:` of a reader): name the key itself, as for any other field.
        ctx = err.get("ctx") or {}
        key = str(ctx.get("discriminator", "type")).strip("'")
        path = key_path([*loc, key])
        if kind == "union_tag_not_found":
            return Issue(path, "required key is missing")
        return Issue(path, f"unknown {key} {ctx.get('tag')!r} (expected one of {ctx.get('expected_tags')})")
    path = key_path(loc)
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else ""
        if any(word in name.lower() for word in _SECRET_WORDS) and f"{name}_file" in _SECRET_FILE_KEYS:
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


Lines = Mapping[str, int] | Callable[[], Mapping[str, int]]
"""The line of each key path, or how to work it out (`YamlDocument.lines`) when there is an issue to place."""


def format_issues(issues: list[Issue], lines: Lines, source: str) -> list[str]:
    """Each issue as `key.path: message (source, line N)`; the line is the nearest known one up the key path."""
    if not issues:
        return []
    index = lines() if callable(lines) else lines
    out = []
    for issue in issues:
        line = _nearest_line(issue.path, index)
        where = f" ({source}, line {line})" if line else ""
        out.append(f"{issue.path}: {issue.message}{where}")
    return out


def _nearest_line(path: str, lines: Mapping[str, int]) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            break
        path = path[:cut]
    return lines.get(path)
