"""InfluxDB line protocol: one `Point` type and its encoding, byte-for-byte what influxdb-client's Point writes.

Encoding here instead of through `influxdb_client.Point` keeps the hot path cheap (no date helpers, no
per-call type sniffing) and makes every line a pure function of its point. Tags and fields are written sorted by
key, so equal points always give equal lines (idempotent writes depend on it).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

FieldValue = int | float | bool | str

_ESCAPE_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"})
_ESCAPE_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"})
_ESCAPE_STRING = str.maketrans({'"': r"\"", "\\": r"\\"})


@dataclass(frozen=True, slots=True)
class Point:
    """One InfluxDB point: measurement, tag set, field set and a timestamp in nanoseconds."""

    measurement: str
    tags: dict[str, str]
    fields: dict[str, FieldValue]
    time_ns: int

    def series_key(self) -> str:
        """Measurement and tag set: two points with the same key and time are the same point in InfluxDB."""
        return encode_series(self.measurement, self.tags)

    def line(self) -> str:
        """The point as one line of line protocol (without newline); empty when it has no usable field."""
        fields = encode_fields(self.fields)
        if not fields:
            return ""
        return f"{encode_series(self.measurement, self.tags)} {fields} {self.time_ns}"


def encode_series(measurement: str, tags: dict[str, str]) -> str:
    """`measurement,tag=value,...` with tags sorted by key; tags with an empty key or value are left out."""
    return _series(measurement, tuple(tags.items()))


@functools.lru_cache(maxsize=4096)
def _series(measurement: str, items: tuple[tuple[str, str], ...]) -> str:
    # Cached: a site has a few hundred series, and every event of one desk or door repeats its series.
    parts = [measurement.translate(_ESCAPE_MEASUREMENT)]
    for key, value in sorted(items):
        k = key.translate(_ESCAPE_KEY)
        v = value.translate(_ESCAPE_KEY)
        if v.endswith("\\"):
            v += " "
        if k and v:
            parts.append(f"{k}={v}")
    return ",".join(parts)


def encode_fields(fields: dict[str, FieldValue]) -> str:
    """`field=value,...` sorted by key; integers get the `i` suffix, non-finite floats are left out."""
    out = []
    for key, value in sorted(fields.items()):
        k = key.translate(_ESCAPE_KEY)
        if isinstance(value, bool):
            out.append(f"{k}={'true' if value else 'false'}")
        elif isinstance(value, int):
            out.append(f"{k}={value}i")
        elif isinstance(value, float):
            if not math.isfinite(value):
                continue
            text = str(value)
            out.append(f"{k}={text[:-2] if text.endswith('.0') else text}")
        else:
            out.append(f'{k}="{value.translate(_ESCAPE_STRING)}"')
    return ",".join(out)
