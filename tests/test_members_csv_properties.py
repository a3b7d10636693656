"""Property tests of the CSV reader: any member list, written in any dialect and encoding we support, reads back.

Supported: delimiters `,` `;` tab; minimal or full quoting; CRLF or LF; UTF-8 with or without BOM, UTF-16 with
BOM (Excel's "Unicode text"), Windows-1252 (Excel in French); flags in English or French in any case; ISO or
French dates. Windows-1252 bytes that also form a UTF-8 sequence are left out: those bytes are the same as a
UTF-8 file's, so no reader can tell them apart (a file that has both kinds is refused, tested beside).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from edge.staff.csv_import import import_csv
from edge.staff.csv_mapping import MAPPINGS
from edge.staff.csv_text import TextError, decode_export
from edge.staff.memberfile import parse_member_file

BASE = parse_member_file(
    """\
site: lyon
plans:
  resident: {schedule: always}
  flex: {schedule: [{days: mon-fri, from: 08:00, to: 19:00}]}
  evening: {schedule: [{days: mon-fri, from: 18:00, to: 02:00}]}
"""
)
HEADER = ["member_id", "name", "plan", "badges", "valid_from", "valid_until", "suspended", "account", "staff"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252"]
FLAG_WORDS = [
    ("true", "false"),
    ("TRUE", "FALSE"),
    ("VRAI", "FAUX"),
    ("Vrai", "Faux"),
    ("oui", "non"),
    ("OUI", "NON"),
    ("yes", "no"),
    ("1", "0"),
]
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
# Letters and signs of French names and company names, all of them in Windows-1252.
FRENCH = "ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸàâäçéèêëîïôöùûüÿŒœÆæ’«»€°"


@dataclass(frozen=True)
class Row:
    """One member as the test expects to read it back."""

    id: str
    name: str
    plan: str
    badges: tuple[str, ...]
    valid_from: dt.date | None
    valid_until: dt.date | None
    suspended: bool
    account: str | None
    staff: bool


def text_for(encoding: str, *, printable: bool) -> st.SearchStrategy[str]:
    """Text that `encoding` can hold: any character for UTF-8/16, Windows-1252's for cp1252."""
    if encoding == "cp1252":
        alphabet = st.sampled_from("abcXYZ -'.,;\"&0123456789" + FRENCH + ("" if printable else "\t\n"))
    else:
        categories = ("L", "N", "P", "S") if printable else ("L", "N", "P", "S", "Zs")
        alphabet = st.characters(categories=categories) | st.sampled_from(" \t\n" if not printable else " ")
    return st.text(alphabet, max_size=25)


dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))
uids = st.binary(min_size=1, max_size=7).map(lambda b: b.hex().upper())


@st.composite
def member_rows(draw: st.DrawFn, encoding: str) -> list[Row]:
    """Up to eight members with unique ids and badges."""
    ids = draw(st.lists(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:@+-]{0,12}", fullmatch=True), max_size=8, unique=True))
    all_badges = draw(st.lists(uids, max_size=3 * len(ids), unique=True))
    rows = []
    for member_id in ids:
        count = draw(st.integers(0, min(3, len(all_badges))))
        badges, all_badges = tuple(all_badges[:count]), all_badges[count:]
        start, end = draw(st.none() | dates), draw(st.none() | dates)
        if start and end and end < start:
            start, end = end, start
        account = draw(text_for(encoding, printable=True)).strip()[:100] or None
        rows.append(
            Row(
                id=member_id,
                name=draw(text_for(encoding, printable=False)).strip(),
                plan=draw(st.sampled_from(sorted(BASE.plans))),
                badges=badges,
                valid_from=start,
                valid_until=end,
                suspended=draw(st.booleans()),
                account=account,
                staff=draw(st.booleans()),
            )
        )
    return rows


def has_utf8_sequence(raw: bytes) -> bool:
    """True when some two to four bytes of `raw` decode as one UTF-8 character beyond ASCII."""
    for i, byte in enumerate(raw):
        if byte >= 0xC2:
            for length in (2, 3, 4):
                try:
                    raw[i : i + length].decode("utf-8")
                except UnicodeDecodeError:
                    continue
                if len(raw[i : i + length]) == length:
                    return True
    return False


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    encoding=st.sampled_from(ENCODINGS),
    delimiter=st.sampled_from([",", ";", "\t"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    newline=st.sampled_from(["\r\n", "\n"]),
    flags=st.sampled_from(FLAG_WORDS),
    date_format=st.sampled_from(DATE_FORMATS),
    badge_separator=st.sampled_from([",", ";", " ", "|", ", "]),
)
def test_any_member_list_written_in_a_supported_dialect_and_encoding_reads_back_the_same(
    data: st.DataObject,
    encoding: str,
    delimiter: str,
    quoting: int,
    newline: str,
    flags: tuple[str, str],
    date_format: str,
    badge_separator: str,
) -> None:
    rows = data.draw(member_rows(encoding))
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator=newline)
    writer.writerow(HEADER)

    def day(value: dt.date | None) -> str:
        return value.strftime(date_format) if value else ""

    for r in rows:
        writer.writerow(
            [
                r.id,
                r.name,
                r.plan,
                badge_separator.join(r.badges),
                day(r.valid_from),
                day(r.valid_until),
                flags[0] if r.suspended else flags[1],
                r.account or "",
                flags[0] if r.staff else flags[1],
            ]
        )
    raw = out.getvalue().encode(encoding)
    if encoding == "cp1252":
        assume(not has_utf8_sequence(raw))
    members, report = import_csv(raw, MAPPINGS["generic"], BASE)
    read = [
        Row(m.id, m.name, m.plan, m.badges, m.valid_from, m.valid_until, m.suspended, m.account, m.staff)
        for m in members.members
    ]
    assert read == rows
    assert report.imported == len(rows) and not report.skipped


@settings(max_examples=300, deadline=None)
@given(data=st.data(), encoding=st.sampled_from(ENCODINGS))
def test_any_text_without_control_characters_decodes_to_itself(data: st.DataObject, encoding: str) -> None:
    text = data.draw(text_for(encoding, printable=False))
    raw = text.encode(encoding)
    if encoding == "cp1252":
        assume(not has_utf8_sequence(raw))
    assert decode_export(raw).text == text


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=60).map(lambda t: t.encode("utf-8") + "é".encode("cp1252")))
def test_any_bytes_are_refused_or_read_exactly_never_misread(raw: bytes) -> None:
    try:
        decoded = decode_export(raw)
    except TextError:
        return
    body = raw.removeprefix(b"\xef\xbb\xbf") if decoded.encoding == "utf-8" else raw
    if decoded.encoding.startswith("utf-16"):
        body = raw[2:]
    # Nothing was replaced or dropped: the text gives back the very bytes.
    assert decoded.text.encode(decoded.encoding) == body
    if decoded.encoding == "cp1252":
        # Windows-1252 is chosen only for bytes that hold no UTF-8 character at all.
        assert not has_utf8_sequence(raw)
