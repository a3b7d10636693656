"""Signed snapshots: tokens not UIDs, signature, site and version checks, tampering, key files."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.access.index import SnapshotIndex
from edge.access.signed import TrustedKeys, canonical_json, key_id
from edge.access.snapshot import apply_snapshot, verify_snapshot
from edge.config.base import read_secret
from edge.config.keyfiles import load_public_key, load_trusted_keys
from edge.errors import ConfigError, PayloadError
from edge.staff.keys import generate_badge_key, generate_signing_key, load_signing_key
from edge.staff.memberfile import parse_member_file
from edge.staff.signing import public_key_of, sign
from edge.staff.snapshot import build_snapshot, sign_snapshot
from tests.access_support import BADGE_KEY, CREATED, SITE_YAML, token

MEMBERS = parse_member_file(SITE_YAML + "  - {id: named, name: Zoé Secret, plan: resident, badges: ['04:AA:BB:CC']}\n")
KEY = Ed25519PrivateKey.generate()
TRUSTED = TrustedKeys([public_key_of(KEY)])


def signed(version: int = 5, key: Ed25519PrivateKey = KEY) -> bytes:
    """A signed snapshot of the test site."""
    return sign_snapshot(build_snapshot(MEMBERS, version=version, badge_key=BADGE_KEY, created_at=CREATED), key)


def refusal(raw: bytes, *, site: str = "lyon", applied: int | None = None, trusted: TrustedKeys = TRUSTED) -> str:
    """The reason a door refuses a snapshot."""
    with pytest.raises(PayloadError) as caught:
        apply_snapshot(raw, trusted, site=site, applied_version=applied)
    return caught.value.reason


def test_a_snapshot_carries_tokens_never_uids_or_names() -> None:
    raw = signed()
    text = raw.decode("ascii")
    for uid in ("04AABBCC", "04:AA:BB:CC", "A1", "DEADBEEF"):
        assert f'"{uid}"' not in text
    assert "Zo" not in text and "Secret" not in text
    payload = json.loads(raw)["payload"]
    named = next(m for m in payload["members"] if m["id"] == "named")
    assert named["tokens"] == [token("04AABBCC")]


def test_a_verified_snapshot_indexes_every_badge() -> None:
    index = apply_snapshot(signed(), TRUSTED, site="lyon", applied_version=4)
    assert index.version == 5 and index.member_count == len(MEMBERS.members)
    assert index.by_token[token("C1")].id == index.by_token[token("C2")].id == "two-cards"
    assert index.by_token[token("B1")].seats == 2
    assert str(index.tz) == "Europe/Paris"


def test_the_same_member_file_gives_the_same_bytes() -> None:
    assert signed() == signed()
    assert json.loads(signed())["payload"] == json.loads(signed())["payload"]


def test_canonical_json_sorts_keys_and_has_no_spaces() -> None:
    assert canonical_json({"b": [1, "é"], "a": None}) == b'{"a":null,"b":[1,"\\u00e9"]}'


@pytest.mark.parametrize(
    ("case", "edit", "reason"),
    [
        ("member un-suspended", lambda m: m["payload"]["members"][4].pop("suspended"), "forged"),
        ("version raised", lambda m: m["payload"].update(version=99), "forged"),
        ("token swapped", lambda m: m["payload"]["members"][0].update(tokens=["0" * 32]), "forged"),
        ("signature dropped", lambda m: m.pop("signature"), "unsigned"),
        ("signature emptied", lambda m: m["signature"].update(value=""), "unsigned"),
        ("other algorithm", lambda m: m["signature"].update(alg="none"), "unsigned"),
        ("signature garbled", lambda m: m["signature"].update(value="!!!"), "forged"),
        ("unknown key id", lambda m: m["signature"].update(key="0" * 16), "unknown_key"),
        ("kind changed", lambda m: m.update(kind="edge-door-command/1"), "wrong_kind"),
        ("payload not an object", lambda m: m.update(payload=[1]), "malformed"),
    ],
)
def test_a_tampered_snapshot_is_refused(case: str, edit, reason: str) -> None:
    message = json.loads(signed())
    edit(message)
    assert refusal(json.dumps(message).encode()) == reason


def test_re_encoding_the_json_does_not_break_the_signature() -> None:
    message = json.loads(signed())
    pretty = json.dumps(message, indent=2, ensure_ascii=False).encode()
    assert apply_snapshot(pretty, TRUSTED, site="lyon", applied_version=None).version == 5


def test_a_snapshot_signed_by_another_key_is_refused() -> None:
    thief = Ed25519PrivateKey.generate()
    assert refusal(signed(key=thief)) == "unknown_key"


def test_a_key_pretending_to_be_a_trusted_one_is_forged() -> None:
    thief = Ed25519PrivateKey.generate()
    message = json.loads(signed(key=thief))
    message["signature"]["key"] = key_id(public_key_of(KEY))
    assert refusal(json.dumps(message).encode()) == "forged"


@pytest.mark.parametrize(("applied", "ok"), [(None, True), (4, True), (5, False), (6, False)])
def test_only_a_newer_version_applies(applied: int | None, ok: bool) -> None:
    if ok:
        assert apply_snapshot(signed(5), TRUSTED, site="lyon", applied_version=applied).version == 5
    else:
        assert refusal(signed(5), applied=applied) == "not_newer"


def test_a_snapshot_for_another_site_is_refused() -> None:
    assert refusal(signed(), site="paris") == "wrong_site"


@pytest.mark.parametrize("raw", [b"", b"not json", b"\xff\xfe", b"[1,2]", b'{"kind":"edge-members-snapshot/1"}'])
def test_garbage_is_refused_with_a_reason(raw: bytes) -> None:
    assert refusal(raw) in {"not_json", "malformed"}


@pytest.mark.parametrize(
    ("case", "edit"),
    [
        ("plan missing", lambda p: p["plans"].pop("flex")),
        ("bad token length", lambda p: p["members"][0].update(tokens=["abc"])),
        ("token given twice", lambda p: p["members"][1].update(tokens=p["members"][0]["tokens"])),
        ("bad date", lambda p: p["members"][0].update(until="2026-02-30")),
        ("bad time zone", lambda p: p.update(timezone="Mars/Olympus")),
        ("bad window", lambda p: p["plans"]["flex"][0].update(to="25:00")),
        ("members not a list", lambda p: p.update(members=7)),
        ("member not an object", lambda p: p["members"].append("x")),
        ("closure for unknown plan", lambda p: p["closures"].update({"2026-01-01": ["gold"]})),
        ("account not text", lambda p: p["members"][7].update(account=5)),
        ("future format", lambda p: p.update(format=2)),
    ],
)
def test_a_signed_but_malformed_snapshot_is_refused_not_crashed(case: str, edit) -> None:
    payload = build_snapshot(MEMBERS, version=5, badge_key=BADGE_KEY, created_at=CREATED)
    edit(payload)
    assert refusal(sign_snapshot(payload, KEY)) in {"malformed", "unsupported_format"}


@pytest.mark.parametrize(
    ("edit", "detail"),
    [
        (lambda p: p["members"][1].update(tokens=["abc"]), "members[1]: a badge token is 32 hex characters"),
        (
            lambda p: p["members"][2].update(tokens=p["members"][0]["tokens"]),
            "members[2]: a badge token already belongs to members[0]",
        ),
    ],
)
def test_a_refusal_names_members_by_position_not_by_id(edit, detail: str) -> None:
    # The door logs the refusal, and its log outlives access records: no member id in it.
    payload = build_snapshot(MEMBERS, version=5, badge_key=BADGE_KEY, created_at=CREATED)
    edit(payload)
    with pytest.raises(PayloadError) as caught:
        apply_snapshot(sign_snapshot(payload, KEY), TRUSTED, site="lyon", applied_version=None)
    assert detail in str(caught.value)
    assert not any(m["id"] in str(caught.value) for m in payload["members"])


def test_a_snapshot_never_passes_as_another_kind() -> None:
    payload = build_snapshot(MEMBERS, version=5, badge_key=BADGE_KEY, created_at=CREATED)
    assert refusal(sign("edge-door-command/1", payload, KEY)) == "wrong_kind"


def test_verify_returns_the_payload_the_index_is_built_from() -> None:
    payload = verify_snapshot(signed(), TRUSTED, site="lyon", applied_version=None)
    assert SnapshotIndex.from_payload(payload).member_count == len(payload["members"])


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_flipping_any_byte_either_fails_or_changes_nothing(data: st.DataObject) -> None:
    raw = bytearray(signed())
    position = data.draw(st.integers(0, len(raw) - 1))
    raw[position] = data.draw(st.integers(0, 255).filter(lambda b: b != raw[position]))
    try:
        payload = verify_snapshot(bytes(raw), TRUSTED, site="lyon", applied_version=None)
    except PayloadError:
        return
    assert payload == json.loads(signed())["payload"]


def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    identifier = generate_signing_key(tmp_path / "staff.key", tmp_path / "staff.pub")
    assert stat.S_IMODE((tmp_path / "staff.key").stat().st_mode) == 0o600
    private = load_signing_key(tmp_path / "staff.key")
    public = load_public_key(tmp_path / "staff.pub")
    assert key_id(public) == identifier == key_id(public_key_of(private))
    raw = signed(key=private)
    assert apply_snapshot(raw, load_trusted_keys([tmp_path / "staff.pub"]), site="lyon", applied_version=None)


def test_keygen_never_overwrites(tmp_path: Path) -> None:
    generate_signing_key(tmp_path / "a.key", tmp_path / "a.pub")
    before = (tmp_path / "a.key").read_bytes()
    with pytest.raises(ConfigError, match="already exists"):
        generate_signing_key(tmp_path / "a.key", tmp_path / "b.pub")
    assert (tmp_path / "a.key").read_bytes() == before
    assert not (tmp_path / "b.pub").exists()


def test_a_private_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    generate_signing_key(tmp_path / "a.key", tmp_path / "a.pub")
    os.chmod(tmp_path / "a.key", 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_signing_key(tmp_path / "a.key")


@pytest.mark.parametrize(
    "content", [b"", b"not a key", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"]
)
def test_a_bad_key_file_is_a_config_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "k.pem"
    path.write_bytes(content)
    os.chmod(path, 0o600)
    with pytest.raises(ConfigError):
        load_signing_key(path)
    with pytest.raises(ConfigError):
        load_public_key(path)


def test_a_public_key_file_is_not_a_private_key(tmp_path: Path) -> None:
    generate_signing_key(tmp_path / "a.key", tmp_path / "a.pub")
    os.chmod(tmp_path / "a.pub", 0o600)
    with pytest.raises(ConfigError):
        load_signing_key(tmp_path / "a.pub")


def test_badge_key_file_is_random_and_private(tmp_path: Path) -> None:
    generate_badge_key(tmp_path / "badge.key")
    generate_badge_key(tmp_path / "other.key")
    key = read_secret(tmp_path / "badge.key")
    assert len(key) == 64 and key != read_secret(tmp_path / "other.key")
    assert stat.S_IMODE((tmp_path / "badge.key").stat().st_mode) == 0o600
