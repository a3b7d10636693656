"""Access control: the member file, signed snapshots and commands, and the pure membership rules.

Modules: `members` (staff file) and `members_csv` (platform imports) on the staff side; `snapshot`, `signing`
and `keys` for what travels to doors; `index`, `rules`, `schedule` and `tracking` for decisions on the door;
`commands` for signed staff commands.
"""
