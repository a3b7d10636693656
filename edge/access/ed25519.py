"""Ed25519 public keys and signature checks for doors, through the OpenSSL libcrypto the interpreter already loads.

A door only ever verifies (it never signs), and it runs for months on a small Pi: the `cryptography` package
costs it about 8 MB of resident memory for one function, while Python's own `ssl`/`hashlib` modules already map
OpenSSL's libcrypto (3.x on Debian 12 / Raspberry Pi OS Bookworm), whose `EVP_DigestVerify` does the same check.
This module calls that function through ctypes. Key parsing is RFC 8410: an Ed25519 SubjectPublicKeyInfo is a
fixed 12-byte DER prefix followed by the 32-byte key. The staff machine keeps using `cryptography` to create keys
and sign (edge.staff.keys, edge.staff.signing); tests check both sides agree.

OpenSSL checks a signature against whatever 32 bytes it is given as the key, and with a key of small order (the
identity point `01 00..00`, the all-zero key, and the six other points whose multiple by the cofactor 8 is the
identity) a signature forged without any secret verifies for any message. `PublicKey` therefore refuses, when a
key is read, those points and any encoding that is not canonical or not on the curve: a key `edge members keygen`
or `openssl genpkey` makes is never one of them.
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import ctypes.util
import re
from functools import cache

RAW_KEY_BYTES = 32
SIGNATURE_BYTES = 64
# RFC 8410 section 4: SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (0 unused bits) 32 bytes }.
SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
_PEM = re.compile(rb"-----BEGIN PUBLIC KEY-----\s*(?P<body>[A-Za-z0-9+/=\s]+?)\s*-----END PUBLIC KEY-----")
_EVP_PKEY_ED25519 = 1087  # NID_ED25519, stable across OpenSSL 1.1.1 and 3.x

# The curve's field and constant d (RFC 8032 section 5.1), to check where a key's point is; nothing is computed
# with the key beyond that: signatures are OpenSSL's.
_P = 2**255 - 19
_D = -121665 * pow(121666, -1, _P) % _P
_Y_MASK = (1 << 255) - 1
# The y coordinates of the 8 points of small order (the cofactor-8 torsion subgroup; RFC 8032's identity is y = 1,
# order 2 is y = -1, order 4 is y = 0, order 8 the other two). Every point with one of these y has small order,
# whatever the sign bit says, and a canonical encoding has y < p: together this covers the 8 points' canonical
# encodings, their sign-flipped and their non-canonical (y + p) ones (libsodium's list, tests/ed25519_points.py).
SMALL_ORDER_Y = frozenset(
    {
        0,
        1,
        _P - 1,
        0x05FC536D880238B13933C6D305ACDFD5F098EFF289F4C345B027B2C28F95E826,
        0x7A03AC9277FDC74EC6CC392CFA53202A0F67100D760B3CBA4FD84D3D706A17C7,
    }
)


class KeyFormatError(ValueError):
    """The bytes are not an Ed25519 public key."""


class WeakKeyError(KeyFormatError):
    """The bytes encode a point of small order: with it as the key, forged signatures verify."""


class PublicKey:
    """An Ed25519 public key that verifies signatures (never signs)."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        if len(raw) != RAW_KEY_BYTES:
            raise KeyFormatError(f"an Ed25519 public key is {RAW_KEY_BYTES} bytes, not {len(raw)}")
        _check_point(raw)
        self.raw = bytes(raw)

    @classmethod
    def from_der(cls, der: bytes) -> PublicKey:
        """Read a DER SubjectPublicKeyInfo holding an Ed25519 key."""
        if len(der) != len(SPKI_PREFIX) + RAW_KEY_BYTES or not der.startswith(SPKI_PREFIX):
            raise KeyFormatError("not an Ed25519 SubjectPublicKeyInfo")
        return cls(der[len(SPKI_PREFIX) :])

    @classmethod
    def from_pem(cls, pem: bytes) -> PublicKey:
        """Read a PEM `PUBLIC KEY` block (as `openssl pkey -pubout` and `edge members keygen` write it)."""
        match = _PEM.search(pem)
        if match is None:
            raise KeyFormatError("no PEM 'PUBLIC KEY' block found")
        try:
            der = base64.b64decode(b"".join(match["body"].split()), validate=True)
        except binascii.Error:
            raise KeyFormatError("the PEM body is not valid base64") from None
        return cls.from_der(der)

    def to_pem(self) -> bytes:
        """The PEM SubjectPublicKeyInfo form of this key."""
        body = base64.b64encode(SPKI_PREFIX + self.raw)
        return b"-----BEGIN PUBLIC KEY-----\n" + body + b"\n-----END PUBLIC KEY-----\n"

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True when `signature` is this key's Ed25519 signature of `message`."""
        if len(signature) != SIGNATURE_BYTES:
            return False
        return _libcrypto().verify(self.raw, signature, message)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"PublicKey({self.raw.hex()[:16]}…)"


def _check_point(raw: bytes) -> None:
    """Refuse a key that is not a canonical encoding of a curve point, or whose point has small order."""
    y = int.from_bytes(raw, "little") & _Y_MASK
    if y >= _P:
        raise KeyFormatError("not a canonical Ed25519 point encoding (y is not reduced)")
    if y in SMALL_ORDER_Y:
        raise WeakKeyError("a weak Ed25519 public key (a point of small order): forged signatures would verify with it")
    # x^2 = (y^2 - 1) / (d y^2 + 1) must have a square root (Euler's criterion) for a point to exist.
    y2 = y * y % _P
    x2 = (y2 - 1) * pow(_D * y2 + 1, -1, _P) % _P
    if x2 != 0 and pow(x2, (_P - 1) // 2, _P) != 1:
        raise KeyFormatError("not a point of the Ed25519 curve")


class _LibCrypto:
    """The four libcrypto calls a verification needs, with their C signatures declared."""

    def __init__(self, library: ctypes.CDLL) -> None:
        self._new_key = library.EVP_PKEY_new_raw_public_key
        self._new_key.restype = ctypes.c_void_p
        self._new_key.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        self._free_key = library.EVP_PKEY_free
        self._free_key.restype = None
        self._free_key.argtypes = [ctypes.c_void_p]
        self._new_ctx = library.EVP_MD_CTX_new
        self._new_ctx.restype = ctypes.c_void_p
        self._new_ctx.argtypes = []
        self._free_ctx = library.EVP_MD_CTX_free
        self._free_ctx.restype = None
        self._free_ctx.argtypes = [ctypes.c_void_p]
        self._init = library.EVP_DigestVerifyInit
        self._init.restype = ctypes.c_int
        self._init.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        self._verify = library.EVP_DigestVerify
        self._verify.restype = ctypes.c_int
        self._verify.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
        self._clear_errors = library.ERR_clear_error
        self._clear_errors.restype = None
        self._clear_errors.argtypes = []

    def verify(self, raw_key: bytes, signature: bytes, message: bytes) -> bool:
        key = self._new_key(_EVP_PKEY_ED25519, None, raw_key, len(raw_key))
        if not key:
            self._clear_errors()
            return False
        ctx = self._new_ctx()
        try:
            if not ctx:
                raise MemoryError("EVP_MD_CTX_new failed")
            if self._init(ctx, None, None, None, key) != 1:
                return False
            return bool(self._verify(ctx, signature, len(signature), message, len(message)) == 1)
        finally:
            self._free_ctx(ctx)
            self._free_key(key)
            # A failed check leaves an entry on this thread's OpenSSL error queue, which the ssl module reads.
            self._clear_errors()


@cache
def _libcrypto() -> _LibCrypto:
    """The libcrypto behind Python's hashlib (already mapped), or the system's if hashlib is built otherwise."""
    candidates: list[str] = []
    try:
        import _hashlib

        candidates.append(_hashlib.__file__)  # dlsym on it also searches its dependency, libcrypto
    except (ImportError, AttributeError):
        pass
    found = ctypes.util.find_library("crypto")
    if found:
        candidates.append(found)
    for name in candidates:
        try:
            library = ctypes.CDLL(name)
            library.EVP_DigestVerify  # noqa: B018 - the probe: OpenSSL 1.1.1 or newer
        except (OSError, AttributeError):
            continue
        return _LibCrypto(library)
    raise RuntimeError("OpenSSL libcrypto (1.1.1 or newer) is needed to check Ed25519 signatures")
