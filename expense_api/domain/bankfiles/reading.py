"""Which format a bank file is (`detect`), and reading it with that format's parser (`read`).

The content decides: an OFX header or root, a CAMT.053 namespace on the XML root, MT940's
`:20:` with `:61:`/`:60F:` tags or its `{1:` block, a QIF `!Type:`/`!Account` line, else
delimited text is CSV. The file name's extension only breaks a tie, or names the format of a
text file whose content says nothing (its parser then says what is wrong with it). Bytes that
are not text are UnknownFormat, whatever the name.
"""

from __future__ import annotations

import csv
import importlib
import re

from expense_api.domain.bankfiles import (
    FORMATS,
    MAX_BYTES,
    Options,
    ParsedFile,
    UnreadableFile,
)
from expense_api.domain.bankfiles.text import decode, refuse_binary

HEAD = 64 * 1024  # bytes looked at
MODULES = {"csv": "csvfile"}
EXTENSIONS = {
    "csv": "csv", "tsv": "csv", "ofx": "ofx", "qfx": "ofx", "qif": "qif", "camt": "camt053",
    "053": "camt053", "xml": "camt053", "sta": "mt940", "mt940": "mt940", "940": "mt940",
}  # fmt: skip
_OFX = re.compile(r"\A\s*OFXHEADER\s*:|<\?OFX\b|<OFX>", re.IGNORECASE)
_XML_ROOT = re.compile(
    r"\A\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<([^\s>!?/]+)([^>]*)>", re.S
)
_MT940_BLOCK = re.compile(r"\A\s*\{1:")
_MT940_TAGS = (re.compile(r"^:20:", re.M), re.compile(r"^:(?:61|60F|60M):", re.M))
_QIF = re.compile(r"^\s*!(?:Type:|Account)", re.M | re.IGNORECASE)


class UnknownFormat(UnreadableFile):
    """Neither the content nor the name says which format: 422 `unknown_format`."""


def _extension(file_name: str | None) -> str | None:
    if not file_name or "." not in file_name:
        return None
    return EXTENSIONS.get(file_name.rsplit(".", 1)[1].strip().lower())


def _looks_delimited(text: str) -> bool:
    sample = [line for line in text.splitlines()[:20] if line.strip()]
    if not sample:
        return False
    for delimiter in (",", ";", "\t", "|"):
        try:
            widths = [len(cells) for cells in csv.reader(sample, delimiter=delimiter)]
        except csv.Error:
            continue
        if min(widths) > 1 or (len(widths) > 2 and sum(w > 1 for w in widths) >= len(widths) * 0.8):
            return True
    return False


def detect(data: bytes, file_name: str | None = None) -> str:
    """One of FORMATS; UnknownFormat when neither the content nor the name says."""
    head = data[:HEAD]
    try:
        text = decode(head)
        refuse_binary(text)
    except UnreadableFile:
        raise UnknownFormat("not a text file: no bank file format reads it", 1) from None
    found = []
    if _OFX.search(text):
        found.append("ofx")
    root = _XML_ROOT.match(text)
    if root and "camt.053" in root[2] and "ofx" not in found:
        found.append("camt053")
    if _MT940_BLOCK.match(text) or all(tag.search(text) for tag in _MT940_TAGS):
        found.append("mt940")
    if _QIF.search(text):
        found.append("qif")
    named = _extension(file_name)
    if named in found:
        return named
    if found:
        return found[0]
    if root is None and _looks_delimited(text):
        return "csv"
    if named:
        return named
    raise UnknownFormat("the format is not recognized: send format", 1)


def read(data: bytes, options: Options) -> ParsedFile:
    """The file read by its format's parser (`options.format`, else detected)."""
    if len(data) > MAX_BYTES:
        raise UnreadableFile(f"larger than {MAX_BYTES} bytes")
    name = options.format or detect(data, options.file_name)
    if name not in FORMATS:
        raise UnknownFormat(f"unknown format {name!r}")
    module = importlib.import_module(f"expense_api.domain.bankfiles.{MODULES.get(name, name)}")
    parsed = module.parse(data, options)
    assert isinstance(parsed, ParsedFile)
    return parsed
