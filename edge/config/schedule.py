"""Weekly schedules in config files: parsed once, at load, into `edge.schedule.Schedule`, errors naming the key.

A schedule is `always`, `never`, one line of items separated by `;`, or a list of items. An item is text
(`mon-fri 08:00-19:00`, `closed 2026-12-25`) or the mapping form `{days: mon-fri, from: "08:00", to: "19:00"}`
(`start`/`end` are the same as `from`/`to`); errors inside a mapping name its key (`...schedule[1].days`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetPydanticSchema,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import core_schema

from edge.config.base import StrictModel
from edge.schedule import (
    ALWAYS,
    NEVER,
    Schedule,
    format_time,
    merge,
    parse_days,
    parse_item,
    parse_schedule,
    parse_time,
    window_from,
)

_HOW = 'write always, never, or a list of windows such as "mon-fri 08:00-19:00"'


def _text_time(value: Any) -> str:
    # YAML 1.1 reads an unquoted 18:00 as the base-60 number 1080, and 24:00 as 1440: turn them back.
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= 1440:
            raise ValueError(f'{value} is not a time of day; write HH:MM, e.g. "08:30"')
        return format_time(value)
    if not isinstance(value, str):
        raise ValueError(f'{value!r} is not a time of day; write HH:MM, e.g. "08:30"')
    return value


def _days(value: Any) -> frozenset[int]:
    if isinstance(value, (str, list, tuple)):
        return parse_days(value)
    raise ValueError(f"{value!r} is not a day; write days as mon, tue, ... or a range mon-fri")


def _opening(value: Any) -> int:
    return parse_time(_text_time(value))


def _closing(value: Any) -> int:
    return parse_time(_text_time(value), end=True)


class WindowEntry(StrictModel):
    """The mapping form of one window: `{days: mon-fri, from: "08:00", to: "19:00"}` (or `start`, `end`)."""

    days: Annotated[frozenset[int], BeforeValidator(_days)]
    start: Annotated[int, BeforeValidator(_opening)] = Field(validation_alias=AliasChoices("from", "start"))
    end: Annotated[int, BeforeValidator(_closing)] = Field(validation_alias=AliasChoices("to", "end"))

    @model_validator(mode="before")
    @classmethod
    def _one_spelling(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for first, second in (("from", "start"), ("to", "end")):
                if first in data and second in data:
                    raise ValueError(f"give {first} or {second}, not both (they are the same key)")
        return data

    @model_validator(mode="after")
    def _not_empty(self) -> WindowEntry:
        window_from(self.days, self.start, self.end)
        return self

    def schedule(self) -> Schedule:
        """The window as a one-window schedule."""
        return Schedule((window_from(self.days, self.start, self.end),))


def _entry(value: Any, handler: ValidatorFunctionWrapHandler) -> Schedule:
    if isinstance(value, str):
        return parse_item(value)
    if isinstance(value, Mapping):
        entry: WindowEntry = handler(value)
        return entry.schedule()
    raise ValueError(f'{value!r} is not a window; write it as text such as "mon-fri 08:00-19:00" or {{days, from, to}}')


_Entry = Annotated[WindowEntry, WrapValidator(_entry)]


def _schedule(value: Any, handler: ValidatorFunctionWrapHandler) -> Schedule:
    if isinstance(value, Schedule):
        return value
    if isinstance(value, str):
        return parse_schedule(value)
    if isinstance(value, (list, tuple)):
        if [str(item).strip().lower() for item in value] == ["never"]:
            return NEVER
        parts: tuple[Schedule, ...] = handler(value)
        return merge(parts)
    raise ValueError(_HOW)


def dump_schedule(schedule: Schedule) -> str | list[str]:
    """What a config file holds for a schedule: `always`, or its text items (`[]` for never)."""
    return "always" if schedule == ALWAYS else schedule.items()


def _core_schema(source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
    return core_schema.no_info_wrap_validator_function(
        _schedule,
        handler.generate_schema(tuple[_Entry, ...]),
        serialization=core_schema.plain_serializer_function_ser_schema(dump_schedule),
    )


ScheduleField = Annotated[Schedule, GetPydanticSchema(_core_schema)]
"""A weekly schedule in a config file (docs/configuration.md, "Weekly schedules")."""
