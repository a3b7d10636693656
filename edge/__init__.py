"""edge: doors and desks of a coworking space, run from Raspberry Pis."""

# The single source of the version (pyproject.toml reads it from here). Not importlib.metadata: that import
# (email parsing, zipfile, pathlib) costs every daemon about 4 MB of resident memory for one string.
__version__ = "0.1.0"

__all__ = ["__version__"]
