"""The framework internals the service overrides for speed, each measured against the library's
own code, in figures a loaded machine does not blur.

Wall-clock time on a shared two-core machine moves by tens of percent between identical runs, so
this measures what does not depend on the load:

- **instructions** (valgrind's callgrind) of an in-process loop: enforced writes and list reads
  through Flask's test client against a real database, or 4-statement Batches on one
  connection. Only the loop is counted (it runs inside libc's `qsort`, which callgrind is told to
  count: `--toggle-collect`), not the start-up or the warm-up. Each variant runs twice,
  alternating with the others, and both figures are printed;
- **socket writes** (strace) of the Batch loop.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python -m bench.overrides
    python -m bench.overrides --only pipeline      # the Batch loop alone
    python -m bench.overrides --url postgresql://...   # on a migrated database of your own

A variant named `-x` is the shipped code with override `x` replaced by the library's own code
(see VARIANTS); `shipped` is the code as it is. Prints figures; asserts nothing about speed.
An override that saves neither a round trip nor a socket write, nor 1% of the loop's
instructions, is noise: the library's own code is used instead (docs/BENCHMARKS.md, "Framework
overrides, measured", which also lists those removed and the commit to measure them at).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid

# What each variant undoes, in the measured process, before the app is built: the override is
# replaced by the library's own method or function.
VARIANTS = {
    "shipped": "the code as it is",
    "-send_once": "Batch on psycopg's own pipeline (conn.pipeline()), not SendOncePipeline",
    "-jwt_cache": "flask-jwt-extended's _decode_jwt_from_config, not CachingJWTManager's",
    "-jwt_headers": "flask-jwt-extended's get_unverified_jwt_headers, not the patched one",
    "-get_schema": "webargs' _get_schema (a schema instance per request), not JsonParser's",
}


def _undo(variant: str) -> None:
    if variant == "-send_once":
        from expense_api.db import pool as database

        database.send_once_pipeline = lambda conn: conn.pipeline()
    elif variant == "-jwt_cache":
        from flask_jwt_extended import JWTManager

        from expense_api.api.core.tokens import CachingJWTManager

        CachingJWTManager._decode_jwt_from_config = JWTManager._decode_jwt_from_config
    elif variant == "-jwt_headers":
        from flask_jwt_extended import view_decorators

        from expense_api.api.core import tokens

        view_decorators.get_unverified_jwt_headers = tokens._parse_unverified_headers
    elif variant == "-get_schema":
        from webargs.flaskparser import FlaskParser

        from expense_api.api.core.blueprint import JsonParser

        JsonParser._get_schema = FlaskParser._get_schema
    elif variant != "shipped":
        raise SystemExit(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")


def _counted(work) -> None:
    """Runs work() inside libc's qsort (as its comparator), so that callgrind, told
    `--collect-atstart=no --toggle-collect=qsort`, counts the instructions of work() alone."""
    libc = ctypes.CDLL(None)
    compare_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
    ran = []

    def compare(_a, _b):
        if not ran:  # qsort of two elements compares once; never run the work twice
            ran.append(True)
            work()
        return 0

    pair = (ctypes.c_int * 2)(1, 2)
    libc.qsort(pair, 2, ctypes.sizeof(ctypes.c_int), compare_type(compare))
    assert ran, "qsort did not call the comparator"


# --- The measured processes ----------------------------------------------------------------


def run_requests(url: str, variant: str, iterations: int) -> None:
    """Each iteration: an enforced write (POST /api/transactions under a budget) and a list read
    (GET /api/transactions), with a bearer token, through Flask's test client."""
    _undo(variant)
    from bench.common import UNLIMITED
    from expense_api.api.app import create_app
    from expense_api.config import load_settings

    settings = load_settings(
        {
            **UNLIMITED,
            "APP_ENV": "test",
            "JWT_SECRET_KEY": "bench-" + "k" * 40,
            "BCRYPT_ROUNDS": "4",
            "LOG_LEVEL": "WARNING",
            "WORKER": "off",
            "DB_POOL_MIN": "1",  # few connections: the server is shared
            "DB_POOL_MAX": "2",
        }
    )
    app = create_app(settings, url)
    client = app.test_client()
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    password = "correct horse battery staple"
    client.post("/api/auth/register", json={"name": "Bench", "email": email, "password": password})
    token = client.post("/api/auth/login", json={"email": email, "password": password}).get_json()
    auth = {"Authorization": f"Bearer {token['accessToken']}"}
    category = client.post("/api/categories", json={"name": "Food"}, headers=auth).get_json()["id"]
    budget = {"categoryId": category, "amount": "1000000", "month": 3, "year": 2026}
    assert client.post("/api/budgets", json=budget, headers=auth).status_code == 201
    expense = {"amount": "1.00", "type": "EXPENSE", "categoryId": category, "date": "2026-03-15"}

    def iteration():
        written = client.post("/api/transactions", json=expense, headers=auth)
        assert written.status_code == 201, written.get_json()
        listed = client.get("/api/transactions?limit=20&month=3&year=2026", headers=auth)
        assert listed.status_code == 200, listed.get_json()

    for _ in range(20):  # warm: prepared statements, caches, first-use imports
        iteration()

    def loop():
        for _ in range(iterations):
            iteration()

    _counted(loop)
    app.extensions["database"].close()


def run_batches(url: str, variant: str, iterations: int) -> None:
    """Each iteration: a Batch of four statements on one connection, in a transaction."""
    _undo(variant)
    import psycopg

    from expense_api.db.pool import Batch, begin_with_first_statement

    conn = psycopg.connect(url)
    begin_with_first_statement(conn)

    def iteration(i: int):
        with Batch(conn) as batch:
            cursors = [batch.cursor() for _ in range(4)]
            for cur in cursors:
                cur.execute("SELECT %s::int AS n", (i,))
        assert [cur.fetchone()["n"] for cur in cursors] == [i] * 4
        conn.commit()

    for i in range(20):
        iteration(i)

    def loop():
        for i in range(iterations):
            iteration(i)

    _counted(loop)
    conn.close()


LOOPS = {"requests": run_requests, "pipeline": run_batches}


# --- The driver ----------------------------------------------------------------------------


def _instructions(loop: str, url: str, variant: str, iterations: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "callgrind.out")
        command = [
            "valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=qsort*",
            f"--callgrind-out-file={out}", sys.executable, "-m", "bench.overrides",
            "--inner", loop, "--url", url, f"--variant={variant}", "--iterations", str(iterations),
        ]  # fmt: skip
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-3000:])
        with open(out) as profile:
            text = profile.read()
    totals = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
    if totals is None:
        raise RuntimeError("no totals in callgrind's output")
    return int(totals.group(1))


def _socket_writes(loop: str, url: str, variant: str, iterations: int) -> int:
    """sendto/sendmsg calls of the whole process (start-up and warm-up included: compare the
    variants' difference, which is the loop's)."""
    command = [
        "strace", "-f", "-qq", "-c", "-e", "trace=sendto,sendmsg,write", sys.executable, "-m",
        "bench.overrides", "--inner", loop, "--url", url, f"--variant={variant}",
        "--iterations", str(iterations), "--no-count",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    calls = 0
    for line in done.stderr.splitlines():
        fields = line.split()
        if fields and fields[-1] in ("sendto", "sendmsg"):
            calls += int(fields[3])
    return calls


def compare(loop: str, url: str, variants: list[str], iterations: int, unit: str) -> None:
    print(f"\n{loop}: {iterations} iterations ({unit}), instructions per iteration, 2 runs")
    figures: dict[str, list[int]] = {variant: [] for variant in variants}
    for _ in range(2):  # alternating: A, B, C, A, B, C
        for variant in variants:
            total = _instructions(loop, url, variant, iterations)
            figures[variant].append(total)
            print(f"  {variant:12} {total // iterations:>12,}", flush=True)
    base = figures["shipped"]
    for variant in variants:
        if variant == "shipped":
            continue
        runs = ", ".join(
            f"{(undone - shipped) / undone:+.2%}"
            for undone, shipped in zip(figures[variant], base, strict=True)
        )
        per = ", ".join(
            f"{(undone - shipped) // iterations:,}"
            for undone, shipped in zip(figures[variant], base, strict=True)
        )
        print(f"  {variant}: the override saves {per} instructions per iteration ({runs})")
    if shutil.which("strace"):
        writes = {variant: _socket_writes(loop, url, variant, iterations) for variant in variants}
        for variant in variants:
            extra = writes[variant] - writes["shipped"]
            print(
                f"  socket writes (strace, whole process) {variant}: {writes[variant]}"
                f" ({extra / iterations:+.2f} per iteration against shipped)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inner", choices=sorted(LOOPS), help=argparse.SUPPRESS)
    parser.add_argument("--url", help="a migrated database to use (default: a throwaway one)")
    parser.add_argument("--variant", default="shipped", help=argparse.SUPPRESS)
    parser.add_argument("--no-count", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--iterations", type=int, default=0)
    parser.add_argument("--only", choices=sorted(LOOPS))
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    args = parser.parse_args()
    if args.inner:
        if args.no_count:
            globals()["_counted"] = lambda work: work()
        LOOPS[args.inner](args.url, args.variant, args.iterations)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("needs valgrind (apt-get install valgrind)")
    from bench.common import bench_database

    database = contextlib.nullcontext(args.url) if args.url else bench_database()
    with database as url:
        variants = ["shipped", *[v for v in args.variants if v != "shipped"]]
        if args.only in (None, "requests"):
            loop_variants = variants
            n = args.iterations or 100
            compare("requests", url, loop_variants, n, "a POST and a GET each")
        if args.only in (None, "pipeline"):
            loop_variants = [v for v in variants if v in ("shipped", "-send_once")]
            n = args.iterations or 200
            compare("pipeline", url, loop_variants, n, "a Batch of 4 statements each")


if __name__ == "__main__":
    main()
