"""Keep the message catalogues in step with the code: `python tools/messages.py update|check`.

`update` extracts every message from edge's Python code and Jinja2 templates into edge/locale/django.pot and
merges it into each language's .po (new entries empty, changed ones marked fuzzy, removed ones dropped).
Translate the new entries in edge/locale/fr/LC_MESSAGES/django.po, remove the fuzzy flags you have checked,
then run `check` (the test suite runs it too): it fails on a message with no translation, a fuzzy one, one whose
placeholders differ from its msgid, and a catalogue that is not up to date with the code.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "edge" / "locale"
POT = LOCALE / "django.pot"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "gettext_lazy": None,
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "pgettext_lazy": ((1, "c"), 2),
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|\{(\w*)\}")


def extract() -> Catalog:
    """Every message in the code and the templates, as a template catalogue."""
    with (LOCALE / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    catalogue = Catalog(project="edge", copyright_holder="edge contributors", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS, comment_tags=("Translators:",), strip_comment_tags=True
    ):
        catalogue.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalogue


def languages() -> list[Path]:
    """The .po file of every translated language."""
    return sorted(LOCALE.glob("*/LC_MESSAGES/django.po"))


def _read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def _write(path: Path, catalogue: Catalog) -> None:
    with path.open("wb") as f:
        write_po(f, catalogue, width=0, no_location=True, sort_output=True, ignore_obsolete=True)


def update() -> None:
    """Write the template and merge it into every language."""
    template = extract()
    _write(POT, template)
    for po in languages():
        catalogue = _read(po)
        catalogue.update(template, no_fuzzy_matching=False)
        _write(po, catalogue)


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def problems() -> list[str]:
    """What is wrong with the catalogues; empty when every message is translated and up to date."""
    found: list[str] = []
    wanted = {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in extract() if m.id}
    for po in languages():
        rel = po.relative_to(ROOT)
        catalogue = _read(po)
        have = {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in catalogue if m.id}
        for key in sorted(wanted - have, key=str):
            found.append(f"{rel}: missing {key[0]!r} (run python tools/messages.py update, then translate)")
        for key in sorted(have - wanted, key=str):
            found.append(f"{rel}: {key[0]!r} is no longer in the code (run python tools/messages.py update)")
        for m in catalogue:
            if not m.id:
                continue
            ids = [m.id] if isinstance(m.id, str) else list(m.id)
            strings = [m.string] if isinstance(m.string, str) else list(m.string or ())
            if m.fuzzy:
                found.append(f"{rel}: {ids[0]!r} is fuzzy: check its translation and remove the flag")
            if not strings or not all(strings):
                found.append(f"{rel}: {ids[0]!r} has no translation")
                continue
            expected = set().union(*(_placeholders(i) for i in ids))
            for s in strings:
                if _placeholders(s) - expected or (len(ids) == 1 and _placeholders(s) != expected):
                    found.append(f"{rel}: {ids[0]!r}: placeholders {sorted(_placeholders(s))} != {sorted(expected)}")
    return found


def main(argv: list[str]) -> int:
    """`update` or `check`."""
    if argv[1:] == ["update"]:
        update()
        print("\n".join(problems()) or "catalogues up to date and fully translated")
        return 0
    if argv[1:] == ["check"]:
        issues = problems()
        print("\n".join(issues) or "catalogues up to date and fully translated")
        return 1 if issues else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
