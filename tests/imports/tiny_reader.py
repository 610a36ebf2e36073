"""A tiny bank-file reader for the tests of the imports' HTTP layer and their change-log
scenarios: `date,amount,payee[,bank id]` lines, behind the interface of the real readers
(domain/bankfiles/reading.py, other work), put where the service imports them from."""

from __future__ import annotations

import sys
import types
from datetime import date
from decimal import Decimal

from expense_api.domain import bankfiles

READING = "expense_api.domain.bankfiles.reading"


def tiny_module(calls: list) -> types.ModuleType:
    """A reader of `date,amount,payee[,bank id]` lines, with the readers' interface; a few
    first lines make it refuse the file as the real readers would."""
    module = types.ModuleType(READING)

    class UnknownFormat(bankfiles.UnreadableFile):
        pass

    def read(data: bytes, options: bankfiles.Options) -> bankfiles.ParsedFile:
        calls.append(options)
        lines = data.decode("utf-8").splitlines()
        if lines and lines[0] == "NOPE":
            raise UnknownFormat("Not a bank file of a known format.")
        if lines and lines[0] == "Datum;Betrag" and options.mapping is None:
            raise bankfiles.NeedsMapping("No date column found.", ["Datum", "Betrag"])
        if lines and lines[0] == "EXPLODE":
            raise RuntimeError("a reader's bug")
        rows = []
        for number, text in enumerate(lines, 1):
            if text == "BROKEN":
                raise bankfiles.UnreadableFile("An unclosed quote.", number)
            if text.startswith("Datum"):
                continue
            day, amount, payee, *bank = text.split(",")
            rows.append(
                bankfiles.Row(
                    line=number,
                    date=date.fromisoformat(day),
                    amount=Decimal(amount),
                    payee=payee,
                    bank_id=bank[0] if bank else None,
                )
            )
        return bankfiles.ParsedFile(format=options.format or "csv", rows=rows)

    module.UnknownFormat = UnknownFormat
    module.read = read
    module.detect = lambda data, file_name=None: "csv"
    return module


def install(monkeypatch) -> list:
    """The tiny reader in place of the real ones for the test; the options of each read."""
    calls: list = []
    monkeypatch.setitem(sys.modules, READING, tiny_module(calls))
    return calls
