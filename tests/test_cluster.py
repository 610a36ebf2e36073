"""The scale-out shape on loopback, bounded: `python -m bench.cluster --quick` starts a primary,
a streaming replica, PgBouncer (transaction mode), two API instances and haproxy, runs the 40-way
budget race through haproxy, kills one instance during writes, and stops everything. Skipped,
saying what is missing, where Debian's postgresql-15, pgbouncer or haproxy are not installed."""

from __future__ import annotations

import subprocess
import sys

import pytest

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
