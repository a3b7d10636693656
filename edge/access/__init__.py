"""What a door decides with: the membership rules, the snapshot index, passback and seat tracking, the checks of
signed snapshots and commands, Ed25519 verification. Pure: no I/O, time injected. The staff machine's side (member
file, CSV import, keys, signing) is in `edge.staff`."""
