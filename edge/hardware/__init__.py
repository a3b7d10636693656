"""Hardware drivers: one small module per device kind, each usable with gpiozero's MockFactory."""
