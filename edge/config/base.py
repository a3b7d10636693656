"""Building blocks every config section uses: strict frozen models and the typed leaves that cross-checks find.

A section marks a field with one of the annotated types below (`GpioPin`, `SerialDevice`) and the root
checks that no two fields anywhere in the file claim the same pin or device, without the section writing
any code for it. A section with a rule of its own defines `cross_check(root)` returning `Issue`s.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

T = TypeVar("T")


class StrictModel(BaseModel):
    """Immutable model that refuses unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


@dataclass(frozen=True)
class Claim:
    """Marks a field whose value is an exclusive resource (a GPIO pin, a serial device)."""

    resource: str


@dataclass(frozen=True)
class Issue:
    """One problem found in a config: where (key path) and what."""

    path: str
    message: str


_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")
_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def http_url(value: str) -> str:
    """An http:// or https:// URL, without its trailing slash (ValueError otherwise)."""
    if not _URL.match(value):
        raise ValueError("must be an http:// or https:// URL such as http://influx.local:8086")
    return value.rstrip("/")


def central_url(value: str, password: str) -> str:
    """The central store's URL: https://, or http:// to this host only, since `password` travels with each request."""
    if not _URL.match(value):
        raise ValueError("must be an https:// URL such as https://central.example.org:8427")
    host = urllib.parse.urlsplit(value).hostname or ""
    if value.startswith("http://") and host not in _LOOPBACK:
        raise ValueError(
            f"must be https:// ({password} travels with every request); http:// is only for a central store on "
            "this host (127.0.0.1, localhost)"
        )
    return value.rstrip("/")


def _check_name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            "must be 1-48 characters of lower-case letters, digits, '-' or '_' (it is used in MQTT topics)"
        )
    return value


def _check_pin(value: int) -> int:
    if not 0 <= value <= 27:
        raise ValueError(f"GPIO {value} does not exist on the 40-pin header (BCM numbers 0-27)")
    return value


def _check_device(value: str) -> str:
    if not (value.startswith("/") or "://" in value):
        raise ValueError("must be an absolute device path (e.g. /dev/ttyAMA0) or a pyserial URL")
    return value


Name = Annotated[str, AfterValidator(_check_name)]
"""An identifier that appears in MQTT topics: doors, readers, desks, zones, nodes, sites."""

GpioPin = Annotated[int, AfterValidator(_check_pin), Claim("GPIO")]
"""A BCM GPIO number that only one field of the node may use."""

SerialDevice = Annotated[str, AfterValidator(_check_device), Claim("serial device")]
"""A serial port that only one field of the node may use."""


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Paris)") from None
    return value


TimeZoneName = Annotated[str, AfterValidator(_check_timezone)]
"""An IANA time zone name, such as Europe/Paris."""

PositiveSeconds = Annotated[float, Field(gt=0, le=86_400)]
"""A duration in seconds, more than zero and at most a day."""


@dataclass(frozen=True)
class Secret:
    """Marks a field that names a file holding a secret; the loader checks the file can be read."""


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    value = value.expanduser()
    base = (info.context or {}).get("base_dir")
    if not value.is_absolute() and base is not None:
        value = Path(base) / value
    return value


FilePath = Annotated[Path, AfterValidator(_resolve_path)]
"""A path; relative paths are taken relative to the config file's folder."""

SecretFile = Annotated[Path, AfterValidator(_resolve_path), Secret()]
"""Path to a file holding a secret; the secret itself is never written in the YAML file."""


def read_secret(path: Path) -> bytes:
    """Read a secret file, stripped of surrounding whitespace."""
    return path.read_bytes().strip()


def iter_secrets(model: BaseModel, path: str = "") -> Iterator[tuple[str, Path]]:
    """Yield (key path, file) for every secret-file field in a model tree."""
    for section_path, section in iter_sections(model, path):
        for name, field in type(section).model_fields.items():
            value = getattr(section, name)
            if isinstance(value, Path) and find_marker(field.annotation, field.metadata, Secret) is not None:
                yield (f"{section_path}.{name}" if section_path else name), value


def secret_keys(model: type[BaseModel]) -> set[str]:
    """The names of the secret-file keys `model` or any model type inside it accepts (password_file, ...)."""
    keys: set[str] = set()
    seen: set[type[BaseModel]] = set()
    todo = [model]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for name, field in current.model_fields.items():
            if find_marker(field.annotation, field.metadata, Secret) is not None:
                keys.add(name)
            todo += _model_types(field.annotation)
    return keys


def _model_types(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _model_types(arg)]


def find_marker(annotation: Any, metadata: list[Any], kind: type[T]) -> T | None:
    """The first `kind` marker on a field: in its metadata or inside Optional/Union/tuple/Annotated arguments."""
    for item in metadata:
        if isinstance(item, kind):
            return item
    if get_origin(annotation) is Annotated:
        args = get_args(annotation)
        return find_marker(args[0], list(args[1:]), kind)
    for arg in get_args(annotation):
        found = find_marker(arg, [], kind)
        if found is not None:
            return found
    return None


def iter_claims(model: BaseModel, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """Yield (key path, resource kind, value) for every claimed field in a model tree."""
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        here = f"{path}.{name}" if path else name
        claim = find_marker(field.annotation, field.metadata, Claim)
        if claim is not None and isinstance(value, (int, str)):
            yield here, claim.resource, value
        elif claim is not None and isinstance(value, (tuple, list)) and all(isinstance(v, (int, str)) for v in value):
            for index, item in enumerate(value):
                yield f"{here}[{index}]", claim.resource, item
        else:
            yield from _iter_value(value, here)


def _iter_value(value: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    if isinstance(value, BaseModel):
        yield from iter_claims(value, path)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _iter_value(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _iter_value(item, f"{path}.{key}")


def iter_sections(model: BaseModel, path: str = "") -> Iterator[tuple[str, BaseModel]]:
    """Yield (key path, model) for every nested model, depth first, the root included."""
    yield path, model
    for name in type(model).model_fields:
        value = getattr(model, name)
        here = f"{path}.{name}" if path else name
        items: list[tuple[str, Any]]
        if isinstance(value, BaseModel):
            items = [(here, value)]
        elif isinstance(value, (list, tuple)):
            items = [(f"{here}[{i}]", v) for i, v in enumerate(value)]
        elif isinstance(value, dict):
            items = [(f"{here}.{k}", v) for k, v in value.items()]
        else:
            items = []
        for sub_path, sub in items:
            if isinstance(sub, BaseModel):
                yield from iter_sections(sub, sub_path)
