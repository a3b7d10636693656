"""Membership rules and the door controller: pure logic, no I/O, time injected."""
