"""`edge check-config` loads every file the daemons read at start (trusted public keys, the badge key, TLS files)
with the daemons' own loaders: what `edge door` would refuse, it names by config key and file, and exits 2."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from edge.access.ed25519 import SPKI_PREFIX
from tests.door_support import door_config, make_site
from tests.node_files_support import ca_pem, client_pair
from tests.rig.fixtures import run_edge

IDENTITY = bytes([1]) + bytes(31)


def weak_pem(raw: bytes) -> bytes:
    """A well-formed PEM public key holding a small-order point."""
    return b"-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(SPKI_PREFIX + raw) + b"\n-----END PUBLIC KEY-----\n"


@pytest.fixture
def door(tmp_path: Path) -> Path:
    """A door node config whose key files, badge key and (none yet) TLS files are all real and valid."""
    make_site(tmp_path)
    return door_config(tmp_path, 1883)


def check(config: Path, *args: str) -> tuple[int, list[str]]:
    result = run_edge("check-config", *args, str(config))
    return result.returncode, [line.strip() for line in result.stderr.splitlines()[1:]]


def door_start(config: Path) -> tuple[int, list[str]]:
    result = run_edge("door", "-c", str(config), "--simulate", str(config.parent / "sim"))
    return result.returncode, [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]


def test_a_door_whose_files_are_all_usable_is_valid(door: Path) -> None:
    result = run_edge("check-config", str(door))
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_a_missing_snapshot_key_file_is_named_by_its_config_key(door: Path) -> None:
    key = door.parent / "keys/snapshot-signing.pub"
    key.unlink()
    code, issues = check(door)
    assert code == 2
    assert issues == [f"access.snapshot_keys[0]: {key}: cannot read: No such file or directory"]


BROKEN_KEYS = {
    "text": (b"not a key\n", "not an Ed25519 PEM public key"),
    "private key": (None, "not an Ed25519 PEM public key"),
    "identity point": (weak_pem(IDENTITY), "weak Ed25519 public key"),
    "all-zero key": (weak_pem(bytes(32)), "weak Ed25519 public key"),
}


@pytest.mark.parametrize("listed", ["snapshot", "command"])
@pytest.mark.parametrize("broken", BROKEN_KEYS, ids=list(BROKEN_KEYS))
def test_a_key_file_the_door_refuses_is_refused_with_its_config_key(door: Path, listed: str, broken: str) -> None:
    key = door.parent / f"keys/{listed}-signing.pub"
    content, problem = BROKEN_KEYS[broken]
    key.write_bytes(content if content is not None else key.with_suffix(".key").read_bytes())
    code, issues = check(door)
    assert code == 2
    (issue,) = issues
    assert issue.startswith(f"access.{listed}_keys[0]: {key}: ") and problem in issue


def test_check_config_and_the_door_refuse_the_same_files_with_the_same_words(door: Path) -> None:
    (door.parent / "keys/command-signing.pub").write_bytes(weak_pem(IDENTITY))
    (door.parent / "keys/snapshot-signing.pub").write_text("not a key\n")
    code, checked = check(door)
    started, refused = door_start(door)
    assert (code, started) == (2, 2)
    assert refused == checked and len(refused) == 2


def test_every_unusable_file_is_reported_in_one_run(door: Path) -> None:
    (door.parent / "keys/snapshot-signing.pub").unlink()
    (door.parent / "keys/command-signing.pub").write_bytes(weak_pem(bytes(32)))
    (door.parent / "keys/badge.key").write_text("\n")
    code, issues = check(door)
    assert code == 2
    assert [issue.split(": ", 1)[0] for issue in issues] == [
        "access.snapshot_keys[0]",
        "access.command_keys[0]",
        "badge_key_file",
    ]


def test_an_empty_badge_key_is_refused_by_check_config_and_the_door(door: Path) -> None:
    badge_key = door.parent / "keys/badge.key"
    badge_key.write_text("\n")
    code, issues = check(door)
    assert code == 2
    assert issues == [
        f"badge_key_file: {badge_key}: a badge key is at least 16 bytes, this one has 0 "
        "(generate one with `edge members keygen`)"
    ]
    assert door_start(door) == (2, issues)


def test_with_no_secrets_the_files_are_not_read(door: Path) -> None:
    (door.parent / "keys/snapshot-signing.pub").unlink()
    assert check(door, "--no-secrets") == (0, [])


# -- TLS to the broker ----------------------------------------------------------------------------------------


def with_tls(config: Path, tls: str) -> Path:
    text = config.read_text().replace("reconnect_max_s: 1}", f"reconnect_max_s: 1, tls: {{{tls}}}}}")
    config.write_text(text)
    return config


def test_a_real_ca_and_client_certificate_are_valid(door: Path) -> None:
    (door.parent / "ca.crt").write_bytes(ca_pem())
    cert, key = client_pair(door.parent)
    with_tls(door, f"ca_file: ca.crt, cert_file: {cert.name}, key_file: {key.name}")
    assert check(door) == (0, [])


def test_a_ca_file_that_is_not_a_certificate_is_named(door: Path) -> None:
    (door.parent / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n")
    with_tls(door, "ca_file: ca.crt")
    code, issues = check(door)
    assert code == 2
    (issue,) = issues
    assert issue.startswith(f"mqtt.tls.ca_file: {door.parent / 'ca.crt'}: not a PEM CA certificate")


def test_an_encrypted_client_key_is_refused_rather_than_prompted_for(door: Path) -> None:
    (door.parent / "ca.crt").write_bytes(ca_pem())
    cert, key = client_pair(door.parent, passphrase=b"secret passphrase")
    with_tls(door, f"ca_file: ca.crt, cert_file: {cert.name}, key_file: {key.name}")
    code, issues = check(door)
    assert code == 2
    (issue,) = issues
    assert issue.startswith("mqtt.tls.cert_file, mqtt.tls.key_file: ") and "the key is encrypted" in issue


def test_a_client_key_that_does_not_match_its_certificate_is_named(door: Path) -> None:
    (door.parent / "ca.crt").write_bytes(ca_pem())
    cert, _key = client_pair(door.parent)
    other = door.parent / "other"
    other.mkdir()
    _cert, key = client_pair(other)
    with_tls(door, f"ca_file: ca.crt, cert_file: {cert.name}, key_file: other/{key.name}")
    code, issues = check(door)
    assert code == 2
    (issue,) = issues
    assert issue.startswith("mqtt.tls.cert_file, mqtt.tls.key_file: ") and "not a PEM certificate" in issue


def test_every_daemon_refuses_an_unusable_ca_file_with_exit_2_naming_it(tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_text("garbage\n")
    (tmp_path / "badge.key").write_text("0123456789abcdef0123456789abcdef\n")
    config = tmp_path / "reception.yaml"
    config.write_text(
        f"site: lyon\nnode: reception\nstate_dir: {tmp_path / 'state'}\nbadge_key_file: badge.key\n"
        "mqtt: {host: 127.0.0.1, tls: {ca_file: ca.crt}}\n"
        "readers:\n  - {name: desk, type: rdm6300, port: /dev/ttyEDGE-none}\n"
    )
    code, checked = check(config)
    result = run_edge("badge", "-c", str(config))
    assert (code, result.returncode) == (2, 2), result.stderr
    assert checked[0].startswith("mqtt.tls.ca_file: ") and f"  {checked[0]}" in result.stderr.splitlines()
