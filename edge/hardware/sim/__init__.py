"""Simulators of the hardware boundary (SPI chip, serial devices, GPIO pulses), for tests and the demo."""
