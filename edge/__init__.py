"""edge: doors and desks of a coworking space, run from Raspberry Pis."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("edge")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.1.0+src"

__all__ = ["__version__"]
