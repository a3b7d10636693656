"""Hardware drivers: one small module per device kind, each behind a small interface, each with a simulator."""
