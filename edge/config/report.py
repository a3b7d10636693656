"""The report section: what the funders' report assumes for this site (commuting, small counts).

    report:
      min_count: 5                 # counts of people from 1 to 4 are withheld
      commute:
        modes:                     # share of member-days per mode and its one-way distance (km) ...
          car: {share: 0.5, km: 14}
          train_ter: {share: 0.2, km: 30}
          bike: {share: 0.15, km: 4}
          home: {share: 0.15}      # would have worked from home: nothing avoided
        # ... or a members' survey: distance bands (one-way km) with answers per mode
        # survey: {when: "2026-03", bands: [{km: 0-5, answers: {walk: 4, bike: 9}}, {km: 5-20, answers: {car: 12}}]}
        round_trips: 1             # round trips per member-day
        factors:                   # the site's own emission factors (kg CO2e per passenger-km)
          car: {kg_co2e_per_km: 0.19, source: "our fleet survey 2025"}

Modes are those of `edge.report.factors.FACTORS`, or a mode of the site's own given in `factors`. Errors name
the key (`report.commute.modes.car.share`); the shares must add up to 1.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated

from pydantic import BeforeValidator, Field, field_validator, model_validator

from edge.config.base import Issue, Name, StrictModel
from edge.report.commute import SHARE_TOLERANCE, Commute, ModeShare, Survey, SurveyBand
from edge.report.factors import FACTORS, NO_TRIP, Factor

if TYPE_CHECKING:
    from edge.config.node import NodeConfig

Km = Annotated[float, Field(ge=0, le=1000)]
_BAND = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*-\s*(\d+(?:[.,]\d+)?)\s*$")


class ModeConfig(StrictModel):
    """One mode: its share of member-days and its one-way distance (not needed for `home`)."""

    share: float = Field(ge=0, le=1)
    km: Km = 0.0


class FactorConfig(StrictModel):
    """A site's own emission factor; without `source` the report says "figure given by the site"."""

    kg_co2e_per_km: float = Field(ge=0, le=5)
    source: str | None = Field(default=None, min_length=1, max_length=300)
    year: int | None = Field(default=None, ge=1990, le=2100)


def band_km(value: float | str) -> float:
    """A band's one-way distance: a number, or the middle of a range `5-15`; ValueError saying how to write it."""
    if isinstance(value, (int, float)):
        return float(value)
    match = _BAND.match(value)
    if not match:
        raise ValueError(f"{value!r}: write a distance band as a range of km, e.g. 5-15, or one number")
    low, high = (float(part.replace(",", ".")) for part in match.groups())
    if high < low:
        raise ValueError(f"{value!r}: the band ends before it starts")
    return (low + high) / 2


class BandConfig(StrictModel):
    """A survey's distance band (one-way km: `5-15`, or a number) and its answers per mode."""

    km: float | str
    answers: dict[Name, Annotated[int, Field(ge=0)]]

    @field_validator("km")
    @classmethod
    def _distance(cls, value: float | str) -> float | str:
        km = band_km(value)
        if not 0 <= km <= 1000:
            raise ValueError("a one-way distance is between 0 and 1000 km")
        return value


class SurveyConfig(StrictModel):
    """A members' survey: its distance bands and when it was made (printed in the report)."""

    when: Annotated[str, BeforeValidator(str)] = Field(default="", max_length=40)  # YAML reads 2026-03-01 as a date
    bands: tuple[BandConfig, ...]


class CommuteConfig(StrictModel):
    """The commuting assumptions: modes with shares and distances, or a survey; round trips; the site's factors."""

    modes: dict[Name, ModeConfig] | None = None
    survey: SurveyConfig | None = None
    round_trips: float = Field(default=1.0, gt=0, le=4)
    factors: dict[Name, FactorConfig] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> CommuteConfig:
        if (self.modes is None) == (self.survey is None):
            raise ValueError("give either modes (shares and distances) or a survey")
        return self

    def issues(self, path: str) -> Iterable[Issue]:
        """Unknown modes, shares that do not add up, a survey without answers."""
        used: list[tuple[str, str]] = []
        if self.modes is not None:
            used = [(f"{path}.modes.{mode}", mode) for mode in self.modes]
            total = sum(m.share for m in self.modes.values())
            if abs(total - 1) > SHARE_TOLERANCE:
                yield Issue(f"{path}.modes", f"the shares add up to {total:g}; they must add up to 1")
            for mode, m in self.modes.items():
                if m.km == 0 and mode not in NO_TRIP and m.share > 0:
                    yield Issue(f"{path}.modes.{mode}.km", "required: the one-way distance in km")
        if self.survey is not None:
            used = [
                (f"{path}.survey.bands[{i}].answers.{mode}", mode)
                for i, band in enumerate(self.survey.bands)
                for mode in band.answers
            ]
            if not sum(n for band in self.survey.bands for n in band.answers.values()):
                yield Issue(f"{path}.survey.bands", "the survey has no answer")
        for where, mode in used:
            if mode not in FACTORS and mode not in self.factors:
                known = ", ".join(FACTORS)
                yield Issue(where, f"unknown mode {mode!r}: use one of {known}, or give its factor in factors")

    def to_commute(self) -> Commute:
        """The domain's assumptions (call only on a config without issues)."""
        factors = {
            mode: Factor(f.kg_co2e_per_km, f.source, None, f.year) if f.source else Factor(f.kg_co2e_per_km)
            for mode, f in self.factors.items()
        }
        if self.survey is not None:
            bands = tuple(SurveyBand(str(b.km), band_km(b.km), dict(b.answers)) for b in self.survey.bands if b.answers)
            return Commute.from_survey(Survey(bands, self.survey.when), round_trips=self.round_trips, factors=factors)
        modes = tuple(ModeShare(mode, m.share, m.km) for mode, m in (self.modes or {}).items())
        return Commute(modes, self.round_trips, factors, configured=True)


class ReportConfig(StrictModel):
    """What the funders' report assumes for this site."""

    min_count: int = Field(default=5, ge=1, le=100)
    commute: CommuteConfig | None = None

    def cross_check(self, root: NodeConfig) -> Iterable[Issue]:
        """The commuting assumptions make sense together."""
        if self.commute is not None:
            yield from self.commute.issues("report.commute")

    def to_commute(self) -> Commute:
        """The site's commuting assumptions, or edge's defaults (marked as such) without a commute section."""
        return self.commute.to_commute() if self.commute is not None else Commute()
