"""The text formats' common ground (CSV, QIF): bytes to text in the encodings the contract lists,
and the limits that keep a hostile file from costing more than a small multiple of its size.

Encoding, unless the caller names one: UTF-8 (a BOM is dropped) when the bytes are valid UTF-8,
which a Windows-1252 or Latin-1 text with any accented letter almost never is; else
Windows-1252, unless the bytes use one of its five unassigned codes, then ISO-8859-1 (which
assigns every byte). A text file never holds a NUL byte: one means binary or UTF-16, refused.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator

from expense_api.domain.bankfiles import UnreadableFile

MAX_LINE = 128 * 1024  # characters in one physical line (csv's own field limit is the same)
MAX_ROWS = 200_000  # rows of one file: about 100 MB of parsed rows at ~500 bytes each
_CP1252_UNASSIGNED = frozenset(b"\x81\x8d\x8f\x90\x9d")
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\x1a")  # \x1a: the DOS end-of-file mark some banks add


def decode(data: bytes, encoding: str | None = None) -> str:
    """The file's text. `encoding` (a client's `mapping.encoding`) is used as given."""
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise UnreadableFile(
            "a NUL byte: a binary file, or a text encoding (UTF-16?) not read", line
        )
    if encoding:
        try:
            codec = codecs.lookup(encoding)
        except LookupError:
            raise UnreadableFile(f"unknown encoding {encoding!r}") from None
        try:
            text = data.decode(codec.name)
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            raise UnreadableFile(f"not valid {encoding}", line) from None
        return text.removeprefix("\ufeff")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        pass
    if _CP1252_UNASSIGNED.isdisjoint(data):
        return data.decode("cp1252")
    return data.decode("latin-1")


def refuse_binary(text: str) -> None:
    """Refuse text whose start is mostly control characters: bytes, not a bank's text file."""
    head = text[:65536]
    controls = sum(1 for char in head if char < " " and char not in _ALLOWED_CONTROLS)
    if controls > max(8, len(head) // 100):
        raise UnreadableFile("control characters throughout: a binary file, not text", 1)


def lines(text: str) -> Iterator[str]:
    """The physical lines (ends kept, as csv.reader wants them), refusing one longer than
    MAX_LINE before anything splits it into fields."""
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        if len(line) > MAX_LINE:
            raise UnreadableFile(f"a line longer than {MAX_LINE} characters", number)
        yield line
