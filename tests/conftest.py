"""Shared fixtures: real servers from tests.rig, and helpers to run the real CLI."""

from __future__ import annotations

pytest_plugins = ["tests.rig.fixtures", "tests.console_support", "tests.collector_support"]
