"""`edge demo`: a whole site on simulated hardware, real daemons and a real broker, playing a coworking day."""
