"""The staff console: a Django application the hub serves over HTTPS (`edge console -c FILE`).

Nothing here is imported by a daemon: only `edge.cli.console` imports this package, and only when it runs.
Layout: `settings` (Django settings built from the console config), `runtime` (the member file, keys and the
broker link the views use), `jinja` (templates share edge's message catalogue and formatting), `models`
(staff accounts, audit log), `views/` (one module per page family), `server` (cheroot over HTTPS + the MQTT
link in one process).
"""
