"""The member file: a good file reads, every kind of mistake is named by key path and line."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.errors import ConfigError
from edge.schedule import parse_schedule
from edge.staff.memberfile import dump_member_file, load_member_file, parse_member_file, save_member_file
from tests.access_support import SITE_YAML

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "members.yaml"


def issues(text: str) -> list[str]:
    """The issues a member file text raises."""
    with pytest.raises(ConfigError) as caught:
        parse_member_file(text, source="members.yaml")
    return caught.value.issues


def test_a_good_file_reads() -> None:
    members = parse_member_file(SITE_YAML)
    assert members.site == "lyon"
    assert len(members.members) == 11
    assert members.plans["flex"].schedule == parse_schedule("mon-fri 08:00-19:00")
    assert members.members[2].valid_from == dt.date(2026, 12, 1)
    assert members.accounts["acme"].seats == 2


def test_a_badge_with_an_odd_number_of_digits_is_the_card_a_reader_prints_without_its_leading_zero() -> None:
    members = parse_member_file(HEAD + "members:\n  - {id: m1, plan: flex, badges: ['4:A1:B2', 'ABC']}\n")
    assert members.members[0].badges == ("04A1B2", "0ABC")


def test_the_shipped_example_is_valid() -> None:
    members = load_member_file(EXAMPLE)
    assert members.members and members.plans


def test_unquoted_times_stay_times() -> None:
    # YAML 1.1 reads 19:00 as the base-60 integer 1140; the member file reader does not.
    members = parse_member_file("site: s\nplans: {p: {schedule: [{days: mon, from: 8:00, to: 19:00}]}}\n")
    assert members.plans["p"].schedule.windows[0].end == 19 * 60


def test_badges_are_stored_normalised() -> None:
    text = "site: s\nplans: {p: {schedule: always}}\nmembers: [{id: 1, plan: p, badges: ['04:a2-3b', 12345678]}]\n"
    member = parse_member_file(text).members[0]
    assert member.id == "1"
    assert member.badges == ("04A23B", "12345678")


def test_a_leading_zero_is_kept() -> None:
    text = "site: s\nplans: {p: {schedule: always}}\nmembers: [{id: 007, plan: p, badges: [0012]}]\n"
    member = parse_member_file(text).members[0]
    assert (member.id, member.badges) == ("007", ("0012",))


HEAD = "site: lyon\nplans:\n  flex: {schedule: [{days: mon-fri, from: 08:00, to: 19:00}]}\n"

BAD_FILES = [
    ("unknown key", HEAD + "members:\n  - {id: m1, plan: flex, colour: red}\n", "members[0].colour: unknown key", 5),
    ("missing plan", HEAD + "members:\n  - {id: m1}\n", "members[0].plan: required key is missing", 5),
    ("unknown plan", HEAD + "members:\n  - {id: m1, plan: gold}\n", "members[0].plan: unknown plan 'gold'", 5),
    ("bad badge", HEAD + "members:\n  - {id: m1, plan: flex, badges: [xyz]}\n", "members[0].badges[0]: a UID", 5),
    (
        "long badge",
        HEAD + f"members:\n  - {{id: m1, plan: flex, badges: [{'A' * 33}]}}\n",
        "members[0].badges[0]: a UID",
        5,
    ),
    (
        "duplicate id",
        HEAD + "members:\n  - {id: m1, plan: flex}\n  - {id: m1, plan: flex}\n",
        "members[1].id: duplicate member id",
        6,
    ),
    (
        "badge given twice",
        HEAD + "members:\n  - {id: m1, plan: flex, badges: [04A1]}\n  - {id: m2, plan: flex, badges: ['04:a1']}\n",
        "members[1].badges[0]: badge already given at members[0].badges[0]",
        6,
    ),
    (
        "dates reversed",
        HEAD + "members:\n  - {id: m1, plan: flex, valid_from: 2026-12-31, valid_until: 2026-01-01}\n",
        "members[0]: valid_until is before valid_from",
        5,
    ),
    ("bad date", HEAD + "members:\n  - {id: m1, plan: flex, valid_until: 2026-02-30}\n", "members[0].valid_until:", 5),
    ("bad member id", HEAD + "members:\n  - {id: '-x', plan: flex}\n", "members[0].id: must be 1-64", 5),
    (
        "bad day",
        "site: lyon\nplans:\n  p: {schedule: [{days: funday, from: 08:00, to: 19:00}]}\n",
        "plans.p.schedule[0].days",
        3,
    ),
    (
        "bad time",
        "site: lyon\nplans:\n  p: {schedule: [{days: mon, from: 08:00, to: 25:00}]}\n",
        "plans.p.schedule[0].to",
        3,
    ),
    (
        "empty window",
        "site: lyon\nplans:\n  p: {schedule: [{days: mon, from: 08:00, to: 08:00}]}\n",
        'plans.p.schedule[0]: "08:00-08:00": opens and closes at the same time; write 00:00-24:00 for a whole day',
        3,
    ),
    (
        "bad schedule word",
        "site: lyon\nplans:\n  p: {schedule: sometimes}\n",
        'plans.p.schedule: "sometimes": write always, never, or windows such as "mon-fri 08:00-19:00"',
        3,
    ),
    (
        "bad window text",
        "site: lyon\nplans:\n  p:\n    schedule:\n      - mon-fri 08:00-19:00\n      - sat 9h-12h\n",
        'plans.p.schedule[1]: "9h-12h": write a time range as HH:MM-HH:MM',
        6,
    ),
    (
        "closed days in a plan",
        "site: lyon\nplans:\n  p: {schedule: ['mon-fri 08:00-19:00', 'closed 2026-12-25']}\n",
        "plans.p.schedule: a plan's schedule has no closed days: list them under closures:",
        3,
    ),
    ("bad plan name", "site: lyon\nplans:\n  Gold Plan: {schedule: always}\n", "plans.Gold Plan", 3),
    ("bad time zone", HEAD + "timezone: Mars/Olympus\n", "timezone: unknown time zone", 4),
    (
        "closure for an unknown plan",
        HEAD + "closures:\n  - {date: 2026-12-25, open_to: [gold]}\n",
        "closures[0].open_to[0]: unknown plan 'gold'",
        5,
    ),
    (
        "closure range reversed",
        HEAD + "closures:\n  - {date: 2026-12-25, until: 2026-12-24}\n",
        "closures[0]: until is before date",
        5,
    ),
    ("zero seats", HEAD + "accounts:\n  acme: {seats: 0}\n", "accounts.acme.seats:", 5),
    (
        "policy for an unknown plan",
        HEAD + "policy:\n  untrusted_clock: {plans: [gold]}\n",
        "policy.untrusted_clock.plans[0]: unknown plan 'gold'",
        5,
    ),
    ("no site", "plans: {}\n", "site: required key is missing", None),
]


@pytest.mark.parametrize(("case", "text", "expected", "line"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_mistakes_are_named_by_key_path_and_line(case: str, text: str, expected: str, line: int | None) -> None:
    found = issues(text)
    matching = [issue for issue in found if issue.startswith(expected)]
    assert matching, found
    if line is not None:
        assert matching[0].endswith(f"(members.yaml, line {line})")


def test_every_mistake_of_a_kind_is_reported_at_once() -> None:
    # Shape first (every shape mistake at once), then references between sections (every one at once).
    shape = HEAD + "members:\n  - {id: m1, plan: flex, badges: [zz]}\n  - {id: m2}\n  - {id: m3, colour: red}\n"
    assert len(issues(shape)) == 4  # bad badge, m2 without plan, m3 without plan, m3 unknown key
    references = HEAD + "members:\n  - {id: m1, plan: gold}\n  - {id: m1, plan: silver}\n"
    assert len(issues(references)) == 3  # two unknown plans, one duplicate id


@pytest.mark.parametrize("text", ["site: [unclosed\n", "- a list\n", "", "site: s\n\tplans: {}\n"])
def test_not_a_yaml_mapping_is_one_clear_issue(text: str) -> None:
    found = issues(text)
    assert len(found) == 1
    assert found[0].startswith("members.yaml")


def test_dump_reads_back_to_the_same_model() -> None:
    members = parse_member_file(SITE_YAML)
    assert parse_member_file(dump_member_file(members)) == members


def test_save_replaces_the_file_whole_and_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "members.yaml"
    path.write_text(SITE_YAML)
    os.chmod(path, 0o640)
    members = parse_member_file(SITE_YAML)
    save_member_file(path, members)
    assert load_member_file(path) == members
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["members.yaml"]


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_member_file(tmp_path / "missing.yaml")


scalars = st.none() | st.booleans() | st.integers(-5, 10**9) | st.text(max_size=12) | st.dates().map(str)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
keys = st.sampled_from(["site", "timezone", "plans", "closures", "accounts", "policy", "members", "x"])


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(keys, values, max_size=6) | st.text(max_size=200))
def test_any_input_reads_or_raises_a_config_error(data: object) -> None:
    text = data if isinstance(data, str) else yaml.safe_dump(data)
    try:
        parse_member_file(text, source="members.yaml")
    except ConfigError as exc:
        assert exc.issues and all(isinstance(issue, str) for issue in exc.issues)


names = st.text(st.characters(blacklist_categories=["Cs"]), max_size=200)


@settings(max_examples=150, deadline=None)
@given(st.lists(names, min_size=1, max_size=6), st.integers(0, 5))
def test_a_dump_reusing_the_text_of_unchanged_members_is_the_whole_dump(member_names: list[str], changed: int) -> None:
    # Names with line breaks, quotes, "- " and long runs: each member's text, cut from one dump of them all or
    # reused from the previous save, must be what dumping the whole file gives.
    base = parse_member_file(SITE_YAML)
    people = [
        m.model_copy(update={"name": name.strip()[:200]})
        for m, name in zip(base.members, member_names + [""] * len(base.members), strict=False)
    ]
    members = base.model_copy(update={"members": tuple(people)})
    whole = yaml.dump(
        {"site": members.site, "timezone": members.timezone,
         **members.model_dump(mode="json", by_alias=True, exclude_defaults=True, exclude={"site", "timezone"})},
        Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False, allow_unicode=True, width=120,
    )  # fmt: skip
    cache: dict[object, str] = {}
    assert dump_member_file(members, cache) == whole  # type: ignore[arg-type]
    index = changed % len(people)
    people[index] = people[index].model_copy(update={"suspended": not people[index].suspended})
    edited = members.model_copy(update={"members": tuple(people)})
    text = dump_member_file(edited, cache)  # type: ignore[arg-type]
    assert text == dump_member_file(edited)
    assert parse_member_file(text) == edited
