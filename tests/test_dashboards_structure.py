"""The provisioned dashboards: generated, committed, well-formed, and wired to the datasource the role provisions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from edge.collector.schema import AGGREGATE_POLICY, MEASUREMENTS, Bucket
from edge.dashboards import DASHBOARDS, render
from edge.dashboards.__main__ import DEFAULT_DIR, main
from edge.dashboards.grafana import GRID_COLUMNS, Panel, Target, layout
from edge.dashboards.influxql import select, tag_values
from tests.rig.fixtures import REPO

ROLE = REPO / "deploy" / "roles" / "edge_grafana"
FILES = ROLE / "files" / "dashboards"
DATASOURCE = {"type": "influxdb", "uid": "${datasource}"}
TAG_FILTER = {"site": '"site" =~ /^$site$/', "zone": '"zone" =~ /^$zone$/'}


def committed(name: str) -> dict[str, Any]:
    return json.loads((FILES / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def all_panels() -> list[tuple[str, dict[str, Any]]]:
    return [(name, panel) for name in DASHBOARDS for panel in committed(name)["panels"]]


PANELS = all_panels()
PANEL_IDS = [f"{name}:{panel['title']}" for name, panel in PANELS]


@pytest.mark.parametrize("name", DASHBOARDS)
def test_committed_json_is_exactly_the_builder_output(name: str) -> None:
    assert (FILES / name).read_text(encoding="utf-8") == render(DASHBOARDS[name]), (
        f"{name} drifted from edge/dashboards: run `python -m edge.dashboards` and commit the result"
    )


def test_the_role_directory_holds_only_the_generated_dashboards() -> None:
    assert sorted(p.name for p in FILES.iterdir()) == sorted(DASHBOARDS)
    assert DEFAULT_DIR == FILES


def test_check_mode_reports_stale_files_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", str(FILES)]) == 0
    assert main(["--check", str(tmp_path)]) == 1
    assert list(tmp_path.iterdir()) == []
    assert "out of date" in capsys.readouterr().out
    assert main([str(tmp_path)]) == 0
    assert main(["--check", str(tmp_path)]) == 0


def test_the_role_provisions_from_the_directory_the_dashboards_are_committed_in() -> None:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert defaults["edge_grafana_dashboards_src"] == "{{ role_path }}/files/dashboards"
    provider = (ROLE / "templates" / "dashboards.yaml.j2").read_text()
    assert "path: {{ edge_grafana_dashboards_dir | to_json }}" in provider


@pytest.mark.parametrize("name", DASHBOARDS)
def test_the_datasource_variable_defaults_to_the_provisioned_datasource(name: str) -> None:
    datasource = (ROLE / "templates" / "datasource.yaml.j2").read_text()
    [uid] = re.findall(r"^\s+uid: (\S+)$", datasource, re.MULTILINE)
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    [variable] = [v for v in committed(name)["templating"]["list"] if v["name"] == "datasource"]
    assert (variable["type"], variable["query"]) == ("datasource", "influxdb")
    assert variable["current"]["value"] == uid
    assert variable["current"]["text"] == defaults["edge_grafana_datasource_name"]


def test_dashboard_uids_and_titles_are_unique() -> None:
    boards = [committed(name) for name in DASHBOARDS]
    assert len({b["uid"] for b in boards}) == len({b["title"] for b in boards}) == len(boards)
    assert all(len(b["uid"]) <= 40 for b in boards)  # Grafana's limit


@pytest.mark.parametrize("name", DASHBOARDS)
def test_a_dashboard_is_provisioned_read_only_with_a_current_schema(name: str) -> None:
    board = committed(name)
    assert board["schemaVersion"] >= 39
    assert board["editable"] is False
    assert board["time"]["to"] == "now"


@pytest.mark.parametrize("name", DASHBOARDS)
def test_panel_ids_are_unique(name: str) -> None:
    ids = [p["id"] for p in committed(name)["panels"]]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) and i > 0 for i in ids)


@pytest.mark.parametrize("name", DASHBOARDS)
def test_panels_sit_on_the_grid_without_overlapping(name: str) -> None:
    cells: dict[tuple[int, int], str] = {}
    for panel in committed(name)["panels"]:
        pos = panel["gridPos"]
        assert set(pos) == {"h", "w", "x", "y"} and all(isinstance(v, int) for v in pos.values())
        assert pos["w"] > 0 and pos["h"] > 0 and pos["x"] >= 0 and pos["y"] >= 0
        assert pos["x"] + pos["w"] <= GRID_COLUMNS, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


@pytest.mark.parametrize(("name", "panel"), PANELS, ids=PANEL_IDS)
def test_every_panel_queries_influxql_through_the_datasource_variable(name: str, panel: dict[str, Any]) -> None:
    assert panel["datasource"] == DATASOURCE
    assert panel["targets"], "a panel without a query shows nothing"
    assert panel["title"] and panel["description"]
    ref_ids = [t["refId"] for t in panel["targets"]]
    assert len(ref_ids) == len(set(ref_ids))
    for target in panel["targets"]:
        assert target["datasource"] == DATASOURCE
        assert target["rawQuery"] is True and target["resultFormat"] in ("time_series", "table")
        assert target["query"].startswith("SELECT ")
        assert "$timeFilter" in target["query"]


@pytest.mark.parametrize(("name", "panel"), PANELS, ids=PANEL_IDS)
def test_every_query_filters_on_the_site_and_on_the_zone_where_it_can(name: str, panel: dict[str, Any]) -> None:
    variables = {v["name"] for v in committed(name)["templating"]["list"]}
    for target in panel["targets"]:
        query = target["query"]
        [(policy, measurement)] = re.findall(r'FROM (?:"(\w+)"\.)?"(\w+)"', query)
        # one datasource reads both retention policies: derived series from the long-term one, raw from the default
        assert (policy == AGGREGATE_POLICY) == (MEASUREMENTS[measurement].bucket is Bucket.AGGREGATE)
        assert TAG_FILTER["site"] in query
        if "zone" in variables and "zone" in MEASUREMENTS[measurement].tags:
            assert TAG_FILTER["zone"] in query
        used = set(re.findall(r"\$(\w+)", query)) - {"timeFilter", "__interval"}
        assert used <= variables, f"{query} uses undeclared variables"


@pytest.mark.parametrize("name", DASHBOARDS)
def test_template_variables_list_tag_values_for_the_selected_site(name: str) -> None:
    variables = {v["name"]: v for v in committed(name)["templating"]["list"]}
    assert {"datasource", "site"} <= set(variables)
    assert variables["site"]["multi"] is False  # every query is about one site
    for var_name, variable in variables.items():
        if var_name == "datasource":
            continue
        assert variable["type"] == "query" and variable["datasource"] == DATASOURCE
        assert variable["query"].startswith("SHOW TAG VALUES")
        assert f'WITH KEY = "{var_name}"' in variable["query"]
        if var_name != "site":
            assert TAG_FILTER["site"] in variable["query"] and variable["includeAll"] is True


def test_the_site_and_utilisation_dashboards_have_a_zone_variable() -> None:
    for name in ("edge-site.json", "edge-utilisation.json"):
        assert "zone" in {v["name"] for v in committed(name)["templating"]["list"]}


@pytest.mark.parametrize(
    ("columns", "measurement", "filters", "group_by", "message"),
    [
        ('mean("occupied")', "zone_occupation", (), (), "not a measurement"),
        ('mean("occupy")', "zone_occupancy", (), (), "has no field occupy"),
        ('mean("occupied")', "zone_occupancy", ('"door" =~ /^$door$/',), (), "has no tag or field door"),
        ('mean("occupied")', "site_occupancy", (), ("zone",), "cannot be grouped by zone"),
    ],
)
def test_a_query_that_does_not_match_the_collectors_schema_is_refused_at_build_time(
    columns: str, measurement: str, filters: tuple[str, ...], group_by: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        select(columns, measurement, *filters, group_by=group_by)


def test_a_variable_on_a_tag_the_measurement_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="has no tag zone"):
        tag_values("zone", "door_state")


def test_layout_wraps_rows_and_refuses_a_panel_wider_than_the_grid() -> None:
    query = select('last("present")', "people_present")
    small = Panel("stat", "a", "d", (Target(query),), width=16, height=4)
    placed = layout([small, small])
    assert [p["gridPos"] for p in placed] == [{"h": 4, "w": 16, "x": 0, "y": 0}, {"h": 4, "w": 16, "x": 0, "y": 4}]
    with pytest.raises(ValueError, match="width 25"):
        layout([Panel("stat", "wide", "d", (Target(query),), width=25)])


@pytest.mark.parametrize("name", DASHBOARDS)
def test_panels_are_already_packed_upwards_as_grafana_would_place_them(name: str) -> None:
    # Grafana floats panels up into free space; a layout with holes would not look as gridPos says.
    panels = committed(name)["panels"]
    covered = {(x, y) for p in panels for x, y in cells(p["gridPos"])}
    for panel in panels:
        pos = panel["gridPos"]
        if pos["y"] > 0:
            below_something = all((x, pos["y"] - 1) in covered for x in range(pos["x"], pos["x"] + pos["w"]))
            assert below_something, f"{panel['title']} would float up in Grafana"


def cells(pos: dict[str, int]) -> list[tuple[int, int]]:
    return [(x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])]
