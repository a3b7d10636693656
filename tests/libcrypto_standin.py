"""A libcrypto that misbehaves, for the door's Ed25519 self-test: the system's library with one function replaced
(at the ctypes boundary). Importable by a door process's sitecustomize: it loads nothing but ctypes."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from typing import Any


class Misbehaving:
    """The system's libcrypto, except for one function, whose calls go to `replacement` instead."""

    def __init__(self, name: str, replacement: Callable[..., Any]) -> None:
        path = ctypes.util.find_library("crypto")
        assert path is not None, "libcrypto is needed by the door"
        self._real = ctypes.CDLL(path)
        self._name = name
        self._replacement = replacement

    def __getattr__(self, name: str) -> Any:
        if name == self._name:
            setattr(self, name, self._replacement)  # LibCrypto sets restype and argtypes on it
            return self._replacement
        return getattr(self._real, name)


def accepting(*_: object) -> int:
    return 1


def refusing(*_: object) -> int:
    return 0


def failing(*_: object) -> int:
    return -1


def no_key(*_: object) -> None:
    return None
