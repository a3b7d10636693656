"""Site keys for staff: created once, never overwritten; the badge key read as every node reads it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edge.config.base import read_secret
from edge.errors import ConfigError
from edge.staff.keygen import generate_site_keys
from edge.staff.keys import generate_badge_key, load_badge_key


def test_a_second_keygen_keeps_every_key_and_reports_the_same_ids(tmp_path: Path) -> None:
    first = generate_site_keys(tmp_path / "keys")
    contents = {p.name: p.read_bytes() for p in (tmp_path / "keys").iterdir()}
    second = generate_site_keys(tmp_path / "keys")
    assert [o.action for o in first] == ["created"] * 3 and [o.action for o in second] == ["kept"] * 3
    assert [o.key_id for o in first] == [o.key_id for o in second]
    assert {p.name: p.read_bytes() for p in (tmp_path / "keys").iterdir()} == contents
    assert first[0].key_id != first[1].key_id  # snapshots and commands are signed with different keys


def test_the_badge_key_is_the_files_text_as_a_node_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "badge.key"
    generate_badge_key(path)
    key = load_badge_key(path)
    assert key == read_secret(path) and len(key) == 64


def test_a_badge_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "badge.key"
    generate_badge_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_badge_key(path)


def test_a_short_badge_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "badge.key"
    path.write_text("too short\n")
    os.chmod(path, 0o600)
    with pytest.raises(ConfigError, match="at least 16 bytes"):
        load_badge_key(path)
