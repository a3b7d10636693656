"""The door: everything `edge door` runs, in one package (docs/architecture.md, "The door: one package").

Pure: `controller` (the door state machine), `lock_wiring` (which relay level holds a door locked); the rules it
applies are in `edge.access.rules`. Hardware: `relay`, `inputs` (contact, exit button, lock sensor), `feedback`
(LED, buzzer), `hardware` (one door's parts, relay first) and `sim` (a simulated door on mock pins). Disk: `store`
(file formats), `floor` (the snapshot floor), `persistence` (modes, tracking, replay guard). Running: `unit` (one
door's hardware and controller), `inbox` and `loop` (every door, one input at a time), `writer` (events to disk, in
order), `snapshots` (the snapshot keeper), `command_handler`, `clock_trust`, and `service`, which wires them.
"""
