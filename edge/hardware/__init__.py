"""Hardware drivers, one small module per device kind, each with a simulator in `edge.hardware.sim`."""
