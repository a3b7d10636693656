"""The door's Ed25519 verifier (OpenSSL libcrypto through ctypes) agrees with `cryptography`, the staff signer."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.access.ed25519 import SMALL_ORDER_Y, SPKI_PREFIX, KeyFormatError, PublicKey, WeakKeyError, _libcrypto
from edge.config.keyfiles import load_public_key
from edge.errors import ConfigError
from tests.ed25519_points import IDENTITY, SMALL_ORDER, SMALL_ORDER_ALIASES, decode, multiply

STAFF = Ed25519PrivateKey.generate()
OTHER = Ed25519PrivateKey.generate()
PUBLIC = PublicKey(STAFF.public_key().public_bytes_raw())

# RFC 8032 section 7.1, TEST 2: a one-byte message.
RFC_KEY = bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
RFC_MESSAGE = bytes.fromhex("72")
RFC_SIGNATURE = bytes.fromhex(
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
)


def test_the_rfc_8032_test_vector_verifies() -> None:
    assert PublicKey(RFC_KEY).verify(RFC_SIGNATURE, RFC_MESSAGE)


def test_the_rfc_8032_signature_does_not_cover_another_message() -> None:
    assert not PublicKey(RFC_KEY).verify(RFC_SIGNATURE, b"\x73")


@settings(max_examples=200, deadline=None)
@given(message=st.binary(max_size=2048))
def test_a_staff_signature_verifies_on_the_door(message: bytes) -> None:
    assert PUBLIC.verify(STAFF.sign(message), message)


@settings(max_examples=200, deadline=None)
@given(message=st.binary(min_size=1, max_size=512), position=st.integers(min_value=0), bit=st.integers(0, 7))
def test_a_signature_with_any_bit_flipped_is_refused(message: bytes, position: int, bit: int) -> None:
    signature = bytearray(STAFF.sign(message))
    signature[position % len(signature)] ^= 1 << bit
    assert not PUBLIC.verify(bytes(signature), message)


@settings(max_examples=200, deadline=None)
@given(message=st.binary(min_size=1, max_size=512), position=st.integers(min_value=0), bit=st.integers(0, 7))
def test_a_message_with_any_bit_flipped_is_refused(message: bytes, position: int, bit: int) -> None:
    signature = STAFF.sign(message)
    altered = bytearray(message)
    altered[position % len(altered)] ^= 1 << bit
    assert not PUBLIC.verify(signature, bytes(altered))


@settings(max_examples=100, deadline=None)
@given(signature=st.binary(max_size=128), message=st.binary(max_size=128))
def test_arbitrary_bytes_never_verify_and_never_raise(signature: bytes, message: bytes) -> None:
    assert not PUBLIC.verify(signature, message)


def test_another_key_s_signature_is_refused() -> None:
    assert not PUBLIC.verify(OTHER.sign(b"unlock"), b"unlock")


def test_a_pem_written_by_cryptography_reads_as_the_same_key() -> None:
    pem = STAFF.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    assert PublicKey.from_pem(pem) == PUBLIC
    assert PUBLIC.to_pem() == pem


@pytest.mark.parametrize(
    ("pem", "problem"),
    [
        (b"", "no PEM"),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "SubjectPublicKeyInfo"),
        (b"-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n", "no PEM"),
        # An RSA/EC key has another algorithm identifier; this is a P-256 key's first bytes.
        (
            b"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n",
            "SubjectPublicKeyInfo",
        ),
    ],
)
def test_a_pem_that_is_not_an_ed25519_public_key_is_refused(pem: bytes, problem: str) -> None:
    with pytest.raises(KeyFormatError, match=problem):
        PublicKey.from_pem(pem)


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_a_raw_key_of_the_wrong_length_is_refused(size: int) -> None:
    with pytest.raises(KeyFormatError):
        PublicKey(bytes(size))


def test_the_door_daemon_does_not_load_cryptography() -> None:
    # Nor the staff machine's side, which signs with it: the door reads its keys through edge.config.keyfiles.
    probe = (
        "import sys, edge.cli.door, edge.daemons.door, edge.daemons.node_files\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'cryptography' or m.startswith('edge.staff')))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# -- weak (small-order) keys ----------------------------------------------------------------------------------

WEAK = SMALL_ORDER + SMALL_ORDER_ALIASES


def forge(raw_key: bytes) -> tuple[bytes, bytes] | None:
    """A (signature, message) that OpenSSL accepts for `raw_key` without any private key: R a small-order point,
    S = 0. With a small-order key one of the first few messages always works; with a real key none does."""
    for attempt in range(64):
        message = b"unlock the front door %d" % attempt
        for r in SMALL_ORDER:
            signature = r + bytes(32)
            if _libcrypto().verify(raw_key, signature, message):
                return signature, message
    return None


def test_the_listed_encodings_are_all_eight_points_of_small_order() -> None:
    points = [decode(raw) for raw in SMALL_ORDER]
    assert all(point is not None and multiply(8, point) == IDENTITY for point in points)
    assert len(set(points)) == 8  # the whole torsion subgroup: the curve's group is Z/8 x Z/l
    assert {point[1] for point in points if point is not None} == SMALL_ORDER_Y
    assert all(decode(alias) in points for alias in SMALL_ORDER_ALIASES)


@pytest.mark.parametrize("raw", WEAK, ids=[raw.hex()[:4] + ".." + raw.hex()[-2:] for raw in WEAK])
def test_openssl_accepts_a_forged_signature_for_a_small_order_key(raw: bytes) -> None:
    # Why these keys must never be trusted: below `PublicKey`, libcrypto verifies a forgery for each of them.
    assert forge(raw) is not None


def test_no_forgery_verifies_with_a_real_key() -> None:
    assert forge(PUBLIC.raw) is None


@pytest.mark.parametrize("raw", WEAK, ids=[raw.hex()[:4] + ".." + raw.hex()[-2:] for raw in WEAK])
def test_a_small_order_key_is_refused(raw: bytes) -> None:
    with pytest.raises(KeyFormatError):
        PublicKey(raw)


@pytest.mark.parametrize("raw", SMALL_ORDER, ids=[raw.hex()[:4] + ".." + raw.hex()[-2:] for raw in SMALL_ORDER])
def test_a_small_order_key_file_is_refused_at_load_naming_the_file(raw: bytes, tmp_path: Path) -> None:
    path = tmp_path / "snapshot-signing.pub"
    path.write_bytes(pem(raw))
    with pytest.raises(ConfigError) as caught:
        load_public_key(path)
    (issue,) = caught.value.issues
    assert issue.startswith(f"{path}: ") and "weak Ed25519 public key" in issue


def pem(raw: bytes) -> bytes:
    """A PEM SubjectPublicKeyInfo around any 32 bytes, as an attacker or a broken tool could write it."""
    return b"-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(SPKI_PREFIX + raw) + b"\n-----END PUBLIC KEY-----\n"


def test_a_non_canonical_or_off_curve_key_is_refused() -> None:
    with pytest.raises(KeyFormatError, match="canonical"):
        PublicKey((2**255 - 19 + 5).to_bytes(32, "little"))  # y = p + 5
    off_curve = next(y for y in range(2, 100) if decode(y.to_bytes(32, "little")) is None)
    with pytest.raises(KeyFormatError, match="not a point"):
        PublicKey(off_curve.to_bytes(32, "little"))


@settings(max_examples=200, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32))
def test_every_key_the_staff_machine_makes_is_accepted(seed: bytes) -> None:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    assert PublicKey(key.public_key().public_bytes_raw()).verify(key.sign(b"m"), b"m")


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(min_size=32, max_size=32))
def test_any_32_bytes_are_a_key_or_a_key_format_error(raw: bytes) -> None:
    try:
        key = PublicKey(raw)
    except WeakKeyError:
        assert int.from_bytes(raw, "little") & ((1 << 255) - 1) in SMALL_ORDER_Y
    except KeyFormatError:
        assert decode(raw) is None or int.from_bytes(raw, "little") & ((1 << 255) - 1) >= 2**255 - 19
    else:
        assert decode(key.raw) is not None
