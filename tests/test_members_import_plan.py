"""The import plan (who is added, changed, removed) and the guard that refuses mass removals: pure functions."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.i18n import Formatter
from edge.staff.imports import (
    DEFAULT_MAX_REMOVED_SHARE,
    ImportPlan,
    MemberChange,
    MemberRef,
    Refusal,
    judge_removals,
    percent,
    plan_import,
)
from edge.staff.memberfile import parse_member_file
from edge.staff.members import MemberFile, validate_member_data
from edge.staff.render import import_lists

EN = Formatter("en")
BASE = parse_member_file(
    """\
site: lyon
plans:
  resident: {schedule: always}
  flex: {schedule: [{days: mon-fri, from: 08:00, to: 19:00}]}
members:
  - {id: M-1, name: Ann, plan: resident, badges: ["04A1"]}
  - {id: N-1, name: Bea, plan: flex, badges: ["04B1"], source: nexudus}
  - {id: N-2, name: Cy, plan: flex, badges: ["04B2"], source: nexudus}
  - {id: N-3, name: Dan, plan: flex, badges: ["04B3"], source: nexudus}
  - {id: C-1, name: Eve, plan: flex, badges: ["04C1"], source: cobot}
"""
)


def with_members(base: MemberFile, members: list[dict[str, Any]]) -> MemberFile:
    """`base` with its member list replaced."""
    data = base.model_dump(mode="python", by_alias=True)
    data["members"] = members
    return validate_member_data(data, source="test")


def test_the_plan_names_who_is_added_changed_and_removed_by_id_and_name() -> None:
    after = with_members(
        BASE,
        [
            {"id": "M-1", "name": "Ann", "plan": "resident", "badges": ["04A1"]},
            {"id": "N-1", "name": "Bea", "plan": "resident", "badges": ["04B9"], "source": "nexudus"},
            {"id": "N-2", "name": "Cy", "plan": "flex", "badges": ["04B2"], "source": "nexudus"},
            {"id": "N-4", "name": "Fay", "plan": "flex", "source": "nexudus"},
            {"id": "C-1", "name": "Eve", "plan": "flex", "badges": ["04C1"], "source": "cobot"},
        ],
    )
    plan = plan_import(BASE, after, "nexudus")
    assert plan.added == (MemberRef("N-4", "Fay"),)
    assert plan.changed == (MemberChange("N-1", "Bea", ("plan", "badges")),)
    assert plan.unchanged == 1
    assert plan.removed == (MemberRef("N-3", "Dan"),)
    assert (plan.kept, plan.before, plan.after) == (2, 3, 3)


def test_members_of_other_sources_are_never_in_the_plan() -> None:
    plan = plan_import(BASE, BASE, "cobot")
    assert (plan.added, plan.changed, plan.removed, plan.unchanged, plan.kept) == ((), (), (), 1, 4)


def refs(n: int) -> tuple[MemberRef, ...]:
    """n members of a source."""
    return tuple(MemberRef(f"N-{i}", f"Name {i}") for i in range(n))


def plan_of(before: int, removed: int, added: int = 0) -> ImportPlan:
    """A plan from a source that had `before` members and loses `removed` of them."""
    return ImportPlan("nexudus", refs(added), (), before - removed, refs(removed), kept=3)


# (before, removed, max_share, confirmed) -> refusal or None when allowed
GUARD_CASES = [
    ("nothing removed", 10, 0, 0.2, None, None),
    ("first import", 0, 0, 0.2, None, None),
    ("one in ten", 10, 1, 0.2, None, None),
    ("exactly the share", 10, 2, 0.2, None, None),
    ("exactly the share, awkward float", 35, 7, 0.2, None, None),
    ("exactly seventy percent", 10, 7, 0.7, None, None),
    ("just over the share", 10, 3, 0.2, None, Refusal.SHARE),
    ("one of four is a quarter", 4, 1, 0.2, None, Refusal.SHARE),
    ("the only member", 1, 1, 0.2, None, Refusal.ALL),
    ("all of them", 5, 5, 0.2, None, Refusal.ALL),
    ("all of them whatever the share", 5, 5, 1.0, None, Refusal.ALL),
    ("share zero: any removal", 100, 1, 0.0, None, Refusal.SHARE),
    ("share one: all but one", 5, 4, 1.0, None, None),
    ("all of them, confirmed", 5, 5, 0.2, 5, None),
    ("over the share, confirmed", 10, 3, 0.2, 3, None),
    ("confirmed another number", 5, 5, 0.2, 4, Refusal.MISMATCH),
    ("confirmed more than needed", 10, 1, 0.2, 2, Refusal.MISMATCH),
    ("confirmed removals, none happen", 10, 0, 0.2, 3, Refusal.MISMATCH),
    ("confirmed zero, none happen", 10, 0, 0.2, 0, None),
]


@pytest.mark.parametrize(
    ("case", "before", "removed", "max_share", "confirmed", "refusal"), GUARD_CASES, ids=[c[0] for c in GUARD_CASES]
)
def test_the_guard_refuses_removing_all_or_too_many_unless_the_number_is_confirmed(
    case: str, before: int, removed: int, max_share: float, confirmed: int | None, refusal: Refusal | None
) -> None:
    verdict = judge_removals(plan_of(before, removed), max_share=max_share, confirmed=confirmed)
    assert verdict.refusal is refusal
    assert verdict.allowed is (refusal is None)
    assert (verdict.removed, verdict.before) == (removed, before)


def test_the_default_share_is_a_fifth() -> None:
    assert DEFAULT_MAX_REMOVED_SHARE == 0.2
    assert judge_removals(plan_of(5, 1)).allowed and not judge_removals(plan_of(5, 2)).allowed


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_a_share_outside_0_to_1_is_a_programming_error(share: float) -> None:
    with pytest.raises(ValueError, match="max_share"):
        judge_removals(plan_of(5, 1), max_share=share)


def test_refusals_say_how_many_of_how_many_and_the_share() -> None:
    verdict = judge_removals(plan_of(10, 3, added=1))
    assert verdict.needs_confirmation
    assert verdict.reasons(plan_of(10, 3, added=1), EN) == [
        "this import removes 3 of the 10 members imported from nexudus (30%), more than the 20% an import may "
        "remove without confirmation"
    ]


def test_removing_everyone_from_an_empty_export_says_the_export_is_empty() -> None:
    plan = plan_of(5, 5)
    assert judge_removals(plan).reasons(plan, EN) == [
        "this import removes all 5 members imported from nexudus, leaving none",
        "the export has no member to import: was it filtered, or exported from the wrong view?",
    ]


def test_an_allowed_plan_has_no_reasons() -> None:
    plan = plan_of(10, 1)
    assert judge_removals(plan).reasons(plan, EN) == []


@pytest.mark.parametrize(
    ("share", "english", "french"),
    [
        (0.2, "20%", "20\u00a0%"),
        (0.125, "12.5%", "12,5\u00a0%"),
        (1.0, "100%", "100\u00a0%"),
        (2 / 3, "66.7%", "66,7\u00a0%"),
    ],
)
def test_shares_read_as_percentages_to_a_tenth_when_it_matters(share: float, english: str, french: str) -> None:
    assert (percent(EN, share), percent(Formatter("fr"), share)) == (english, french)


def test_refusals_read_in_french() -> None:
    plan = plan_of(10, 3)
    assert judge_removals(plan).reasons(plan, Formatter("fr")) == [
        "cet import retire 3 des 10 membres importés de nexudus (30\u00a0%), plus que les 20\u00a0% qu'un import "
        "peut retirer sans confirmation"
    ]


@given(
    before=st.integers(min_value=0, max_value=500),
    data=st.data(),
    share=st.floats(min_value=0.0, max_value=1.0),
)
def test_an_unconfirmed_plan_is_allowed_exactly_when_it_removes_not_all_and_at_most_the_share(
    before: int, data: st.DataObject, share: float
) -> None:
    removed = data.draw(st.integers(min_value=0, max_value=before))
    verdict = judge_removals(plan_of(before, removed), max_share=share)
    expected = removed == 0 or (removed < before and removed <= share * before + 1e-9)
    assert verdict.allowed is expected
    confirmed = judge_removals(plan_of(before, removed), max_share=share, confirmed=removed)
    assert confirmed.allowed


def test_the_preview_lists_added_and_changed_up_to_a_limit_and_every_removal() -> None:
    plan = ImportPlan("nexudus", refs(3), (MemberChange("N-9", "", ("plan",)),), 0, refs(5), kept=0)
    text = import_lists(plan, EN, added_and_changed=True, limit=2)
    assert text.splitlines() == [
        "added (3 members):",
        "  N-0  Name 0",
        "  N-1  Name 1",
        "  ... and 1 more",
        "changed (1 member):",
        "  N-9  (no name)  (plan)",
        "removed (5 members):",
        *(f"  N-{i}  Name {i}" for i in range(5)),
    ]
    assert import_lists(plan, EN, added_and_changed=False).startswith("removed (5 members):")
