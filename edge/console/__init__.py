"""The staff console: a Django application the hub serves over HTTPS (`edge console -c FILE`).

Nothing here is imported by a daemon: only `edge.cli.console` (and `edge demo`, for its certificate) imports this
package, and only when it runs. Layout: `settings` (Django settings built from the console config), `runtime` (the
member file, keys and the broker link the views use), `jinja` (templates share edge's message catalogue and
formatting), `models` (staff accounts, audit log), `views/` (one module per page family; `views/live` serves the live
pages' polls), `today` (the Today page's data from the site view), `changes` and `imports` (what a change does,
before it is saved), `doorlog` (the collector store's decisions), `retention` (purging old records), `certificate`
(a self-signed certificate), `server` (cheroot over HTTPS + the MQTT link in one process).
"""
