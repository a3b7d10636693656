"""Daemons: thin wiring from config to drivers, domain logic and the bus; each stops cleanly on SIGTERM."""
