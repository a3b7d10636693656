"""Simulators of the hardware drivers' devices, for tests and the demo: pty radars, MockFactory pins."""
