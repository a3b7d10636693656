"""Shared by the `edge badge` end-to-end tests: a node's config with one serial reader and its badge key."""

from __future__ import annotations

from pathlib import Path

from tests.rig.fixtures import mqtt_section

KEY = b"0123456789abcdef0123456789abcdef"


def write_config(tmp_path: Path, port: int, reader_port: str) -> Path:
    """A badge node's config (its key written beside it): one RDM6300 reader, a broker on loopback."""
    (tmp_path / "badge.key").write_bytes(KEY)
    config = tmp_path / "node.yaml"
    config.write_text(
        f"""site: lyon
node: reception
state_dir: {tmp_path / "state"}
badge_key_file: badge.key
status_interval_s: 0.5
{mqtt_section(port)}readers:
  - name: reception
    type: rdm6300
    port: {reader_port}
    rearm_s: 0.3
"""
    )
    return config
