"""The exception tree: one root, leaves that also subclass the matching builtin."""


class EdgeError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(EdgeError, ValueError):
    """A node configuration that cannot be used; the CLI exits 2 and prints every issue under `source` (its file)."""

    def __init__(self, issues: list[str], source: object = None) -> None:
        super().__init__("\n".join(issues))
        self.issues = issues
        self.source = source


class UsageError(EdgeError, ValueError):
    """A command line that cannot be run as given (options that exclude each other, a bad value); exit 2."""


class PayloadError(EdgeError, ValueError):
    """An MQTT payload that does not satisfy the contract; `reason` is a short counted label."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class FrameError(EdgeError, ValueError):
    """A corrupt frame from a reader or sensor; counted and dropped by the caller."""


class ChecksumError(FrameError):
    """A frame whose checksum, parity or check byte does not match its data."""


class StoreError(EdgeError, OSError):
    """The local store (outbox, collector store) could not be written."""


class SelfTestError(EdgeError, RuntimeError):
    """A library a daemon relies on failed its built-in known-answer test: the daemon must not run with it."""


class DeviceError(EdgeError, OSError):
    """A hardware device, or the library that drives it, cannot be used on this machine."""


class BrokerError(EdgeError, ConnectionError):
    """The MQTT broker could not be reached, refused us, or did not acknowledge in time (staff tools)."""


class SourceError(EdgeError, OSError):
    """A report's data source (collector store, InfluxDB) could not be read."""
