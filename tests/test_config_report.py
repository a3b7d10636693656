"""The report section of a node's config: commuting assumptions per mode or from a survey, errors naming the key."""

from __future__ import annotations

import pytest

from edge.config import parse_config
from edge.errors import ConfigError
from edge.report.commute import ModeShare
from edge.report.factors import FACTORS

BASE = "site: tiers-lieu\nnode: collector\n"


def issues(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE + text)
    return caught.value.issues


def test_modes_with_shares_and_distances_become_the_reports_assumptions() -> None:
    config = parse_config(
        BASE
        + """
report:
  min_count: 3
  commute:
    round_trips: 1.5
    modes:
      car: {share: 0.5, km: 14}
      train_ter: {share: 0.3, km: 30}
      home: {share: 0.2}
    factors:
      car: {kg_co2e_per_km: 0.19, source: "fleet survey", year: 2025}
"""
    )
    assert config.report is not None and config.report.min_count == 3
    commute = config.report.to_commute()
    assert commute.modes == (ModeShare("car", 0.5, 14.0), ModeShare("train_ter", 0.3, 30.0), ModeShare("home", 0.2, 0))
    assert (commute.round_trips, commute.configured) == (1.5, True)
    assert (commute.factor("car").kg_per_km, commute.factor("car").source, commute.factor("car").year) == (
        0.19,
        "fleet survey",
        2025,
    )
    assert commute.factor("train_ter") == FACTORS["train_ter"]


def test_a_survey_gives_each_mode_its_share_of_answers_and_its_mean_distance() -> None:
    config = parse_config(
        BASE
        + """
report:
  commute:
    survey:
      when: 2026-03-15
      bands:
        - {km: 0-4, answers: {bike: 3, walk: 1}}
        - {km: 10-30, answers: {car: 4, bike: 1}}
        - {km: 50, answers: {train_ter: 1}}
"""
    )
    assert config.report is not None
    commute = config.report.to_commute()
    shares = {m.mode: (m.share, m.one_way_km) for m in commute.modes}
    # 10 answers; bike: 3 at 2 km + 1 at 20 km -> 4/10, mean (3*2 + 20)/4 = 6.5 km
    assert shares == {
        "bike": (0.4, 6.5),
        "walk": (0.1, 2.0),
        "car": (0.4, 20.0),
        "train_ter": (0.1, 50.0),
    }
    assert commute.survey is not None and (commute.survey.respondents, commute.survey.when) == (10, "2026-03-15")


def test_without_a_report_section_the_defaults_say_they_are_not_the_sites() -> None:
    config = parse_config(BASE)
    assert config.report is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "report:\n  commute:\n    modes:\n      car: {share: 0.5, km: 12}\n      bike: {share: 0.4, km: 3}\n",
            "report.commute.modes: the shares add up to 0.9; they must add up to 1",
        ),
        (
            "report:\n  commute:\n    modes:\n      car: {share: 0.5, km: 12}\n      plane: {share: 0.5, km: 300}\n",
            "report.commute.modes.plane: unknown mode 'plane'",
        ),
        ("report:\n  commute:\n    modes:\n      car: {share: 1.2, km: 12}\n", "report.commute.modes.car.share:"),
        ("report:\n  commute:\n    modes:\n      car: {share: 1}\n", "report.commute.modes.car.km: required"),
        ("report:\n  commute:\n    modes:\n      car: {share: 1, km: -3}\n", "report.commute.modes.car.km:"),
        ("report:\n  commute: {}\n", "report.commute: give either modes (shares and distances) or a survey"),
        (
            "report:\n  commute:\n    survey:\n      bands:\n        - {km: 5-x, answers: {car: 2}}\n",
            "report.commute.survey.bands[0].km: '5-x': write a distance band as a range of km",
        ),
        (
            "report:\n  commute:\n    survey:\n      bands:\n        - {km: 0-5, answers: {car: 0}}\n",
            "report.commute.survey.bands: the survey has no answer",
        ),
        (
            "report:\n  commute:\n    modes: {car: {share: 1, km: 9}}\n    factors: {car: {kg_co2e_per_km: 9}}\n",
            "report.commute.factors.car.kg_co2e_per_km:",
        ),
        ("report:\n  min_count: 0\n", "report.min_count:"),
        ("report:\n  commute_km: 20\n", "report.commute_km: unknown key"),
    ],
)
def test_a_wrong_report_section_names_its_key(text: str, expected: str) -> None:
    found = issues(text)
    assert any(issue.startswith(expected) for issue in found), found


def test_a_mode_of_the_sites_own_needs_its_factor() -> None:
    config = parse_config(
        BASE
        + "report:\n  commute:\n    modes:\n      shuttle: {share: 1, km: 8}\n"
        + "    factors:\n      shuttle: {kg_co2e_per_km: 0.05}\n"
    )
    assert config.report is not None
    commute = config.report.to_commute()
    assert (commute.factor("shuttle").kg_per_km, commute.factor("shuttle").sourced) == (0.05, False)
