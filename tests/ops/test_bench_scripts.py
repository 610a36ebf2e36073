"""The write-path benchmark's pgbench scripts are made from sql/*.sql: a renamed query or a new
parameter must break this test, not the next benchmark run."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest

from bench.analytics_cache import _maker
from bench.common import server_env
from bench.write_path import expense_script, split_expense_script, summary_script
from expense_api.config import load_settings
from tests.factories import category, save


def _statements(script: str, values: dict[str, int]) -> list[str]:
    # Without pgbench's meta-commands (\set, \startpipeline, \endpipeline).
    body = "\n".join(line for line in script.splitlines() if not line.startswith("\\"))
    body = re.sub(
        r":(uid|lid|cid\d?|cents\d?|start|total)\b", lambda match: str(values[match.group(1)]), body
    )
    return [part.strip() for part in body.split(";\n") if part.strip()]


@pytest.mark.parametrize("make_script", [expense_script, split_expense_script, summary_script])
def test_a_pgbench_script_runs_against_the_schema(alice, database_url, make_script):
    food, home, gifts = category(alice), category(alice, "Home"), category(alice, "Gifts")
    today = datetime.now(UTC).date()  # the scripts write today
    assert save(alice, amount="1000", year=today.year, month=today.month).status_code == 201
    values = {"uid": alice.id, "lid": alice.ledger_id, "cid": food, "cents": 1234, "start": 0}
    # The split's lines: 12.34 + 1.00 + 0.05 in three categories.
    values |= {"cid1": food, "cid2": home, "cid3": gifts, "cents1": 1129, "cents2": 100}
    values |= {"cents3": 5, "total": 1234}
    # Pipelined as the API sends them (tests/db/test_round_trips.py): a write in two round
    # trips within BEGIN and COMMIT, a read in two without either.
    writes = make_script in (expense_script, split_expense_script)
    assert make_script().count("\\startpipeline") == make_script().count("\\endpipeline")
    assert make_script().count("\\startpipeline") == 2
    statements = _statements(make_script(), values)
    if writes:
        assert statements[0] == "BEGIN" and statements[-1].rstrip(";") == "COMMIT"
        statements = statements[1:-1]
    else:
        assert not {"BEGIN", "COMMIT;", "COMMIT"} & set(statements)
    with psycopg.connect(database_url) as conn:
        for statement in statements:
            conn.execute(statement)
        if writes:
            inserted = conn.execute(
                "SELECT amount, created_by, category_id FROM transactions WHERE ledger_id = %s",
                (alice.ledger_id,),
            ).fetchall()
            split = make_script is split_expense_script
            assert inserted == [(Decimal("12.34"), alice.id, None if split else food)]
            lines = conn.execute(
                "SELECT category_id, amount FROM transaction_splits WHERE ledger_id = %s"
                " ORDER BY line_no",
                (alice.ledger_id,),
            ).fetchall()
            expected = [(food, Decimal("11.29")), (home, Decimal("1.00")), (gifts, Decimal("0.05"))]
            assert lines == (expected if split else [])
            # The budget rule ran (the overall budget of 1000 is locked and passed) and the
            # change log has the new row's entry, rendered by the database.
            entry = conn.execute(
                "SELECT entity_id, after ->> 'amount' FROM ledger_changes"
                " WHERE ledger_id = %s AND entity = 'transaction'",
                (alice.ledger_id,),
            ).fetchall()
            assert entry == [
                (conn.execute("SELECT max(id) FROM transactions").fetchone()[0], "12.34")
            ]
            # The deferred check (lines summing exactly) runs at COMMIT: here, by hand.
            conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        conn.rollback()


def test_the_cache_benchmarks_requests_are_answered(alice):
    """bench/analytics_cache.py's request mix: every request it makes is a success."""
    food = category(alice)
    make = _maker([alice.tokens["accessToken"]], [food], write_percent=10)
    for index in range(100):
        method, path, body, headers = make(index)
        response = alice.client.open(path, method=method, json=body, headers=headers)
        assert response.status_code < 300, (method, path, response.get_json())


def test_the_benchmarks_servers_have_what_production_mode_requires():
    # Production refuses to start without its secrets; a benchmark's server must not.
    settings = load_settings(server_env("postgresql://127.0.0.1/bench"))
    assert settings.app_env == "production" and settings.webhook_secrets_key


def test_the_profile_benchmark_reads_py_spys_folded_stacks():
    from bench.profile import package_of, parse_folded, tally

    lines = [
        'process 7:"gunicorn";handle (/x/lib/python3.11/site-packages/gunicorn/workers/'
        "gthread.py:1);wait (/x/lib/python3.11/site-packages/psycopg/connection.py:9) 3\n",
        "handle (/x/lib/python3.11/site-packages/gunicorn/workers/gthread.py:1);"
        "post (/work/main/expense_api/api/transactions.py:5) 1\n",
        "\n",
    ]
    stacks = parse_folded(lines)
    assert [count for _, count in stacks] == [3, 1]
    figures = tally(stacks)
    assert figures["packages_inclusive"] == {"gunicorn": 4, "psycopg": 3, "expense_api": 1}
    assert figures["packages_self"] == {"psycopg": 3, "expense_api": 1}
    assert package_of("/usr/lib/python3.11/json/encoder.py") == "stdlib:json"


@pytest.mark.timeout(300)
def test_the_sync_benchmark_runs_at_a_small_size(admin_url, monkeypatch, capsys):
    """bench/sync.py end to end on a few thousand rows: its seeding, its gunicorn, its checks
    (every change in the delta once, every transaction of the paged state once) and its
    figures."""
    from bench import sync

    monkeypatch.setenv("BENCH_DATABASE_URL", admin_url)
    sync.main(["--transactions", "1500", "--full-state-transactions", "1200",
               "--changes", "12", "--requests", "5"])  # fmt: skip
    out = capsys.readouterr().out
    assert "full state of 1,200 transactions: 2 pages" in out
    assert re.search(r"worker peak RSS \d+ MiB", out)
    assert re.search(r"since K \(the 12 changed\): +p50 [0-9.]+ ms", out)


@pytest.mark.timeout(300)
def test_the_import_benchmark_runs_at_a_small_size(admin_url, monkeypatch, capsys):
    """bench/imports.py end to end on small files: its CSV and OFX read with every row new, then
    every row a duplicate (checked by the script), its figures, and the statements of a commit,
    counted from libpq's trace, the same at two sizes."""
    from bench import imports

    monkeypatch.setenv("BENCH_DATABASE_URL", admin_url)
    imports.main(["--csv-rows", "300", "--ofx-rows", "120", "--runs", "1",
                  "--statement-rows", "20"])  # fmt: skip
    out = capsys.readouterr().out
    assert re.search(r"^csv +300 .* \d+Mi +\d+Mi +\d+Mi +\d+Mi$", out, re.MULTILINE)
    assert re.search(r"^ofx +120 ", out, re.MULTILINE)
    counts = re.findall(r"commit of (\d+) CSV rows \(in process\): (\d+) statements", out)
    assert [size for size, _ in counts] == ["20", "200"]
    assert counts[0][1] == counts[1][1]
    assert "same statements at both sizes: yes" in out
    assert re.search(r"^  INSERT 0 200 +[0-9.]+ INSERT INTO transactions ", out, re.MULTILINE)


def test_the_import_benchmarks_statement_count_reads_libpqs_trace():
    """One statement per CommandComplete, named by the text its Parse or Query sent, a text
    over several lines included; a statement prepared before the count is named as such."""
    from bench.imports import Statements

    trace = (
        'F\t10\tQuery\t "BEGIN"\nB\t10\tCommandComplete\t "BEGIN"\nB\t5\tReadyForQuery\t T\n'
        'F\t40\tParse\t "" "INSERT INTO t\n  SELECT\tx FROM s" 1 23\n'
        'F\t22\tBind\t "" "" 1 1 1 2 \'\\x00\\x01\' 1 0\nF\t9\tExecute\t "" 0\n'
        'F\t28\tBind\t "" "_pg3_4" 0 0 1 0\nF\t9\tExecute\t "" 0\nF\t4\tSync\n'
        'B\t4\tParseComplete\nB\t4\tBindComplete\nB\t15\tCommandComplete\t "INSERT 0 7"\n'
        'B\t4\tBindComplete\nB\t13\tCommandComplete\t "SELECT 1"\nB\t5\tReadyForQuery\t T\n'
    )
    counted = Statements()
    counted.read_trace(trace)
    assert counted.items == [
        ("BEGIN", "BEGIN"),
        ("INSERT 0 7", "INSERT INTO t SELECT x FROM s"),
        ("SELECT 1", "(prepared before: _pg3_4)"),
    ]


@pytest.mark.timeout(300)
def test_the_rollover_benchmark_runs_at_a_small_size(admin_url, monkeypatch, capsys):
    """bench/rollover.py end to end at a small size: its seeding, its gunicorn, each variant's
    writes (refused writes would stop it), the budgets each locks and the months each reads."""
    from bench import rollover

    monkeypatch.setenv("BENCH_DATABASE_URL", admin_url)
    rollover.main(["--runs", "2", "--writes", "3", "--statements", "2", "--existing", "50"])
    out = capsys.readouterr().out
    assert len(re.findall(r"^run \d \(load average [0-9. ]+\): ", out, re.MULTILINE)) == 2
    last = r"chain of 12, write into the last month +[0-9.]+ ms +x[0-9.]+; per run [0-9., ]+: "
    assert re.search(last + r"median x[0-9.]+$", out, re.MULTILINE)
    assert "(2 budgets locked, 2 chain months read)" in out
    assert "(2 budgets locked, 24 chain months read)" in out
    assert "(24 budgets locked, 24 chain months read)" in out
    assert "hard budgets overspent: 0" in out
