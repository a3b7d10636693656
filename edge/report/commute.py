"""The commuting estimate: what members would have travelled had the space not existed, per mode of transport.

Assumptions are a share of member-days per mode with a one-way distance per mode, given directly or worked out
from a members' survey (distance bands with counts per mode). For each mode the estimate is

    member-days x share x one-way km x 2 x round trips per member-day = km avoided
    km avoided x emission factor (kg CO2e per passenger-km)              = kg CO2e avoided

and the report prints every term so that a funder's analyst can redo it. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from edge.report.factors import FACTORS, NO_TRIP, Factor

SHARE_TOLERANCE = 0.005


@dataclass(frozen=True)
class ModeShare:
    """One mode: the share of member-days that would have used it and its one-way distance (km)."""

    mode: str
    share: float
    one_way_km: float

    def __post_init__(self) -> None:
        if not 0 <= self.share <= 1:
            raise ValueError(f"{self.mode}: a share is between 0 and 1, not {self.share}")
        if self.one_way_km < 0:
            raise ValueError(f"{self.mode}: a distance cannot be negative")


@dataclass(frozen=True)
class SurveyBand:
    """A distance band of a members' survey: its one-way distance (km, the band's middle) and answers per mode."""

    label: str
    one_way_km: float
    answers: Mapping[str, int]


@dataclass(frozen=True)
class Survey:
    """Where the shares come from when a survey was made: its bands, when, and how many answered."""

    bands: tuple[SurveyBand, ...]
    when: str = ""

    @property
    def respondents(self) -> int:
        """Answers over every band."""
        return sum(sum(b.answers.values()) for b in self.bands)

    def shares(self) -> tuple[ModeShare, ...]:
        """Per mode: its share of the answers and its answers' mean one-way distance."""
        total = self.respondents
        if total <= 0:
            raise ValueError("the survey has no answer")
        counts: dict[str, int] = {}
        km: dict[str, float] = {}
        for band in self.bands:
            for mode, n in band.answers.items():
                counts[mode] = counts.get(mode, 0) + n
                km[mode] = km.get(mode, 0.0) + n * band.one_way_km
        return tuple(ModeShare(m, counts[m] / total, km[m] / counts[m] if counts[m] else 0.0) for m in counts)


@dataclass(frozen=True)
class Commute:
    """The site's commuting assumptions: modes (or a survey), round trips per member-day, the site's factors.

    `configured` is False for the built-in default (the page says the site has not set its own).
    """

    modes: tuple[ModeShare, ...] = (ModeShare("car", 1.0, 10.0),)
    round_trips: float = 1.0
    factors: Mapping[str, Factor] = field(default_factory=dict)
    survey: Survey | None = None
    configured: bool = False

    def __post_init__(self) -> None:
        if not self.modes:
            raise ValueError("give at least one mode")
        total = sum(m.share for m in self.modes)
        if abs(total - 1) > SHARE_TOLERANCE:
            raise ValueError(f"the shares of the modes add up to {total:g}, not 1")
        if not 0 < self.round_trips <= 4:
            raise ValueError("round trips per member-day must be more than 0 and at most 4")
        unknown = [m.mode for m in self.modes if m.mode not in FACTORS and m.mode not in self.factors]
        if unknown:
            raise ValueError(
                f"unknown mode {unknown[0]!r}: use one of {', '.join(FACTORS)}, or give its factor in factors"
            )

    @classmethod
    def from_survey(
        cls, survey: Survey, *, round_trips: float = 1.0, factors: Mapping[str, Factor] | None = None
    ) -> Commute:
        """Assumptions whose shares and distances come from a survey."""
        return cls(survey.shares(), round_trips, dict(factors or {}), survey, configured=True)

    def factor(self, mode: str) -> Factor:
        """The factor used for a mode: the site's when given, else the table's."""
        return self.factors.get(mode) or FACTORS[mode]


@dataclass(frozen=True)
class ModeLine:
    """One mode's line of the arithmetic (distance and CO2e are None when member-days are withheld)."""

    mode: str
    share: float
    one_way_km: float
    factor: Factor
    member_days: float | None
    km: float | None
    kg_co2e: float | None

    @property
    def no_trip(self) -> bool:
        """A mode without a trip (worked from home)."""
        return self.mode in NO_TRIP


@dataclass(frozen=True)
class CommuteFigures:
    """The estimate per mode and in total; None totals when member-days are withheld."""

    lines: tuple[ModeLine, ...]
    round_trips: float
    km: float | None
    kg_co2e: float | None


def estimate(member_days: int | None, commute: Commute) -> CommuteFigures:
    """Per mode: member-days x share x one-way km x 2 x round trips, and that times the mode's factor."""
    lines = []
    for m in commute.modes:
        f = commute.factor(m.mode)
        if member_days is None:
            lines.append(ModeLine(m.mode, m.share, m.one_way_km, f, None, None, None))
            continue
        days = member_days * m.share
        km = 0.0 if m.mode in NO_TRIP else days * m.one_way_km * 2 * commute.round_trips
        lines.append(ModeLine(m.mode, m.share, m.one_way_km, f, days, km, km * f.kg_per_km))
    if member_days is None:
        return CommuteFigures(tuple(lines), commute.round_trips, None, None)
    return CommuteFigures(
        tuple(lines),
        commute.round_trips,
        sum(line.km or 0.0 for line in lines),
        sum(line.kg_co2e or 0.0 for line in lines),
    )


def parse_mode(text: str) -> ModeShare:
    """`car=0.6:12` (mode = share : one-way km) -> ModeShare; ValueError saying how to write it."""
    how = 'write a mode as MODE=SHARE:KM, e.g. "car=0.6:12" (60 % of member-days, 12 km one way)'
    mode, sep, rest = text.partition("=")
    share, sep2, km = rest.partition(":")
    if not sep or not mode.strip():
        raise ValueError(f"{text!r}: {how}")
    try:
        return ModeShare(mode.strip(), float(share), float(km) if sep2 else 0.0)
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc if 'share' in str(exc) or 'distance' in str(exc) else how}") from None


def with_overrides(
    commute: Commute, modes: Sequence[ModeShare] = (), factors: Mapping[str, float] | None = None
) -> Commute:
    """The same assumptions with modes and factors given for one report (factors given there have no source)."""
    merged = dict(commute.factors)
    merged.update({mode: Factor(kg) for mode, kg in (factors or {}).items()})
    return Commute(
        modes=tuple(modes) or commute.modes,
        round_trips=commute.round_trips,
        factors=merged,
        survey=None if modes else commute.survey,
        configured=commute.configured or bool(modes),
    )
