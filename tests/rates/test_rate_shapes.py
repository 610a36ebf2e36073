"""A rate's change-log images, rendered by the database (sql/changes.sql, record_rates), are the
ones Python renders (services/changes/shapes.py "rate") and REST's own answer, on rates whose
written form has trailing zeros, many fraction digits or none."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from expense_api.api.schemas.rates import RateSchema
from expense_api.services.changes import shapes


@pytest.mark.parametrize(
    "rate",
    ["1.5000", "150", "150.0", "0.000123400", "0.00000001", "999999999.999", "12345678.9012"],
)
def test_sql_images_equal_python_and_rest(alice, conn, rate):
    response = alice.request(
        "PUT",
        f"/api/ledgers/{alice.ledger_id}/rates/EUR",
        json={"items": [{"date": "2026-03-02", "rate": rate}]},
    )
    if Decimal(rate) >= 10**9 or len(Decimal(rate).normalize().as_tuple().digits) > 12:
        assert response.status_code == 422
        return
    assert response.status_code == 200, response.get_json()
    [shown] = response.get_json()["items"]
    after = conn.execute(
        "SELECT after FROM ledger_changes WHERE ledger_id = %s AND entity = 'rate'"
        " ORDER BY id DESC LIMIT 1",
        (alice.ledger_id,),
    ).fetchone()[0]
    row = {"currency": "EUR", "day": date(2026, 3, 2), "rate": Decimal(rate)}
    assert after == shown == shapes.render("rate", row, "USD")
    listed = alice.get(f"/api/ledgers/{alice.ledger_id}/rates").get_json()["items"]
    assert listed == [shown]


def test_the_rate_schema_has_the_shapes_keys_in_its_order():
    assert list(RateSchema().fields) == [key for key, _column, _kind in shapes.SHAPES["rate"]]
