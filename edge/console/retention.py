"""How long the console keeps what it records, and the purge that enforces it (at start, then hourly).

* Login records — django-axes' attempts, failures and access log, and the audit log's own login and logout
  lines — are kept `login_record_days` (90 at most: they are records of people's comings and goings, like the
  doors' access records).
* Every other audit entry — who changed a member, published, sent a door command, exported the door log — is
  kept `audit_log_days` (five years by default). Staff need it to answer "who let this person in, and when"
  long after the fact, and a removal's entry holds the member's whole record so it can be restored; five years
  is how long a coworking space keeps a former member's identity data for its contracts (CNIL), after which
  the entry goes with it.
* Expired sessions are deleted as well (Django leaves them in the database).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

log = logging.getLogger("edge.console")

LOGIN_ACTIONS = ("login", "logout")
PURGE_INTERVAL_S = 3600.0


@dataclass(frozen=True)
class Purged:
    """How many rows one purge deleted, by kind."""

    audit: int
    logins: int
    login_attempts: int
    sessions: int


def purge(now: dt.datetime, *, audit_days: int, login_days: int) -> Purged:
    """Delete what is older than its retention period (needs Django configured)."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.sessions.models import Session

    from edge.console.models import AuditEntry

    audit_limit = now - dt.timedelta(days=audit_days)
    login_limit = now - dt.timedelta(days=login_days)
    audit, _ = AuditEntry.objects.filter(at__lt=audit_limit).exclude(action__in=LOGIN_ACTIONS).delete()
    logins, _ = AuditEntry.objects.filter(at__lt=login_limit, action__in=LOGIN_ACTIONS).delete()
    attempts = 0
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        deleted, _ = model.objects.filter(attempt_time__lt=login_limit).delete()
        attempts += deleted
    sessions, _ = Session.objects.filter(expire_date__lt=now).delete()
    return Purged(audit, logins, attempts, sessions)


class Purger:
    """A thread that purges at start and every `interval_s`; a failed purge is logged and tried again later."""

    def __init__(self, audit_days: int, login_days: int, *, interval_s: float = PURGE_INTERVAL_S) -> None:
        self.audit_days, self.login_days, self.interval_s = audit_days, login_days, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="console-purge", daemon=True)

    def start(self) -> None:
        """Start purging."""
        self._thread.start()

    def stop(self) -> None:
        """Stop (waits for a purge in progress)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def _run(self) -> None:
        from django.db import connection
        from django.utils import timezone

        while not self._stop.is_set():
            try:
                done = purge(timezone.now(), audit_days=self.audit_days, login_days=self.login_days)
                if done.audit or done.logins or done.login_attempts:
                    log.info(
                        "purged %d audit entries, %d login lines, %d login records, %d sessions past retention",
                        done.audit, done.logins, done.login_attempts, done.sessions,
                    )  # fmt: skip
            except Exception as exc:  # a locked or damaged database: say so, keep serving, try again later
                log.warning("console: purging old records failed: %s", exc)
            finally:
                connection.close()
            self._stop.wait(self.interval_s)
