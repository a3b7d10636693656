"""A CSV export's bytes as text, and its delimiter: what platforms and spreadsheets (French Excel above all) write.

Pure: bytes in, text out. In automatic mode the encoding is decided from the bytes, never guessed silently:
UTF-8 (with or without Excel's byte-order mark) first; UTF-16 when the file starts with its byte-order mark
(Excel's "Unicode text"); Windows-1252 (cp1252, what Excel in French writes for "CSV (séparateur:
point-virgule)") only when the file is not UTF-8 and holds no UTF-8 sequence at all, since a file with both
has no single right reading. Whatever is chosen, text with control characters is refused: no export has any,
so they betray a wrong reading or a file that is not text. A problem is a `TextError` carrying a readable
version of the text and the character where it is, so the caller can name the line and the column.
"""

from __future__ import annotations

import codecs
import csv
import enum
import io
import re
from collections.abc import Collection
from dataclasses import dataclass

AUTO = "auto"
DELIMITERS = (",", ";", "\t")

_WORKBOOKS = ((b"PK\x03\x04", "xlsx or ods"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls"))
_BOMS = (
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
# A well-formed UTF-8 sequence of two to four bytes (RFC 3629 table 3-7).
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
# C0 controls except tab, line feed and carriage return; DEL; C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Decoded:
    """The export as text and the encoding it was read in."""

    text: str
    encoding: str


class TextProblem(enum.Enum):
    """Why bytes are not read as text; the caller words it for staff."""

    WORKBOOK = "workbook"  # kind
    NUL = "nul"
    UNDECODABLE = "undecodable"  # byte
    BAD_BOM = "bad_bom"  # encoding, byte
    MIXED = "mixed"  # utf8_line
    CONTROL = "control"  # char, encoding
    EXPLICIT = "explicit"  # encoding, byte


class TextError(ValueError):
    """Bytes that are not text in a readable encoding: what is wrong (`kind`, `params`) and where.

    `text` is the file read leniently (bad bytes replaced) and `index` the character in it where the problem
    is, or None when the whole file is the problem.
    """

    def __init__(self, kind: TextProblem, params: dict[str, object], text: str = "", index: int | None = None) -> None:
        super().__init__(kind.value)
        self.kind = kind
        self.params = params
        self.text = text
        self.index = index


def decode_export(raw: bytes, encoding: str = AUTO) -> Decoded:
    """Read an export's bytes as text: in `encoding`, or detected when it is `auto`; raise TextError otherwise."""
    for magic, kind in _WORKBOOKS:
        if raw.startswith(magic):
            raise TextError(TextProblem.WORKBOOK, {"kind": kind})
    if encoding != AUTO:
        text = _strict(raw, encoding, TextProblem.EXPLICIT, {"encoding": encoding})
        return _checked(text.removeprefix("\ufeff"), encoding)
    for bom, codec, name in _BOMS:
        if raw.startswith(bom):
            return _checked(_strict(raw[len(bom) :], codec, TextProblem.BAD_BOM, {"encoding": name}), codec)
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise TextError(TextProblem.NUL, {}, *_lenient(raw, "utf-8", nul))
    try:
        return _checked(raw.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    sequence = _UTF8_SEQUENCE.search(raw)
    if sequence is not None:
        utf8_line = raw.count(b"\n", 0, sequence.start()) + 1
        raise TextError(TextProblem.MIXED, {"utf8_line": utf8_line}, *_lenient(raw, "utf-8", first_bad))
    return _checked(_strict(raw, "cp1252", TextProblem.UNDECODABLE, {}), "cp1252")


def _strict(raw: bytes, encoding: str, kind: TextProblem, params: dict[str, object]) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        byte = f"0x{raw[exc.start]:02X}"
        raise TextError(kind, {**params, "byte": byte}, *_lenient(raw, encoding, exc.start)) from None


def _lenient(raw: bytes, encoding: str, offset: int) -> tuple[str, int]:
    """The whole file read with bad bytes replaced, and the character index of byte `offset` in it."""
    text = raw.decode(encoding, errors="replace")
    index = len(raw[:offset].decode(encoding, errors="replace"))
    return text, index


def _checked(text: str, encoding: str) -> Decoded:
    control = _CONTROL.search(text)
    if control is not None:
        char = f"U+{ord(control.group()):04X}"
        raise TextError(TextProblem.CONTROL, {"char": char, "encoding": encoding}, text, control.start())
    return Decoded(text, encoding)


def sniff_delimiter(text: str, wanted: Collection[str]) -> str:
    """The delimiter (`,` `;` or tab) with which the header holds the most `wanted` columns, then the most fields."""

    def score(delimiter: str) -> tuple[int, int]:
        try:
            header = next(csv.reader(io.StringIO(text[:65536], newline=""), delimiter=delimiter), [])
        except csv.Error:
            return (0, 0)
        names = {name.strip() for name in header}
        return (sum(1 for column in wanted if column in names), len(header))

    return max(DELIMITERS, key=score)


def locate(text: str, index: int, delimiter: str) -> tuple[int, str | None]:
    """The line (1-based, as in the file) of character `index`, and the header name of the cell holding it.

    The column is None when the character is in the header itself, or the CSV around it cannot be read.
    """
    line = text.count("\n", 0, index) + 1
    marker = next(chr(c) for c in range(0xE000, 0xF900) if chr(c) not in text)
    marked = text[:index] + marker + text[index + 1 :]
    reader = csv.reader(io.StringIO(marked, newline=""), delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader, [])]
        if any(marker in name for name in header):
            return line, None
        for record in reader:
            if reader.line_num < line:
                continue
            for position, cell in enumerate(record):
                if marker in cell:
                    return line, header[position] if position < len(header) else None
            break
    except csv.Error:
        pass
    return line, None
