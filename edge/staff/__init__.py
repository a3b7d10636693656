"""Staff tools behind `edge members` and the console: the member file (model, file, shared edits), CSV import, the
site's keys, dry runs of the rules, signed snapshots and door commands, and which snapshot each door applied.
Runs on the staff machine; a door never imports it."""
