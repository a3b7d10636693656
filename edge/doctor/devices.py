"""Checks for the node's devices, chosen from its config sections."""

from __future__ import annotations

from edge.doctor.checks import Check, Context


def device_checks(ctx: Context) -> list[Check]:
    """The device checks that apply to this node's config."""
    if ctx.config is None:
        return []
    checks: list[Check] = []
    return checks
