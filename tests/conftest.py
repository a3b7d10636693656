"""Shared fixtures: real servers from tests.rig, and helpers to run the real CLI."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# No per-example deadline and no "generation too slow" check: both are timing assertions, and a busy machine (CI,
# or two workers beside a loaded run) makes an example take seconds now and then. Speed is measured by benchmarks/.
settings.register_profile("edge", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("edge")

pytest_plugins = ["tests.rig.fixtures", "tests.console_support", "tests.collector_support"]
