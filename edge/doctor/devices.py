"""Checks for the node's devices, chosen from its config sections."""

from __future__ import annotations

from edge.doctor.checks import Check, Context


def device_checks(ctx: Context) -> list[Check]:
    """The device checks that apply to this node's config, in the order an installer works through them."""
    if ctx.config is None:
        return []
    # Imported here: they pull in the hardware drivers, which a config-only run does not need.
    from edge.doctor.board import check_board
    from edge.doctor.device_files import check_device_files
    from edge.doctor.doors import check_doors
    from edge.doctor.firmware import check_firmware_config
    from edge.doctor.readers import check_readers
    from edge.doctor.sensors import check_sensors
    from edge.doctor.snapshot import check_snapshot

    checks: list[Check] = [check_firmware_config, check_device_files]
    config = ctx.config
    if config.readers or config.doors or config.presence is not None:
        checks.insert(0, check_board)  # the Pi first: the firmware lines and libraries depend on it
    if config.readers or any(door.readers for door in config.doors):
        checks.append(check_readers)
    if config.doors:
        checks += [check_doors, check_snapshot]
    if config.presence is not None:
        checks.append(check_sensors)
    return checks
