"""The door: everything `edge door` runs, in one package.

Pure: `controller` (the door state machine), `lock_wiring` (which relay level holds a door locked).
Hardware: `relay`, `inputs` (contact, exit button, lock sensor), `feedback` (LED, buzzer), `hardware` (one door's
parts, relay first) and `sim` (a simulated door on mock pins). Disk: `store` (snapshot, replay guard, tracking, mode
files), `floor` (the snapshot floor). Running: `unit` (one door's hardware and controller) and `service`.
"""
