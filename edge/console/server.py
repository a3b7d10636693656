"""`edge console` as one process: cheroot serving the Django application over HTTPS, and the broker link.

cheroot (CherryPy's WSGI server: pure Python, threaded) terminates TLS itself with the certificate and key from
the config (`BuiltinSSLAdapter`), so no other web server is needed on the hub. The broker link runs in the same
process: the pages read the site view it keeps, and publishing goes through its connection. `ConsoleService`
follows the daemons' life cycle (`edge.daemons.runtime.run_service`): ready once the server listens, alive while
the server and the broker link's thread run, stopped cleanly on SIGTERM.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from edge.console.retention import Purger
from edge.console.runtime import Runtime, install

log = logging.getLogger("edge.console")


class ConsoleService:
    """The HTTPS server and the broker link of one console."""

    def __init__(self, runtime: Runtime, *, threads: int = 8) -> None:
        from cheroot import wsgi
        from cheroot.ssl.builtin import BuiltinSSLAdapter
        from django.core.wsgi import get_wsgi_application

        from edge.staff.live import LiveLink

        self.runtime = runtime
        console = runtime.console
        runtime.link = LiveLink(runtime.config)
        install(runtime)
        self.server = wsgi.Server(
            (console.listen, console.port),
            get_wsgi_application(),
            numthreads=threads,
            server_name="edge-console",
            shutdown_timeout=2,
        )
        self.server.ssl_adapter = BuiltinSSLAdapter(str(console.tls_cert_file), str(console.tls_key_file))
        self._thread: threading.Thread | None = None
        self.purger = Purger(console.audit_log_days, console.login_record_days)

    def start(self) -> None:
        """Connect to the broker (in the background) and start serving; return once the port listens."""
        assert self.runtime.link is not None
        self.runtime.link.start()
        self.server.prepare()  # binds the port: an error here (port taken, bad certificate) fails the start
        self._thread = threading.Thread(target=self.server.serve, name="console-https", daemon=True)
        self._thread.start()
        self.purger.start()
        log.info("console: serving https://%s:%s/", self.runtime.console.listen, self.server.bind_addr[1])

    def alive(self) -> bool:
        """True while the server thread and the broker link's thread run."""
        link = self.runtime.link
        return self._thread is not None and self._thread.is_alive() and link is not None and link.alive()

    def stop(self) -> None:
        """Stop serving (requests in flight get shutdown_timeout to finish) and disconnect from the broker."""
        try:
            self.server.stop()
        except Exception as exc:  # stopping must not raise
            log.warning("console: stopping the server: %s", exc)
        if self._thread is not None:
            self._thread.join(5)
        self.purger.stop()
        if self.runtime.link is not None:
            self.runtime.link.stop()
        install(None)

    @property
    def port(self) -> Any:
        """The port actually bound (useful with port 0)."""
        return self.server.bind_addr[1]
