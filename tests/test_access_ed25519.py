"""The door's Ed25519 verifier (OpenSSL libcrypto through ctypes) agrees with `cryptography`, the staff signer."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.access.ed25519 import KeyFormatError, PublicKey

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
    probe = "import sys, edge.daemons.door; print('cryptography' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
