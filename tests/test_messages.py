"""Staff-facing message templates: every key the code names exists, is used, and fills in as its kind says."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from edge.messages import MESSAGES, say, say_n

EDGE = Path(__file__).resolve().parent.parent / "edge"
CODE = "\n".join(p.read_text(encoding="utf-8") for p in sorted(EDGE.rglob("*.py")) if p.name != "messages.py")
CALLS = re.findall(r"\b(say|say_n)\(\s*\"([^\"]+)\"", CODE)


def fields(template: str) -> set[str]:
    """The named fields a template fills in."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_the_code_calls_only_keys_that_exist_with_the_right_function() -> None:
    assert CALLS
    for function, key in CALLS:
        assert key in MESSAGES, key
        assert isinstance(MESSAGES[key], tuple) is (function == "say_n"), key


def test_every_message_is_used_somewhere() -> None:
    unused = [key for key in MESSAGES if f'"{key}"' not in CODE]
    assert unused == []


@pytest.mark.parametrize("key", sorted(k for k, v in MESSAGES.items() if isinstance(v, tuple)))
def test_the_singular_fills_in_no_field_the_plural_lacks_and_the_plural_gives_the_count(key: str) -> None:
    singular, plural = MESSAGES[key]
    assert fields(singular) <= fields(plural)
    assert "count" in fields(plural)
    params = {name: f"<{name}>" for name in fields(plural) - {"count"}}
    assert say_n(key, 1, **params) != say_n(key, 2, **params)


def test_say_and_say_n_refuse_the_other_kind_of_message() -> None:
    with pytest.raises(TypeError, match="say_n"):
        say("import.list.removed")
    with pytest.raises(TypeError, match="say"):
        say_n("import.done", 2, summary="x", file="y")
