"""The door's known-answer self-test of its Ed25519 binding (OpenSSL libcrypto through ctypes): it passes on the real
library, and a library that misbehaves — accepting everything, refusing everything, failing, missing — stops
`edge door` at start with exit 1 and a clear error, before any pin is claimed. The misbehaving libraries are the
real one with one function's answer replaced, at the ctypes boundary."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.access import ed25519
from edge.access.ed25519 import KNOWN_ANSWERS, LibCrypto, self_test
from edge.errors import SelfTestError
from tests.door_support import door_config, make_site
from tests.libcrypto_standin import Misbehaving, accepting, failing, no_key, refusing
from tests.rig.fixtures import REPO, run_edge

# RFC 8032 section 7.1, TEST 1 to 3: the secret keys the known answers were made with.
RFC_SECRETS = (
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
)


def test_the_known_answers_are_rfc_8032s() -> None:
    for secret, (public, message, signature) in zip(RFC_SECRETS, KNOWN_ANSWERS, strict=True):
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
        assert key.public_key().public_bytes_raw().hex() == public
        assert key.sign(bytes.fromhex(message)).hex() == signature


def test_the_libcrypto_binding_passes_its_self_test() -> None:
    self_test()


@pytest.mark.parametrize(
    ("function", "replacement", "message"),
    [
        ("EVP_DigestVerify", accepting, "RFC 8032 test 1: its signature with one bit flipped is accepted"),
        ("EVP_DigestVerify", refusing, "RFC 8032 test 1: its valid signature is refused"),
        ("EVP_DigestVerify", failing, "RFC 8032 test 1: its valid signature is refused"),
        ("EVP_PKEY_new_raw_public_key", no_key, "RFC 8032 test 1: its valid signature is refused"),
    ],
    ids=["accepts everything", "refuses everything", "fails", "takes no key"],
)
def test_a_misbehaving_binding_fails_the_self_test_naming_the_check(
    function: str, replacement: Callable[..., Any], message: str
) -> None:
    with pytest.raises(SelfTestError, match=message):
        self_test(LibCrypto(Misbehaving(function, replacement)))  # type: ignore[arg-type]


def test_a_missing_libcrypto_fails_the_self_test(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> LibCrypto:
        raise RuntimeError("OpenSSL libcrypto (1.1.1 or newer) is needed to check Ed25519 signatures")

    monkeypatch.setattr(ed25519, "_libcrypto", missing)
    with pytest.raises(SelfTestError, match="RuntimeError: OpenSSL libcrypto"):
        self_test()


# The door process gets the misbehaving library the same way, installed before it starts (site-specific hook).
SITECUSTOMIZE = f"""\
import sys
sys.path.insert(0, {str(REPO)!r})
from edge.access import ed25519
from tests.libcrypto_standin import Misbehaving, accepting
ed25519._libcrypto = lambda: ed25519.LibCrypto(Misbehaving("EVP_DigestVerify", accepting))
"""


def test_a_door_whose_binding_accepts_any_signature_exits_1_saying_so(tmp_path: Path) -> None:
    make_site(tmp_path)
    config = door_config(tmp_path, 1)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
    result = run_edge("door", "-c", str(config), "--simulate", str(tmp_path / "sim"), PYTHONPATH=f"{hook}:{REPO}")
    assert result.returncode == 1, result.stderr
    assert "ERROR" in result.stderr
    assert "the Ed25519 self-test of the OpenSSL libcrypto failed" in result.stderr
    assert "RFC 8032 test 1: its signature with one bit flipped is accepted" in result.stderr
    assert "ready in" not in result.stderr
    assert not (tmp_path / "state" / "door-1").exists()  # it stopped before touching its state or its pins
