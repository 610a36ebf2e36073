"""domain/ratefiles: the ECB's eurofxref-hist.csv layout read, and converted to a ledger's rates
exactly (12 significant digits, half up, one rounding); every hostile file a clear error with
its line, never another exception."""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expense_api.domain import ratefiles
from expense_api.domain.bankfiles import UnreadableFile
from expense_api.domain.currencies import divide
from expense_api.domain.ratefiles import MissingCurrency, convert, read

SAMPLE = (Path(__file__).parent / "files" / "eurofxref-hist-sample.csv").read_bytes()
KNOWN = frozenset({"USD", "JPY", "GBP", "INR", "CHF", "KWD", "EUR"})


def rates_of(data: bytes, currency: str) -> dict[tuple[str, str], str]:
    return {
        (rate.currency, rate.day.isoformat()): format(rate.rate, "f")
        for rate in convert(read(data, KNOWN), currency)
    }


def test_the_sample_is_read_in_any_date_order_with_no_values_left_out():
    file = read(SAMPLE, KNOWN)
    assert file.currencies == ("USD", "JPY", "GBP", "INR", "CHF")
    assert file.skipped == ("CYP",)  # a withdrawn currency's column: read and skipped
    assert sorted(file.days) == [
        date(2003, 1, 2), date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)
    ]  # fmt: skip
    assert file.days[date(2026, 3, 3)] == {
        "USD": Decimal("1.08"), "GBP": Decimal("0.8433"), "INR": Decimal("89.9"),
        "CHF": Decimal("0.9561"),
    }  # fmt: skip


def test_an_eur_ledger_gets_each_value_inverted():
    rates = rates_of(SAMPLE, "EUR")
    assert rates[("USD", "2026-03-04")] == "0.922339051835"  # 1 / 1.0842, 12 digits, half up
    assert rates[("JPY", "2026-03-02")] == "0.00617665225448"
    assert rates[("USD", "2026-03-03")] == "0.925925925926"
    assert ("JPY", "2026-03-03") not in rates  # N/A: no rate
    assert ("EUR", "2026-03-03") not in rates
    assert len(rates) == 4 + 3 + 4 + 2 + 4


def test_a_ledger_in_a_file_currency_is_converted_through_eur():
    rates = rates_of(SAMPLE, "USD")
    assert rates[("EUR", "2026-03-04")] == "1.0842"  # the file's own value
    assert rates[("GBP", "2026-03-04")] == "1.28292509762"  # 1.0842 / 0.8451
    assert rates[("JPY", "2026-03-02")] == "0.00668004941322"
    assert ("USD", "2026-03-04") not in rates  # never the ledger's own currency
    inr = rates_of(SAMPLE, "INR")
    # Days without an INR value give no rates at all.
    assert {day for _currency, day in inr} == {"2026-03-02", "2026-03-03"}
    assert inr[("USD", "2026-03-02")] == "82.9602404068"


def test_a_ledger_currency_the_file_lacks():
    with pytest.raises(MissingCurrency, match="no KWD column"):
        convert(read(SAMPLE, KNOWN), "KWD")


def test_bom_crlf_lf_and_a_header_without_trailing_column():
    plain = b"Date,USD,JPY\n2026-03-02,1.0815,161.9\n"
    assert read(b"\xef\xbb\xbf" + plain, KNOWN).days == read(plain, KNOWN).days
    assert read(plain.replace(b"\n", b"\r\n"), KNOWN).days == read(plain, KNOWN).days
    spaced = b"Date, USD, JPY,\n2026-03-02, 1.0815, 161.9,\n"  # the daily file's spacing
    assert read(spaced, KNOWN).days == read(plain, KNOWN).days


@pytest.mark.parametrize(
    ("data", "line", "why"),
    [
        (b"", 1, "empty"),
        (b"Datum,USD\n2026-03-02,1.1\n", 1, "header"),
        (b"Date\n2026-03-02\n", 1, "no currency"),
        (b"Date,USD,USD\n", 1, "twice"),
        (b"Date,USD,XYZ\n", 1, "not an ISO 4217"),
        (b"Date,USD,,JPY\n", 1, "not an ISO 4217"),
        (b"Date,EUR\n", 1, "EUR column"),
        (b"Date,USD\n2026-03-02,1.1\n2026-02-30,1.1\n", 3, "not a date"),
        (b"Date,USD\n02/03/2026,1.1\n", 2, "not a date"),
        (b"Date,USD\n1899-12-31,1.1\n", 2, "1900-2999"),
        (b"Date,USD\n2026-03-02,1.1\n\n2026-03-02,1.2\n", 4, "again (first at line 2)"),
        (b"Date,USD\n2026-03-02,1,1e3\n", 2, "2 values"),
        (b"Date,USD\n2026-03-02,1e3\n", 2, "exponent"),
        (b"Date,USD\n2026-03-02,-1.1\n", 2, "greater than zero"),
        (b"Date,USD\n2026-03-02,0\n", 2, "greater than zero"),
        (b"Date,USD\n2026-03-02,0.000\n", 2, "greater than zero"),
        (b"Date,USD\n2026-03-02,1.0842abc\n", 2, "decimal"),
        (b"Date,USD\n2026-03-02,1.23456789012345\n", 2, "significant digits"),
        (b'Date,USD\n2026-03-02,"1.1\n', 2, "comma-separated"),
        (b"Date,USD\n2026-03-02,1.1\n\xff\xfe,1\n", 3, "UTF-8"),
        (b"Date,USD\n2026-03-02,1.1\x00\n", 2, "control character"),
        (b"Date,USD\n" + b"2026-03-02," + b"1" * 5000 + b"\n", 2, "longer than"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", 1, "UTF-8"),
        (b"<?xml version='1.0'?><a/>", 1, "header"),
    ],
)
def test_hostile_and_broken_files_name_their_line(data, line, why):
    with pytest.raises(UnreadableFile) as caught:
        read(data, KNOWN)
    assert caught.value.where == line
    assert why in caught.value.why


def test_too_many_days_and_columns(monkeypatch):
    monkeypatch.setattr(ratefiles, "MAX_DAYS", 3)
    lines = [b"Date,USD"] + [f"2026-03-{day:02d},1.1".encode() for day in range(1, 6)]
    with pytest.raises(UnreadableFile, match="More than 3 days") as caught:
        read(b"\n".join(lines), KNOWN)
    assert caught.value.where == 5
    monkeypatch.setattr(ratefiles, "MAX_COLUMNS", 2)
    with pytest.raises(UnreadableFile, match="More than 2 currency columns"):
        read(b"Date,USD,JPY,GBP\n", KNOWN)


def test_a_derived_rate_out_of_range_names_its_line():
    data = b"Date,USD,JPY\n2026-03-02,1000,0.0000001\n"
    with pytest.raises(UnreadableFile, match="JPY") as caught:
        convert(read(data, KNOWN), "USD")
    assert caught.value.where == 2


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_bytes_are_read_or_refused_never_a_crash(data):
    with contextlib.suppress(UnreadableFile, MissingCurrency):
        convert(read(b"Date,USD,JPY\n" + data, KNOWN), "USD")


def _twelve_half_up(exact: Fraction) -> Fraction:
    """exact (> 0) kept to 12 significant digits, half up, by integer arithmetic."""
    exponent = 0
    while exact >= 10**12:
        exact, exponent = exact / 10, exponent + 1
    while exact < 10**11:
        exact, exponent = exact * 10, exponent - 1
    whole = int(exact)
    if exact - whole >= Fraction(1, 2):
        whole += 1
    return Fraction(whole) * Fraction(10) ** exponent


_values = st.decimals(
    min_value=Decimal("0.0001"), max_value=Decimal("99999"), places=4, allow_nan=False
).filter(lambda value: value > 0)


@given(_values, _values)
@settings(max_examples=500, deadline=None)
def test_divide_is_the_exact_quotient_to_12_significant_digits_half_up(a, b):
    assert Fraction(divide(a, b)) == _twelve_half_up(Fraction(a) / Fraction(b))


@given(st.lists(_values, min_size=2, max_size=4, unique=True))
@settings(max_examples=200, deadline=None)
def test_file_rates_are_the_exact_quotients(values):
    codes = ["USD", "JPY", "GBP", "CHF"][: len(values)]
    data = ("Date," + ",".join(codes) + "\n2026-03-02," + ",".join(map(str, values))).encode()
    for ledger in ["EUR", *codes]:
        numerator = Fraction(1) if ledger == "EUR" else Fraction(values[codes.index(ledger)])
        for rate in convert(read(data, KNOWN), ledger):
            if rate.currency == "EUR":
                assert Fraction(rate.rate) == numerator
            else:
                value = Fraction(values[codes.index(rate.currency)])
                assert Fraction(rate.rate) == _twelve_half_up(numerator / value)
