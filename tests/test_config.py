"""Node configuration: typed validation, key paths and line numbers, secrets in files, exclusive resources."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from edge.config import GpioPin, NodeConfig, SerialDevice, StrictModel, load_config, parse_config
from edge.config.base import iter_claims
from edge.errors import ConfigError
from tests.node_files_support import materialise
from tests.rig.fixtures import REPO, run_edge

EXAMPLES = sorted((REPO / "examples" / "nodes").glob("*.yaml"))

BASE = "site: demo\nnode: pi-1\n"


def issues_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, check_secrets=False)
    return caught.value.issues


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_every_shipped_example_config_is_valid(example: Path, tmp_path: Path) -> None:
    load_config(materialise(example, tmp_path))


def test_examples_exist() -> None:
    assert EXAMPLES


def test_minimal_config_has_sensible_defaults() -> None:
    config = parse_config(BASE)
    assert (config.timezone, config.mqtt.port, config.mqtt.prefix, config.mqtt.protocol) == (
        "Europe/Paris",
        1883,
        "edge",
        "5",
    )


def test_config_is_immutable() -> None:
    config = parse_config(BASE)
    with pytest.raises(ValidationError):
        config.site = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("node: pi-1\n", "site: required key is missing"),
        (BASE + "colour: blue\n", "colour: unknown key"),
        (BASE + "mqtt:\n  hots: x\n", "mqtt.hots: unknown key"),
        (BASE + "mqtt:\n  port: 70000\n", "mqtt.port: Input should be less than or equal to 65535"),
        (BASE + "mqtt:\n  password: hunter2\n", "mqtt.password: secrets are never written inline"),
        (BASE + "badge_key: 00ff\n", "badge_key: secrets are never written inline: put it in a file and use badge_key"),
        (BASE + "mqtt:\n  keys: 3\n", "mqtt.keys: unknown key"),  # no keys_file to point to: a typo, not a secret
        (BASE + "snapshot_key: /k\n", "snapshot_key: unknown key"),
        (BASE + "mqtt:\n  password_file: /x\n", "mqtt: password_file needs a username"),
        (BASE + "timezone: Mars/Olympus\n", "timezone: unknown time zone 'Mars/Olympus'"),
        ("site: Demo Site\nnode: pi-1\n", "site: must be 1-48 characters"),
        (BASE + "mqtt:\n  tls:\n    ca_file: /ca\n    cert_file: /c\n", "mqtt.tls: cert_file and key_file go together"),
        (BASE + "outbox:\n  max_events: 5\n", "outbox.max_events: Input should be greater than or equal to 100"),
        (BASE + "log_level: loud\n", "log_level: Input should be"),
        (BASE + "mqtt:\n  max_packet_size: 1024\n", "mqtt.max_packet_size: Input should be greater than or equal"),
    ],
)
def test_bad_configs_are_refused_with_the_key_path(text: str, expected: str) -> None:
    assert any(issue.startswith(expected) for issue in issues_of(text)), issues_of(text)


def test_every_problem_is_reported_at_once_with_its_line() -> None:
    issues = issues_of("site: demo\nnode: pi-1\nmqtt:\n  port: 0\n  keepalive: 1\ncolour: blue\n")
    assert len(issues) == 3
    assert any(re.match(r"mqtt\.port: .*line 4\)$", i) for i in issues), issues
    assert any(re.match(r"mqtt\.keepalive: .*line 5\)$", i) for i in issues), issues
    assert any(re.match(r"colour: unknown key .*line 6\)$", i) for i in issues), issues


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "site: [unclosed\n", "just text\n"])
def test_files_that_are_not_a_mapping_are_refused(text: str) -> None:
    assert issues_of(text)


def test_missing_secret_files_are_reported(tmp_path: Path) -> None:
    text = BASE + "mqtt:\n  username: u\n  password_file: secrets/pw\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, base_dir=tmp_path)
    assert caught.value.issues[0].startswith("mqtt.password_file: secret file")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "pw").write_text("pw\n")
    config = parse_config(text, base_dir=tmp_path)
    assert config.mqtt.password_file == tmp_path / "secrets" / "pw"


class Relay(StrictModel):
    pin: GpioPin


class Sensor(StrictModel):
    pins: tuple[GpioPin, ...] = ()
    port: SerialDevice | None = None


class Board(StrictModel):
    relays: tuple[Relay, ...]
    sensors: tuple[Sensor, ...]


def test_claims_are_found_anywhere_in_the_tree() -> None:
    board = Board(relays=(Relay(pin=17),), sensors=(Sensor(pins=(), port="/dev/ttyS0"),))
    assert list(iter_claims(board)) == [
        ("relays[0].pin", "GPIO", 17),
        ("sensors[0].port", "serial device", "/dev/ttyS0"),
    ]


def test_duplicate_claims_name_both_places() -> None:
    from edge.config.node import NodeConfig as Root

    class WithBoard(Root):
        board: Board

    config = WithBoard.model_validate(
        {
            "site": "s",
            "node": "n",
            "board": {"relays": [{"pin": 17}], "sensors": [{"port": "/dev/ttyS0"}, {"port": "/dev/ttyS0"}]},
        }
    )
    messages = [f"{i.path}: {i.message}" for i in config.cross_check(config)]
    assert messages == ["board.sensors[1].port: serial device /dev/ttyS0 is already used by board.sensors[0].port"]


@pytest.mark.parametrize("pin", [-1, 28, 40])
def test_pins_outside_the_header_are_refused(pin: int) -> None:
    with pytest.raises(Exception, match="does not exist"):
        Relay(pin=pin)


@settings(max_examples=200)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        max_leaves=12,
    )
)
def test_any_yaml_document_is_either_valid_or_a_config_error(document: object) -> None:
    text = yaml.safe_dump({"site": "s", "node": "n", "mqtt": document})
    try:
        parse_config(text, check_secrets=False)
    except ConfigError as exc:
        assert exc.issues


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_check_config_cli_exits_0_on_every_shipped_example(example: Path, tmp_path: Path) -> None:
    path = materialise(example, tmp_path)
    result = run_edge("check-config", str(path))
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_check_config_cli_exits_2_and_names_every_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("site: demo\nnode: pi-1\nmqtt:\n  port: 0\ncolour: blue\n")
    result = run_edge("check-config", str(path))
    assert result.returncode == 2
    assert "mqtt.port:" in result.stderr and "colour: unknown key" in result.stderr


def test_check_config_cli_exits_2_on_a_missing_file(tmp_path: Path) -> None:
    result = run_edge("check-config", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_edge_help_lists_commands() -> None:
    result = run_edge("--help")
    assert result.returncode == 0
    assert "check-config" in result.stdout


def test_shipped_configs_need_no_network_names_from_this_repo() -> None:
    # The examples must stay examples: no secrets inline anywhere.
    for example in EXAMPLES:
        assert "password:" not in example.read_text()


def test_node_config_round_trips_through_its_own_dump() -> None:
    config = parse_config(BASE)
    again = NodeConfig.model_validate(config.model_dump())
    assert again == config
