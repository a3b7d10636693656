"""Membership rules, the snapshot index, tracking, snapshot and command verification: pure logic, no I/O."""
