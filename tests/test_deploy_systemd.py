"""The shipped systemd units: they pass `systemd-analyze verify` and encode the ordering and privilege rules."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UNIT_DIR = REPO / "systemd"
UNITS = sorted(p.name for p in UNIT_DIR.glob("*.service"))
HARDWARE_UNITS = ["edge-badge.service", "edge-door.service", "edge-presence.service"]
SYSTEM_UNITS = Path("/usr/lib/systemd/system")
GPIO_SPI_SERIAL = {
    "char-gpiochip",
    "char-*gpiomem",
    "char-spi",
    "char-ttyAMA",
    "char-ttyS",
    "char-ttyUSB",
    "char-ttyACM",
}


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> every value given (systemd keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            continue
        key, _, value = line.partition("=")
        sections[current][key.strip()].append(value.strip())
    return sections


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    return parse_unit((UNIT_DIR / name).read_text())


def words(values: list[str]) -> set[str]:
    return {word for value in values for word in value.split()}


@pytest.fixture(scope="module")
def verify_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root with the system's unit files and an executable at every ExecStart path of the shipped units."""
    if shutil.which("systemd-analyze") is None or not SYSTEM_UNITS.is_dir():
        pytest.fail("systemd-analyze is missing: install the Debian package 'systemd'")
    root = tmp_path_factory.mktemp("verify-root")
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for name in UNITS:
        for command in unit(name)["Service"]["ExecStart"]:
            program = root / command.split()[0].lstrip("/")
            program.parent.mkdir(parents=True, exist_ok=True)
            program.write_text("#!/bin/sh\nexit 0\n")
            program.chmod(0o755)
    return root


def verify(root: Path, name: str, text: str) -> subprocess.CompletedProcess[str]:
    target = root / "etc/systemd/system" / name
    target.write_text(text)
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", f"--root={root}", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_there_is_one_unit_per_daemon() -> None:
    assert UNITS == [
        "edge-badge.service",
        "edge-collector.service",
        "edge-console.service",
        "edge-door.service",
        "edge-presence.service",
    ]


@pytest.mark.parametrize("name", UNITS)
def test_unit_passes_systemd_analyze_verify_silently(verify_root: Path, name: str) -> None:
    result = verify(verify_root, name, (UNIT_DIR / name).read_text())
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


def test_verify_reports_an_unknown_key_on_stderr(verify_root: Path) -> None:
    broken = (UNIT_DIR / "edge-door.service").read_text().replace("[Service]\n", "[Service]\nWatchDogSec=20s\n")
    result = verify(verify_root, "edge-broken.service", broken)
    assert "Unknown key 'WatchDogSec'" in result.stderr


def test_verify_reports_a_missing_executable(verify_root: Path) -> None:
    broken = (UNIT_DIR / "edge-door.service").read_text().replace("/opt/edge/venv/bin/edge", "/opt/edge/nowhere/edge")
    result = verify(verify_root, "edge-missing.service", broken)
    assert result.returncode != 0 and "is not executable" in result.stderr


@pytest.mark.parametrize("name", UNITS)
def test_unit_runs_its_daemon_from_the_venv_with_the_node_config(name: str) -> None:
    daemon = name.removeprefix("edge-").removesuffix(".service")
    # The console is a node of its own on the hub (its own MQTT user and client id): its own config file.
    config = "/etc/edge/console.yaml" if daemon == "console" else "/etc/edge/node.yaml"
    assert unit(name)["Service"]["ExecStart"] == [f"/opt/edge/venv/bin/edge {daemon} -c {config}"]


@pytest.mark.parametrize("name", UNITS)
def test_unit_notifies_readiness_and_is_watched(name: str) -> None:
    service = unit(name)["Service"]
    assert service["Type"] == ["notify"]
    assert service["NotifyAccess"] == ["main"]
    assert service["WatchdogSec"] == ["20s"]


@pytest.mark.parametrize("name", UNITS)
def test_unit_restarts_on_failure_within_a_burst_limit_but_not_on_config_errors(name: str) -> None:
    sections = unit(name)
    assert sections["Service"]["Restart"] == ["on-failure"]
    assert sections["Service"]["RestartPreventExitStatus"] == ["2"]
    assert int(sections["Unit"]["StartLimitBurst"][0]) > 1
    assert sections["Unit"]["StartLimitIntervalSec"] == ["600"]


@pytest.mark.parametrize("name", UNITS)
def test_unit_runs_as_the_edge_user_with_a_read_only_system(name: str) -> None:
    service = unit(name)["Service"]
    expected = {
        "User": ["edge"],
        "Group": ["edge"],
        "NoNewPrivileges": ["yes"],
        "ProtectSystem": ["strict"],
        "ProtectHome": ["yes"],
        "PrivateTmp": ["yes"],
        "CapabilityBoundingSet": [""],
        "StateDirectory": ["edge"],
        "RestrictAddressFamilies": ["AF_UNIX AF_INET AF_INET6"],
    }
    assert {key: service[key] for key in expected} == expected
    assert "ReadWritePaths" not in service  # StateDirectory= is the only writable path


@pytest.mark.parametrize(
    ("name", "groups"),
    [
        ("edge-door.service", {"gpio", "spi", "dialout"}),
        ("edge-badge.service", {"gpio", "spi", "dialout"}),
        ("edge-presence.service", {"gpio", "dialout"}),
        ("edge-collector.service", set()),
        ("edge-console.service", set()),
    ],
)
def test_unit_gets_only_the_device_groups_its_daemon_needs(name: str, groups: set[str]) -> None:
    assert words(unit(name)["Service"]["SupplementaryGroups"]) == groups


@pytest.mark.parametrize("name", HARDWARE_UNITS)
def test_hardware_unit_allows_only_gpio_spi_and_serial_devices(name: str) -> None:
    service = unit(name)["Service"]
    assert service["DevicePolicy"] == ["closed"]
    allowed = {value.split()[0] for value in service["DeviceAllow"]}
    assert "char-gpiochip" in allowed and "char-ttyAMA" in allowed
    assert allowed <= GPIO_SPI_SERIAL
    assert ("char-spi" in allowed) == ("spi" in words(service["SupplementaryGroups"]))


@pytest.mark.parametrize("name", ["edge-collector.service", "edge-console.service"])
def test_hub_service_has_no_devices(name: str) -> None:
    service = unit(name)["Service"]
    assert service["PrivateDevices"] == ["yes"]
    assert "DeviceAllow" not in service


@pytest.mark.parametrize("name", HARDWARE_UNITS)
def test_node_daemon_does_not_wait_for_network_or_time(name: str) -> None:
    sections = unit(name)["Unit"]
    ordering = words(sections["After"] + sections["Wants"] + sections["Requires"] + sections["BindsTo"])
    assert not ordering & {"network-online.target", "network.target", "time-sync.target", "mosquitto.service"}


def test_collector_starts_after_network_and_time_sync() -> None:
    sections = unit("edge-collector.service")["Unit"]
    assert {"network-online.target", "time-sync.target"} <= words(sections["After"])
    assert "network-online.target" in words(sections["Wants"])


@pytest.mark.parametrize("name", UNITS)
def test_unit_is_wanted_by_multi_user_target(name: str) -> None:
    assert unit(name)["Install"]["WantedBy"] == ["multi-user.target"]


# -- the journal of the edge daemons ------------------------------------------------------------------------------

JOURNAL_CONF = UNIT_DIR / "journald@edge.conf"
JOURNALD = Path("/usr/lib/systemd/systemd-journald")
DAY_S = 86400
_SPAN_UNITS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hour": 3600, "d": DAY_S, "day": DAY_S}
_SPAN_UNITS |= {"days": DAY_S, "w": 7 * DAY_S, "week": 7 * DAY_S, "weeks": 7 * DAY_S}
_SIZE_UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3}


def time_span_s(value: str) -> int:
    """A systemd time span of whole units ("89day", "1d 12h") in seconds; ValueError for anything else."""
    parts = re.findall(r"(\d+)\s*([a-z]+)", value)
    if not parts or re.sub(r"\d+\s*[a-z]+", "", value).strip() or any(u not in _SPAN_UNITS for _, u in parts):
        raise ValueError(f"not a time span: {value!r}")
    return sum(int(number) * _SPAN_UNITS[unit] for number, unit in parts)


def size_bytes(value: str) -> int:
    """A systemd size ("64M") in bytes."""
    found = re.fullmatch(r"(\d+)([KMG]?)", value)
    if not found:
        raise ValueError(f"not a size: {value!r}")
    return int(found[1]) * _SIZE_UNITS.get(found[2], 1)


def journal_settings() -> dict[str, str]:
    sections = parse_unit(JOURNAL_CONF.read_text())
    assert set(sections) == {"Journal"}
    settings = sections["Journal"]
    assert all(len(values) == 1 for values in settings.values()), settings
    return {key: values[0] for key, values in settings.items()}


@pytest.mark.parametrize("name", UNITS)
def test_unit_logs_to_the_edge_journal_namespace_under_its_own_name(name: str) -> None:
    service = unit(name)["Service"]
    assert service["LogNamespace"] == ["edge"]
    assert service["SyslogIdentifier"] == [name.removesuffix(".service")]  # as the daemon names its own entries


def test_edge_journal_keeps_no_line_longer_than_the_access_records_90_days() -> None:
    settings = journal_settings()
    retention, file_span = time_span_s(settings["MaxRetentionSec"]), time_span_s(settings["MaxFileSec"])
    # journald deletes whole files: a line can be as old as the retention plus the span of the file it is in.
    assert retention > 0 and file_span > 0 and retention + file_span <= 90 * DAY_S
    assert settings["Storage"] == "persistent"  # retention applies to what is on disk; volatile would lose it at boot
    assert settings["ForwardToSyslog"] == "no"  # no copy under a syslog daemon's own retention


def test_edge_journal_is_bounded_for_an_sd_card() -> None:
    settings = journal_settings()
    assert 0 < size_bytes(settings["SystemMaxUse"]) <= 128 * 1024**2
    assert 0 < size_bytes(settings["SystemMaxFileSize"]) <= size_bytes(settings["SystemMaxUse"]) // 4


def test_edge_journal_config_uses_only_settings_journald_knows() -> None:
    # journald ignores an unknown key with a warning nobody reads: a typo would silently keep logs for ever.
    # Its config parser's table names every key it knows as "Journal.<Key>" inside the binary.
    if not JOURNALD.exists():
        pytest.fail("systemd-journald is missing: install the Debian package 'systemd'")
    known = set(re.findall(rb"Journal\.([A-Za-z]+)", JOURNALD.read_bytes()))
    assert {b"MaxRetentionSec", b"SystemMaxUse"} <= known  # the table was found
    assert {key.encode() for key in journal_settings()} <= known
    assert time_span_s("1d 12h") == 36 * 3600 and size_bytes("64M") == 64 * 1024**2
    with pytest.raises(ValueError):
        time_span_s("89 dayz")


# Peak resident memory measured for each daemon (docs/benchmarks.md): the door replacing a member snapshot of the
# largest size the broker carries (bench_door), the collector draining a 100,000-event backlog (bench_collector),
# the console serving 10,000 members (bench_console), the others idle (bench_footprint; they never receive a message
# above 64 KiB).
MEASURED_PEAK_MB = {
    "edge-door.service": 200,
    "edge-badge.service": 41,
    "edge-presence.service": 45,
    "edge-collector.service": 65,
    "edge-console.service": 112,
}
# A bound that means something on the machine: a door or desk Pi may be a 512 MB Zero 2 W; the hub is larger.
HUB_UNITS = {"edge-collector.service", "edge-console.service"}
SUFFIXES = {"K": 1 / 1024, "M": 1, "G": 1024}


@pytest.mark.parametrize("name", UNITS)
def test_unit_bounds_its_memory_with_room_to_spare_over_its_measured_peak(name: str) -> None:
    [value] = unit(name)["Service"]["MemoryMax"]
    ceiling_mb = float(value[:-1]) * SUFFIXES[value[-1]]
    # Generous (a legitimate peak is never killed), yet a real bound on the machine the daemon runs on.
    assert 1.8 * MEASURED_PEAK_MB[name] <= ceiling_mb <= (512 if name in HUB_UNITS else 384)
    assert "MemoryHigh" not in unit(name)["Service"]  # no throttling below the ceiling: a slow door is no better
