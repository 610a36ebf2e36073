"""The scale-out shape on loopback, bounded: `python -m bench.cluster --quick` starts a primary,
a streaming replica, PgBouncer (transaction mode), two API instances and haproxy, runs the 40-way
budget race through haproxy, kills one instance during writes, and stops everything. Skipped,
saying what is missing, where Debian's postgresql-15, pgbouncer or haproxy are not installed.
The failover scenario (`--failover --quick`) also needs postgresql-15-auto-failover."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench import failover
from bench.cluster import missing_tools
from expense_api.config import PROJECT_ROOT

pytestmark = pytest.mark.cluster


@pytest.mark.timeout(600)
def test_cluster_quick_run_passes_its_checks():
    lacking = missing_tools()
    if lacking:
        pytest.skip("bench.cluster needs " + ", ".join(lacking) + " (.ci/run installs them)")
    result = subprocess.run(
        [sys.executable, "-m", "bench.cluster", "--quick"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=560,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "live HTTP tests through haproxy: 3 passed" in output
    assert "not prepared, PgBouncer" in output
    assert "0 lost" in output
    assert "replica (streaming)" in output
    assert "cluster: all checks passed" in output
    assert "Traceback" not in output


@pytest.mark.timeout(300)
def test_failover_quick_run_loses_no_acknowledged_write():
    """`python -m bench.cluster --failover --quick`: pg_auto_failover (a monitor, a primary and
    two synchronous standbys), the primary's node killed (SIGKILL) under write load through
    haproxy; 75-110 s here."""
    lacking = failover.missing_tools()
    if lacking:
        pytest.skip(
            "bench.cluster --failover needs " + ", ".join(lacking) + " (.ci/run installs them:"
            " postgresql-15-auto-failover brings pg_autoctl and the pgautofailover extension)"
        )
    result = subprocess.run(
        [sys.executable, "-m", "bench.cluster", "--failover", "--quick"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=280,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "synchronous_commit = on, synchronous_standby_names = ANY 1 (" in output
    assert " 0 lost, 0 twice; overspent 0; totals mismatches 0;" in output
    assert "0 writes without a final answer" in output
    assert ", 0 over 8 s, 0 other answers" in output
    assert "0 dates twice" in output and "0 unknown, 0 never received" in output
    assert "standbys after rejoin: caught up; race after rejoin: passed" in output
    assert "run 1: ok" in output
    assert "failover: all checks passed" in output
    assert "Traceback" not in output
