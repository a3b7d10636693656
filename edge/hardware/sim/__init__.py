"""Simulators of our hardware, used by the tests and by `edge demo`; they replace only the hardware boundary."""
