"""Bytes to text for the OFX and MT940 parsers, whatever the file says about its charset.

The rule, safe for a header that lies: bytes that are valid UTF-8 are read as UTF-8, whatever
the header claims (a Windows-1252 or Latin-1 text with accented letters is almost never valid
UTF-8, so this does not misread a real single-byte file). Bytes that are not valid UTF-8 are read
with the single-byte charset the header names, Windows-1252 when it names UTF-8 (it lied) or
nothing we know. Windows-1252 leaves five bytes undefined: those become U+FFFD. Every departure
from what the header said is a warning of the ParsedFile; none is an error.
"""

from __future__ import annotations

_SINGLE_BYTE = {
    "1252": "cp1252",
    "CP1252": "cp1252",
    "WINDOWS-1252": "cp1252",
    "ISO-8859-1": "latin-1",
    "ISO8859-1": "latin-1",
    "8859-1": "latin-1",
    "LATIN1": "latin-1",
    "LATIN-1": "latin-1",
    "ISO-8859-15": "iso8859-15",
    "ISO-8859-2": "iso8859-2",
    "1250": "cp1250",
    "WINDOWS-1250": "cp1250",
}
_UTF8 = {"UTF-8", "UTF8", "CSUTF8", "65001"}


def decode(raw: bytes, declared: str | None, warnings: list[str]) -> str:
    """The text of `raw`; `declared` is the charset the file names (None: it names none)."""
    name = (declared or "").strip().upper()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        codec = _SINGLE_BYTE.get(name, "cp1252")
        if name in _UTF8:
            warnings.append(
                f"the file says UTF-8 but byte {error.start} is not UTF-8: read as Windows-1252"
            )
        elif name and name not in _SINGLE_BYTE and name not in ("NONE", "USASCII", "US-ASCII"):
            warnings.append(f"unknown charset {name[:20]!r}: read as Windows-1252")
        text = raw.decode(codec, errors="replace")
        if "\ufffd" in text:
            warnings.append("bytes undefined in the charset were replaced by U+FFFD")
        return text
    if name and name not in _UTF8 and not raw.isascii():
        warnings.append(f"the file says {name[:20]} but its bytes are UTF-8: read as UTF-8")
    return text
