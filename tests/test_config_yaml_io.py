"""The one YAML reader: each kind of file's scalar rules, located syntax errors, line numbers only on demand."""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import gc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.config import parse_config
from edge.config.yaml_io import Scalars, YamlDocument, YamlSyntaxError, dump_yaml, key_path, parse_yaml
from edge.errors import ConfigError
from edge.staff.memberfile import parse_member_file
from tests.rig.fixtures import REPO

SCALARS = "a: 19:00\nb: 0123\nc: 1_000\nd: -5\ne: 2026-02-30\nf: yes\ng: ~\nh: 1.5\ni: 0x1F\nj: 42\n"


@pytest.mark.parametrize(
    ("scalars", "expected"),
    [
        (
            Scalars.PLAIN_INTS,
            # Plain decimals only: a time, an id with its leading zero, a date pydantic will check stay text.
            {"a": "19:00", "b": "0123", "c": "1_000", "d": -5, "e": "2026-02-30", "f": True, "g": None, "h": 1.5}
            | {"i": "0x1F", "j": 42},
        ),
        (
            Scalars.TEXT,
            {"a": "19:00", "b": "0123", "c": "1_000", "d": "-5", "e": "2026-02-30", "f": "yes", "g": None, "h": "1.5"}
            | {"i": "0x1F", "j": "42"},
        ),
    ],
)
def test_each_kind_of_file_reads_unquoted_scalars_by_its_rules(scalars: Scalars, expected: dict[str, Any]) -> None:
    assert parse_yaml(SCALARS, scalars).data == expected


def test_node_configs_keep_yaml_1_1_scalars() -> None:
    data = parse_yaml("a: 19:00\nb: 0123\nc: 1_000\nd: 2026-12-25\nf: yes\n", Scalars.YAML_1_1).data
    assert data == {"a": 1140, "b": 83, "c": 1000, "d": dt.date(2026, 12, 25), "f": True}


def test_a_mapping_file_s_flag_keys_stay_text() -> None:
    data = parse_yaml("suspended: {column: Active, true: [no, off], false: [yes, on]}\n", Scalars.TEXT).data
    assert data == {"suspended": {"column": "Active", "true": ["no", "off"], "false": ["yes", "on"]}}


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("site: lyon\nplans: [a\nmembers: []\n", 3, "expected ',' or ']'"),
        ("a: 1\na: 2\n  b: 3\n", 3, "mapping values are not allowed"),
        ("a: !!python/object:os.system x\n", 1, "could not determine a constructor"),
        ("a: b\n---\nc: d\n", 2, "but found another document"),
    ],
)
def test_text_that_is_not_yaml_is_a_syntax_error_with_its_line(text: str, line: int, problem: str) -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        parse_yaml(text, Scalars.PLAIN_INTS)
    assert caught.value.line == line
    assert problem in caught.value.problem
    assert caught.value.located("members.yaml").startswith(f"members.yaml (line {line}): not valid YAML: ")


def test_every_key_path_has_its_line() -> None:
    text = "site: lyon\nplans:\n  flex: {schedule: always}\nmembers:\n  - id: m1\n    badges: [04A1, 04A2]\n"
    assert parse_yaml(text, Scalars.PLAIN_INTS).lines() == {
        "site": 1,
        "plans": 2,
        "plans.flex": 3,
        "plans.flex.schedule": 3,
        "members": 4,
        "members[0]": 5,
        "members[0].id": 5,
        "members[0].badges": 6,
        "members[0].badges[0]": 6,
        "members[0].badges[1]": 6,
    }


def test_key_paths_are_spelled_as_messages_spell_them() -> None:
    assert key_path(["members", 3, "badges", 0]) == "members[3].badges[0]"
    assert key_path([]) == "(top level)"


MEMBER_FILE = "site: lyon\nplans:\n  flex: {schedule: always}\nmembers:\n  - {id: m1, plan: flex}\n"


def test_a_good_file_never_works_out_its_line_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: YamlDocument) -> dict[str, int]:
        raise AssertionError("line numbers worked out for a good file")

    monkeypatch.setattr(YamlDocument, "lines", refuse)
    assert parse_member_file(MEMBER_FILE).members[0].id == "m1"
    assert parse_config(
        "site: lyon\nnode: desk-1\nmqtt: {host: localhost}\nstate_dir: /tmp/edge-state\n", check_secrets=False
    )


def test_a_file_with_a_problem_names_its_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_member_file(MEMBER_FILE.replace("plan: flex", "plan: gold"), source="members.yaml")
    assert caught.value.issues == ["members[0].plan: unknown plan 'gold' (plans: flex) (members.yaml, line 5)"]


@pytest.mark.parametrize("text", ["a: [1, 2]\n", "a: [1\n"])
def test_the_garbage_collector_runs_again_after_a_parse(text: str) -> None:
    assert gc.isenabled()
    with contextlib.suppress(YamlSyntaxError):
        parse_yaml(text, Scalars.PLAIN_INTS).lines()
    assert gc.isenabled()


def test_a_parse_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        parse_yaml("a: 1\n", Scalars.PLAIN_INTS)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_is_written_reads_back_the_same() -> None:
    data = {"site": "lyon", "plans": {"flex": {"schedule": "mon-fri 08:00-19:00"}}, "names": ["Zoé", "0123"]}
    text = dump_yaml(data)
    assert text.startswith("site: lyon\nplans:\n")  # keys in their given order, block style
    assert "Zoé" in text
    assert parse_yaml(text, Scalars.PLAIN_INTS).data == data


def leaves(value: Any) -> list[Any]:
    """Every scalar of a parsed document."""
    if isinstance(value, dict):
        return [*value.keys(), *(leaf for item in value.values() for leaf in leaves(item))]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


yaml_like = st.text(alphabet=st.sampled_from(list("ab01:-[]{},#&*!|>'\"?%@`~. \n\t\u00e9")), max_size=60)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(yaml_like, st.text(max_size=60)), scalars=st.sampled_from(list(Scalars)))
def test_any_text_is_a_document_or_a_syntax_error(text: str, scalars: Scalars) -> None:
    try:
        document = parse_yaml(text, scalars)
    except YamlSyntaxError as exc:
        assert exc.problem
        return
    assert isinstance(document.lines(), dict)
    if scalars is Scalars.TEXT:
        assert all(leaf is None or isinstance(leaf, (str, bytes, set)) for leaf in leaves(document.data))


def test_no_other_module_reads_or_writes_yaml() -> None:
    importers = set()
    for path in (REPO / "edge").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name == "yaml" or name.startswith("yaml.") for name in names):
                importers.add(Path(path).relative_to(REPO).as_posix())
    assert importers == {"edge/config/yaml_io.py"}
