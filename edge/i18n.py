"""Message catalogues and locale-aware formatting for everything people read: staff console, report, staff CLI.

One catalogue serves every reader-facing part of edge: `edge/locale/<lang>/LC_MESSAGES/django.po`. Messages are
written in English in the code (`_("Members")`) and translated in the catalogue; French is the default language.
The console (Django) reads the catalogue from compiled `.mo` files (`compile_catalogues`); everything else builds
its translations from the `.po` files in memory (`translations`), so no compiled file is kept in the repository.
The domain is `django` because Django looks up catalogues in `LOCALE_PATHS` under that name only.

Numbers, dates and plural rules come from Babel (CLDR data), never from the process locale: a funder's report is
in French on a server whose locale is `C.UTF-8`.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "django"
LANGUAGES: dict[str, str] = {"fr": "Français", "en": "English"}
DEFAULT_LANGUAGE = "fr"
SOURCE_LANGUAGE = "en"  # msgids are English: English needs no catalogue
LANGUAGE_ENV = "EDGE_LANG"


def language(value: str | None = None) -> str:
    """The supported language for `value` (`fr`, `fr_FR.UTF-8`, `en-GB` ...); `$EDGE_LANG`, then French, if None.

    Raises ValueError naming the supported languages when `value` is not one of them.
    """
    raw = value if value is not None else os.environ.get(LANGUAGE_ENV) or DEFAULT_LANGUAGE
    code = raw.replace("-", "_").split(".")[0].split("_")[0].lower()
    if code not in LANGUAGES:
        raise ValueError(f"unsupported language {raw!r}: choose one of {', '.join(LANGUAGES)}")
    return code


def catalogue_path(lang: str) -> Path:
    """The `.po` file of a language (the source language has none)."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _compiled(lang: str) -> bytes | None:
    path = catalogue_path(lang)
    if not path.is_file():
        return None
    with path.open("rb") as po:
        catalogue = read_po(po, locale=lang, domain=DOMAIN)
    out = io.BytesIO()
    write_mo(out, catalogue, use_fuzzy=False)
    return out.getvalue()


@cache
def translations(lang: str) -> NullTranslations:
    """The translations of a supported language, built from its `.po` file (identity for English)."""
    mo = _compiled(language(lang))
    if mo is None:
        return NullTranslations()
    return Translations(fp=io.BytesIO(mo), domain=DOMAIN)


def compile_catalogues(target: Path) -> Path:
    """Write `<target>/<lang>/LC_MESSAGES/django.mo` for every language with a catalogue; return `target`.

    Django reads catalogues from `.mo` files only; the console compiles them at start into its state directory.
    """
    for lang in LANGUAGES:
        mo = _compiled(lang)
        if mo is None:
            continue
        dest = target / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(".mo.tmp")
        tmp.write_bytes(mo)
        tmp.replace(dest)
    return target


@dataclass(frozen=True)
class Formatter:
    """Translates and formats for one language: what a template or a message builder needs."""

    lang: str

    @classmethod
    def for_language(cls, value: str | None = None) -> Formatter:
        """A formatter for `value` as understood by `language()`."""
        return cls(language(value))

    @property
    def locale(self) -> Locale:
        """Babel's locale for this language (`fr` formats as in France)."""
        try:
            return Locale.parse({"fr": "fr_FR", "en": "en_GB"}.get(self.lang, self.lang))
        except UnknownLocaleError as exc:  # pragma: no cover - LANGUAGES only lists locales Babel has
            raise ValueError(str(exc)) from None

    def gettext(self, message: str, **values: Any) -> str:
        """The translation of `message`, with `%(name)s` placeholders filled from `values`."""
        text = translations(self.lang).gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """The plural form for `n` (French: 0 and 1 are singular), `%(n)s` and other placeholders filled."""
        text = translations(self.lang).ngettext(singular, plural, n)
        return text % {"n": self.number(n), **values}

    def number(self, value: float, places: int | None = None) -> str:
        """A number with this language's separators (`1 234,5` in French); `places` fixes the decimals."""
        if places is None:
            return format_decimal(value, locale=self.locale)
        pattern = "#,##0" + ("." + "0" * places if places > 0 else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, ratio: float, places: int = 0) -> str:
        """A ratio as a percentage (`0.423` -> `42 %` in French)."""
        pattern = self.locale.percent_formats[None].pattern  # keeps the language's spacing: "42 %" in French
        if places > 0:
            pattern = pattern.replace("#,##0", "#,##0." + "0" * places, 1)
        return format_percent(ratio, format=pattern, locale=self.locale)

    def date(self, value: dt.date, form: str = "long") -> str:
        """A date (`5 décembre 2026`); `form` is one of Babel's short/medium/long/full or a CLDR pattern."""
        return format_date(value, format=form, locale=self.locale)

    def datetime(self, value: dt.datetime, form: str = "medium") -> str:
        """A date and time in the value's own time zone."""
        return format_datetime(value, format=form, tzinfo=value.tzinfo, locale=self.locale)

    def time(self, value: dt.datetime, form: str = "short") -> str:
        """A time of day (`14:05`)."""
        return format_time(value, format=form, tzinfo=value.tzinfo, locale=self.locale)

    def weekday(self, index: int, width: str = "wide") -> str:
        """The name of a weekday, Monday = 0 (`lundi`, or `lun.` with width `abbreviated`)."""
        return str(self.locale.days["format"][width][index])

    def join(self, items: Iterable[str]) -> str:
        """A list in words (`a, b et c`)."""
        from babel.lists import format_list

        return format_list(list(items), locale=self.locale)

    def filters(self) -> dict[str, Callable[..., str]]:
        """The formatting functions as template filters."""
        return {
            "number": self.number,
            "percent": self.percent,
            "date": self.date,
            "datetime": self.datetime,
            "time": self.time,
            "weekday": self.weekday,
        }


def template_environment(package: str, fmt: Formatter, folder: str = "templates") -> Any:
    """A Jinja2 environment for the templates in `package/folder`, translating and formatting for `fmt.lang`.

    Templates use `{{ _("Text %(n)s", n=value) }}` (new-style gettext: placeholders are filled and escaped by
    Jinja2) and the filters of `Formatter.filters` (`{{ ratio | percent }}`). Unknown variables are errors.
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, folder),
        autoescape=jinja2.select_autoescape(("html", "xml", "svg")),
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(fmt.lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(fmt.filters())
    env.globals["lang"] = fmt.lang
    return env
