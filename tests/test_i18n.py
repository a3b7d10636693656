"""Message catalogues and locale-aware formatting: French by default, every message translated."""

from __future__ import annotations

import gettext
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from edge.i18n import DOMAIN, Formatter, compile_catalogues, language, template_environment, translations
from tests.rig.fixtures import REPO

NNBSP, NBSP = "\u202f", "\u00a0"


def test_every_message_people_read_is_translated_and_the_catalogues_match_the_code() -> None:
    result = subprocess.run(
        [sys.executable, "tools/messages.py", "check"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("given", "expected"),
    [("fr", "fr"), ("fr_FR.UTF-8", "fr"), ("FR", "fr"), ("en-GB", "en"), ("en_US", "en")],
)
def test_language_names_are_understood_in_their_usual_spellings(given: str, expected: str) -> None:
    assert language(given) == expected


def test_french_is_the_default_language(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDGE_LANG", raising=False)
    assert language() == "fr"


def test_the_environment_chooses_the_language_when_none_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGE_LANG", "en")
    assert language() == "en"


def test_an_unsupported_language_is_refused_naming_the_supported_ones() -> None:
    with pytest.raises(ValueError, match="fr, en"):
        language("de")


def test_french_numbers_use_a_comma_and_narrow_spaces() -> None:
    fr = Formatter("fr")
    assert fr.number(1234.5) == f"1{NNBSP}234,5"
    assert fr.number(2.0, places=1) == "2,0"
    assert fr.percent(0.423) == f"42{NBSP}%"


def test_english_numbers_use_a_point_and_commas() -> None:
    en = Formatter("en")
    assert en.number(1234.5) == "1,234.5"
    assert en.percent(0.4236, places=1) == "42.4%"


def test_dates_and_weekdays_are_written_in_the_language() -> None:
    fr = Formatter("fr")
    assert fr.date(date(2026, 12, 5)) == "5 décembre 2026"
    assert fr.weekday(0) == "lundi"
    assert Formatter("en").weekday(6) == "Sunday"
    noon = datetime(2026, 12, 5, 14, 5, tzinfo=ZoneInfo("Europe/Paris"))
    assert fr.time(noon) == "14:05"


def test_french_plural_rules_treat_zero_as_singular() -> None:
    plural = translations("fr").plural  # type: ignore[attr-defined]
    assert [plural(n) for n in (0, 1, 2, 10)] == [0, 0, 1, 1]


def test_lists_are_joined_with_the_language_conjunction() -> None:
    assert Formatter("fr").join(["a", "b", "c"]) == "a, b et c"


def test_compiled_catalogues_give_django_the_same_translations_as_the_report(tmp_path: Path) -> None:
    compile_catalogues(tmp_path)
    compiled = gettext.translation(DOMAIN, localedir=str(tmp_path), languages=["fr"])
    in_memory = translations("fr")
    for message in _catalogue_messages("fr"):
        assert compiled.gettext(message) == in_memory.gettext(message)
    assert compiled.plural(2) == 1  # type: ignore[attr-defined]


def test_templates_translate_and_format_for_their_language(tmp_path: Path) -> None:
    package = tmp_path / "i18n_probe"
    (package / "templates").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "templates" / "probe.html").write_text("{{ value | number }} <b>{{ name }}</b> {{ lang }}")
    sys.path.insert(0, str(tmp_path))
    try:
        html = template_environment("i18n_probe", Formatter("fr")).get_template("probe.html")
        assert html.render(value=1234.5, name="<x>") == f"1{NNBSP}234,5 <b>&lt;x&gt;</b> fr"
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("i18n_probe", None)


def _catalogue_messages(lang: str) -> list[str]:
    from babel.messages.pofile import read_po

    from edge.i18n import catalogue_path

    with catalogue_path(lang).open("rb") as po:
        return [m.id for m in read_po(po) if isinstance(m.id, str) and m.id]
